"""Where moto 5.2.5 answers differently from AWS for the calls terraform makes: each gap, fixed here.

``apply(data_dir=...)`` patches moto inside the emulator process (``provisioner.local_aws.launcher``).
The product's resource definitions never change to please the emulator. Each patch is small, names
the gap in its docstring (``gap -> fix``) and is tested in ``tests/local_aws/test_compat.py``
(``patched()`` applies them for a block and restores moto afterwards). They are written against
the pinned moto version: ``apply()`` refuses another one, so an upgrade re-checks every gap
instead of patching code that has moved.

moto stores pipelines but executes none. CodePipeline's execution calls are answered from the
records of the local pipeline runner in ``data_dir`` (``pipeline_records``, made into answers by
``execution_answers``), for the caller's account and region; the calls that ask for something to
happen (start, stop, approve) are written there as requests, which the runner takes up.

Known and left alone: ``aws_s3_bucket_lifecycle_configuration`` takes 55 s to create or update,
against AWS as well, whatever the server answers. In the AWS provider 5.100.0
(``internal/service/s3/bucket_lifecycle_configuration.go``), Create and Update PUT the configuration,
then ``waitLifecycleConfigEquals`` runs a ``retry.StateChangeConf`` with ``Target: ["true"]``, no
``Pending``, ``Delay: 10 * time.Second``, ``PollInterval: 5 * time.Second`` and
``ContinuousTargetOccurence: 10``; each poll GETs the configuration and reports "true" when its
``TransitionDefaultMinimumObjectSize`` and rules equal what was sent (``reflect.DeepEqual`` rule by
rule). The SDK's loop (terraform-plugin-sdk ``helper/retry/state.go``) sleeps ``Delay``, polls at once,
then every ``PollInterval``, and ends at the 10th "true": 10 + 9 x 5 = 55 s when every read matches,
the least any server can get. A read that does not match is neither target nor pending: it adds
5 s without resetting the count, and an answer that never matches ends in "timeout while waiting
for state to become 'true'" (3 min by default), never in a slower success. Measured here with
``TF_LOG=DEBUG``: PUT at 22:33:47.99, GETs at 22:33:58.01 and then every 5.01 s to 22:34:43.10, each
the rules sent with ``all_storage_classes_128K``; "Creation complete after 55s".
"""

from __future__ import annotations

import inspect
import json
import tempfile
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from provisioner.local_aws import execution_answers as answers
from provisioner.local_aws.pipeline_records import RUNNING, PipelineRecords

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


def codepipeline_pipeline_state() -> None:
    """CodePipeline GetPipelineState is not implemented -> every stage and action of the pipeline, with the latest execution the local runner recorded for each (and the token of an approval that waits)."""
    from moto.codepipeline.responses import CodePipelineResponse

    def get_pipeline_state(self: CodePipelineResponse) -> str:
        stored = _stored_pipeline(self, self._get_param("name"))
        executions = answers.served_executions(_records(self, stored), stored.pipeline)
        return json.dumps(answers.pipeline_state(stored.pipeline, _epoch(stored._created), _epoch(stored._updated), executions))

    _replace(CodePipelineResponse, "get_pipeline_state", get_pipeline_state)


def codepipeline_recorded_executions() -> None:
    """CodePipeline ListPipelineExecutions/GetPipelineExecution show moto's own executions, Succeeded the moment they start, and ignore nextToken -> the local runner's records, newest first, in pages."""
    from moto.codepipeline.exceptions import PipelineExecutionNotFoundException
    from moto.codepipeline.responses import CodePipelineResponse

    def list_pipeline_executions(self: CodePipelineResponse) -> str:
        executions = _served(self, self._get_param("pipelineName"))
        if stage := (self._get_param("filter") or {}).get("succeededInStage", {}).get("stageName"):
            executions = [e for e in executions if {"stageName": stage, "status": "Succeeded"} in _stage_outcomes(e)]
        shown, next_token = _page(self, executions, lambda execution: execution["pipelineExecutionId"])
        return json.dumps(_without_none({"pipelineExecutionSummaries": [answers.execution_summary(e) for e in shown], "nextToken": next_token}))

    def get_pipeline_execution(self: CodePipelineResponse) -> str:
        name, execution_id = self._get_param("pipelineName"), self._get_param("pipelineExecutionId")
        execution = answers.find(_served(self, name), execution_id)
        if execution is None:
            raise PipelineExecutionNotFoundException(
                f"Account '{self.current_account}' does not have an execution with id '{execution_id}' for pipeline '{name}'"
            )
        return json.dumps({"pipelineExecution": answers.pipeline_execution(execution)})

    _replace(CodePipelineResponse, "list_pipeline_executions", list_pipeline_executions)
    _replace(CodePipelineResponse, "get_pipeline_execution", get_pipeline_execution)


