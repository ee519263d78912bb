"""Where moto 5.2.5 answers differently from AWS for the calls terraform makes: each gap, fixed here.

``apply(data_dir=...)`` patches moto inside the emulator process (``provisioner.local_aws.launcher``).
The product's resource definitions never change to please the emulator. Each patch is small, names
the gap in its docstring (``gap -> fix``) and is tested in ``tests/local_aws/test_compat.py``
(``patched()`` applies them for a block and restores moto afterwards). They are written against
the pinned moto version: ``apply()`` refuses another one, so an upgrade re-checks every gap
instead of patching code that has moved.

``data_dir`` is the emulator's folder of local pipeline executions (``pipeline_records``).

Known and left alone: ``aws_s3_bucket_lifecycle_configuration`` takes ~55 s to create. That is the
AWS provider's own consistency wait (10 s, then 10 identical reads 5 s apart), the same against
AWS; moto already reads back exactly what was written, so nothing here can shorten it.
"""

from __future__ import annotations

import inspect
import tempfile
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

MOTO_VERSION = "5.2.5"

_originals: list[tuple[object, str, object]] = []
_ABSENT = object()
"""What ``_originals`` remembers for a method moto does not have: ``undo()`` removes it again."""
_data_dir: Path | None = None


def apply(data_dir: Path) -> list[str]:
    """Patch moto in this process (once), executions read from ``data_dir``; returns one line per patch: ``gap -> fix``."""
    global _data_dir
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"provisioner.local_aws.compat is written for moto {MOTO_VERSION}, found {moto.__version__}")
    _data_dir = Path(data_dir)
    if not _originals:
        for patch in PATCHES:
            patch()
    return describe()


def describe() -> list[str]:
    return [" ".join((patch.__doc__ or patch.__name__).split()) for patch in PATCHES]


def undo() -> None:
    """Put moto back as it was before ``apply()``."""
    while _originals:
        owner, name, original = _originals.pop()
        if original is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


@contextmanager
def patched(data_dir: Path | None = None) -> Iterator[Path]:
    """moto with the patches for the block (tests), executions read from ``data_dir`` (a temporary folder
    unless given, yielded); moto and the data directory are restored afterwards."""
    global _data_dir
    already, previous = bool(_originals), _data_dir
    with nullcontext(data_dir) if data_dir is not None else tempfile.TemporaryDirectory() as folder:
        apply(data_dir=Path(folder))
        try:
            yield Path(folder)
        finally:
            _data_dir = previous
            if not already:
                undo()


def _replace(owner: object, name: str, value: object) -> None:
    _originals.append((owner, name, inspect.getattr_static(owner, name, _ABSENT)))
    setattr(owner, name, value)


# --------------------------------------------------------------------------------------------
# The patches
# --------------------------------------------------------------------------------------------
def codebuild_codepipeline_locations() -> None:
    """CodeBuild CreateProject demands a location for CODEPIPELINE source and artifacts -> none needed, as in AWS."""
    from moto.codebuild import responses

    def allow_codepipeline(validate: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        def validated(params: dict[str, Any]) -> None:
            if params.get("type") == "CODEPIPELINE" and not params.get("location"):
                params = {**params, "location": "CODEPIPELINE"}  # validated only; the project keeps no location
            validate(params)

        return validated

    _replace(responses, "_validate_required_params_source", allow_codepipeline(responses._validate_required_params_source))
    _replace(responses, "_validate_required_params_artifacts", allow_codepipeline(responses._validate_required_params_artifacts))


def codebuild_encryption_key() -> None:
    """CodeBuild CreateProject ignores encryptionKey and reports alias/aws/s3 (a diff on every plan) -> keeps the key given."""
    from moto.codebuild.responses import CodeBuildResponse

    create_project = CodeBuildResponse.create_project

    def create_project_with_key(self: CodeBuildResponse) -> Any:
        result = create_project(self)
        if key := self._get_param("encryptionKey"):
            self.codebuild_backend.codebuild_projects[self._get_param("name")].project_metadata["encryptionKey"] = key
        return result

    _replace(CodeBuildResponse, "create_project", create_project_with_key)


def codepipeline_epoch_timestamps() -> None:
    """CodePipeline GetPipeline/ListPipelines give created/updated as ISO strings (the Go SDK fails: "expected Timestamp to be a JSON Number") -> epoch seconds."""
    from moto.codepipeline.models import CodePipeline

    def metadata(self: CodePipeline) -> dict[str, Any]:
        return {"pipelineArn": self._arn, "created": _epoch(self._created), "updated": _epoch(self._updated)}

    _replace(CodePipeline, "metadata", property(metadata))


def policy_conditions_hold_or_do_not_apply() -> None:
    """Bucket policies: moto treats a Condition it cannot evaluate as met and a failed one as an explicit deny, so "deny unless TLS" answers every object request 403 -> such a statement does not apply."""
    # IAM semantics: a statement applies only when all its conditions hold, and a condition on a key
    # the request does not carry does not hold. moto supplies no condition keys for S3 requests and
    # evaluates only StringEquals; here, a condition it cannot verify never holds and a statement whose
    # conditions do not hold is neutral. The emulator then answers as AWS does for a TLS request that
    # bypasses no condition: the deny-insecure-transport and deny-unencrypted-upload statements do not fire.
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.iam.policy_conditions import CONDITION_OPERATIONS

    is_action_permitted = IAMPolicyStatement.is_action_permitted

    def conditions_hold(self: IAMPolicyStatement, incoming: dict[str, str] | None) -> bool:
        for operator, expected in (self._statement.get("Condition") or {}).items():
            check = CONDITION_OPERATIONS.get(operator)
            for key, value in expected.items():
                if check is None or not incoming or key not in incoming or not check(value, incoming[key]):
                    return False
        return True

    def applies_only_when_conditions_hold(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        if not conditions_hold(self, incoming_condition_values):
            return PermissionResult.NEUTRAL
        return is_action_permitted(self, action, resource, principal, incoming_condition_values)

    _replace(IAMPolicyStatement, "_check_conditions", conditions_hold)
    _replace(IAMPolicyStatement, "is_action_permitted", applies_only_when_conditions_hold)


def sqs_compact_redrive_policy() -> None:
    """SQS GetQueueAttributes gives RedrivePolicy as JSON with spaces (the provider then plans a change on every run) -> compact JSON, as AWS gives it."""
    import json

    from moto.sqs.models import Queue

    attributes = Queue.attributes

    def compact(self: Queue) -> dict[str, Any]:
        result = attributes.fget(self)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    _replace(Queue, "attributes", property(compact))



def _epoch(moment: datetime) -> float:
    # moto keeps naive datetimes in UTC.
    return moment.replace(tzinfo=timezone.utc).timestamp()


PATCHES: tuple[Callable[[], None], ...] = (
    codebuild_codepipeline_locations,
    codebuild_encryption_key,
    codepipeline_epoch_timestamps,
    policy_conditions_hold_or_do_not_apply,
    sqs_compact_redrive_policy,
)