def codepipeline_action_executions() -> None:
    """CodePipeline ListActionExecutions is not implemented -> the actions the local runner recorded, newest first, of one execution when filtered, in pages."""
    from moto.codepipeline.exceptions import PipelineExecutionNotFoundException
    from moto.codepipeline.responses import CodePipelineResponse

    def list_action_executions(self: CodePipelineResponse) -> str:
        name = self._get_param("pipelineName")
        executions = _served(self, name)
        if execution_id := (self._get_param("filter") or {}).get("pipelineExecutionId"):
            executions = [e for e in executions if e["pipelineExecutionId"] == execution_id]
            if not executions:
                raise PipelineExecutionNotFoundException(
                    f"Account '{self.current_account}' does not have an execution with id '{execution_id}' for pipeline '{name}'"
                )
        details = answers.action_executions(executions)
        shown, next_token = _page(self, details, lambda detail: detail["actionExecutionId"])
        return json.dumps(_without_none({"actionExecutionDetails": shown, "nextToken": next_token}))

    _replace(CodePipelineResponse, "list_action_executions", list_action_executions)


def codepipeline_start_requests() -> None:
    """CodePipeline StartPipelineExecution records an execution that succeeded without running anything -> a start request (variables, source revisions, the caller as trigger) that the local runner takes up; InProgress until it does."""
    from moto.codepipeline.responses import CodePipelineResponse
    from moto.sts.models import sts_backends

    def start_pipeline_execution(self: CodePipelineResponse) -> str:
        stored = _stored_pipeline(self, self._get_param("name"))
        caller = sts_backends[self.current_account][self.partition].get_caller_identity(self.get_access_key(), self.region)[1]
        execution_id = _records(self, stored).request_start(
            variables=self._get_param("variables") or [],
            source_revisions=self._get_param("sourceRevisions") or [],
            trigger={"triggerType": "StartPipelineExecution", "triggerDetail": caller},
        )
        return json.dumps({"pipelineExecutionId": execution_id})

    _replace(CodePipelineResponse, "start_pipeline_execution", start_pipeline_execution)


def codepipeline_stop_requests() -> None:
    """CodePipeline StopPipelineExecution is not implemented -> a stop request (abandon, reason) for an execution in progress, for the local runner; PipelineExecutionNotStoppableException or DuplicatedStopRequestException otherwise, as AWS."""
    from moto.codepipeline.responses import CodePipelineResponse

    def stop_pipeline_execution(self: CodePipelineResponse) -> str:
        stored = _stored_pipeline(self, self._get_param("pipelineName"))
        records = _records(self, stored)
        execution_id, abandon = self._get_param("pipelineExecutionId"), bool(self._get_param("abandon"))
        execution = answers.find(answers.served_executions(records, stored.pipeline), execution_id)
        if execution is None or execution["status"] not in RUNNING:
            raise _error(
                "PipelineExecutionNotStoppableException",
                "Unable to stop the pipeline execution. The execution might already be in a Stopped state, or it might no longer be in progress.",
            )
        earlier = records.stop_request(execution_id)
        if earlier is not None and (earlier.get("abandon") or not abandon):
            raise _error(
                "DuplicatedStopRequestException",
                "The pipeline execution is already in a Stopping state. If you already chose to stop and wait, you cannot make that "
                "request again. You can choose to stop and abandon now, but be aware that this option can lead to failed tasks or out "
                "of sequence tasks. If you already chose to stop and abandon, you cannot make that request again.",
            )
        records.request_stop(execution_id, abandon=abandon, reason=self._get_param("reason") or "")
        return json.dumps({"pipelineExecutionId": execution_id})

    _replace(CodePipelineResponse, "stop_pipeline_execution", stop_pipeline_execution)


def codepipeline_approval_results() -> None:
    """CodePipeline PutApprovalResult is not implemented -> the answer to an approval that waits, for the local runner, when the token is the one handed out (InvalidApprovalTokenException, ApprovalAlreadyCompletedException otherwise, as AWS)."""
    from moto.codepipeline.responses import CodePipelineResponse

    def put_approval_result(self: CodePipelineResponse) -> str:
        stored = _stored_pipeline(self, self._get_param("pipelineName"))
        stage_name, action_name = self._get_param("stageName"), self._get_param("actionName")
        stage = next((stage for stage in stored.pipeline["stages"] if stage["name"] == stage_name), None)
        if stage is None:
            raise _error("StageNotFoundException", f"The stage {stage_name} was specified in an invalid format or cannot be found.")
        if not any(action["name"] == action_name for action in stage["actions"]):
            raise _error("ActionNotFoundException", f"The action {action_name} cannot be found in stage {stage_name}.")
        result = self._get_param("result") or {}
        if result.get("status") not in ("Approved", "Rejected"):
            raise _error("ValidationException", "result.status must be Approved or Rejected")
        records = _records(self, stored)
        found = answers.waiting_approval(records.executions(), stage_name, action_name, self._get_param("token") or "")
        if found is None:
            raise _error("InvalidApprovalTokenException", f"The approval token is not valid for {action_name} in {stage_name}.")
        execution, action = found
        if action.get("status") != "InProgress" or records.approval(execution["pipelineExecutionId"], stage_name, action_name):
            raise _error("ApprovalAlreadyCompletedException", f"The approval action {action_name} has already been approved or rejected.")
        records.put_approval(execution["pipelineExecutionId"], stage_name, action_name, result["status"], result.get("summary") or "")
        return json.dumps({"approvedAt": time.time()})

    _replace(CodePipelineResponse, "put_approval_result", put_approval_result)


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
    from moto.sqs.models import Queue

    attributes = Queue.attributes

    def compact(self: Queue) -> dict[str, Any]:
        result = attributes.fget(self)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    _replace(Queue, "attributes", property(compact))



# --- the records behind the execution calls --------------------------------------------------------
def _stored_pipeline(response: Any, name: str) -> Any:
    """moto's pipeline ``name`` in the caller's account and region (PipelineNotFoundException when there is none)."""
    response.codepipeline_backend.get_pipeline(name)
    return response.codepipeline_backend.pipelines[name]


def _records(response: Any, stored: Any) -> PipelineRecords:
    if _data_dir is None:
        raise RuntimeError("compat.apply(data_dir=...) names the folder of the pipeline records")
    return PipelineRecords(_data_dir, response.current_account, response.region, stored.pipeline["name"])


def _served(response: Any, name: str) -> list[dict[str, Any]]:
    stored = _stored_pipeline(response, name)
    return answers.served_executions(_records(response, stored), stored.pipeline)


def _stage_outcomes(execution: dict[str, Any]) -> list[dict[str, str]]:
    return [{"stageName": stage["stageName"], "status": stage["status"]} for stage in execution.get("stages") or []]


def _page(response: Any, items: list[Any], key: Callable[[Any], str]) -> tuple[list[Any], str | None]:
    try:
        return answers.page(items, key, response._get_param("maxResults"), response._get_param("nextToken"))
    except answers.UnknownToken:
        raise _error(
            "InvalidNextTokenException",
            "The next token was specified in an invalid format. Make sure that the next token you provide is the token returned by a previous call.",
        ) from None


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _without_none(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if value is not None}


def s3_lifecycle_transition_default_minimum_object_size() -> None:
    """S3 GetBucketLifecycleConfiguration answers x-amz-transition-default-minimum-object-size all_storage_classes_128K whatever was put (the provider waits for the value it sent until its create timeout, 3 min, then fails) -> the value put, all_storage_classes_128K when none was, as AWS answers."""
    from moto.s3.models import TransitionDefaultMinimumObjectSize
    from moto.s3.responses import S3Response

    header = "x-amz-transition-default-minimum-object-size"
    default = TransitionDefaultMinimumObjectSize.ALL_STORAGE_CLASSES_128K.value
    bucket_put = S3Response._bucket_response_put
    get_bucket_lifecycle = S3Response.get_bucket_lifecycle

    def put_keeping_size(self: S3Response, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        result = bucket_put(self, request, bucket_name, querystring)
        refused = isinstance(result, tuple) and result[0] >= 400
        if "lifecycle" in querystring and not refused:
            bucket = self.backend.get_bucket(bucket_name)
            bucket.transition_default_minimum_object_size = request.headers.get(header) or default
        return result

    def get_with_size_put(self: S3Response) -> Any:
        status, headers, body = get_bucket_lifecycle(self)
        bucket = self.backend.get_bucket(self.bucket_name)
        return status, {**headers, header: getattr(bucket, "transition_default_minimum_object_size", default)}, body

    _replace(S3Response, "_bucket_response_put", put_keeping_size)
    _replace(S3Response, "get_bucket_lifecycle", get_with_size_put)


def _epoch(moment: datetime) -> float:
    # moto keeps naive datetimes in UTC.
    return moment.replace(tzinfo=timezone.utc).timestamp()


PATCHES: tuple[Callable[[], None], ...] = (
    codebuild_codepipeline_locations,
    codebuild_encryption_key,
    codepipeline_epoch_timestamps,
    codepipeline_pipeline_state,
    codepipeline_recorded_executions,
    codepipeline_action_executions,
    codepipeline_start_requests,
    codepipeline_stop_requests,
    codepipeline_approval_results,
    policy_conditions_hold_or_do_not_apply,
    s3_lifecycle_transition_default_minimum_object_size,
    sqs_compact_redrive_policy,
)
