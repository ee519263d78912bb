"""What a delivery pipeline does, as plain data: sources, stages and actions.

This is the *what*; ``modules.delivery_pipeline`` is the *how* (the CodePipeline resource). Nothing
here imports the CDK framework, so a pipeline's shape can be built and tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

SOURCE_ACTION = "Source"
SOURCE_ARTIFACT = "source"
SOURCE_NAMESPACE = "SourceVariables"
ARTIFACT_PREFIX_CHARS = 20
"""CodePipeline keeps a pipeline's artifacts in the artifact bucket under the first 20 characters of its name."""

_ARTIFACT = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_ACTION = re.compile(r"^[A-Za-z0-9.@_-]{1,100}$")


@dataclass(frozen=True)
class CodeStarSource:
    """GitHub, GitLab or Bitbucket through a CodeStar (CodeConnections) connection."""

    connection_arn: str
    repository: str
    """``owner/name``."""
    branch: str
    trigger_paths: Sequence[str] = ()
    """File-path globs a push must touch to start the pipeline. Default: any change."""

    revision_variable = "CommitId"
    """The source action's output variable that names what is released."""


@dataclass(frozen=True)
class CodeCommitSource:
    """A CodeCommit repository; changes start the pipeline through an EventBridge rule."""

    repository: str
    branch: str

    revision_variable = "CommitId"
    """The source action's output variable that names what is released."""


@dataclass(frozen=True)
class S3Source:
    """A zipped repository in a versioned S3 bucket; CodePipeline polls the object for new versions."""

    bucket: str
    object_key: str

    revision_variable = "VersionId"
    """The S3 source action emits only ``VersionId`` and ``ETag``: the object version is the revision."""


Source = Union[CodeStarSource, CodeCommitSource, S3Source]


def artifact_prefix(pipeline_name: str) -> str:
    """The folder of the artifact bucket where CodePipeline keeps ``pipeline_name``'s artifacts."""
    return pipeline_name[:ARTIFACT_PREFIX_CHARS]


def source_revision(source: Source) -> str:
    """The pipeline variable holding the revision being released: ``#{SourceVariables.CommitId}`` for git
    sources, ``#{SourceVariables.VersionId}`` for S3 (an unresolvable variable fails the action)."""
    return f"#{{{SOURCE_NAMESPACE}.{source.revision_variable}}}"


@dataclass(frozen=True)
class BuildAction:
    """A CodeBuild project run as a pipeline action."""

    name: str
    project_name: str
    inputs: Sequence[str]
    outputs: Sequence[str] = ()
    run_order: int = 1
    namespace: str | None = None
    """Variables namespace, so later actions can read ``#{namespace.VAR}``. Default: none."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Plaintext environment variables; values may use pipeline variables (``#{SourceVariables.CommitId}``)."""

    def __post_init__(self) -> None:
        _check_action(self.name, self.run_order)
        for artifact in (*self.inputs, *self.outputs):
            if not _ARTIFACT.match(artifact):
                raise ValueError(f'BuildAction {self.name}: artifact name "{artifact}" must match [A-Za-z0-9_-]{{1,100}}')
        if not self.inputs:
            raise ValueError(f"BuildAction {self.name}: needs at least one input artifact")


@dataclass(frozen=True)
class ApprovalAction:
    """A manual approval; free under CodePipeline V2 pricing."""

    name: str
    run_order: int
    notification_topic_arn: str
    message: str
    review_url: str | None = None
    """Link shown to the approver (for example the plan build's log)."""

    def __post_init__(self) -> None:
        _check_action(self.name, self.run_order)


Action = Union[BuildAction, ApprovalAction]


@dataclass(frozen=True)
class Stage:
    """Actions with the same ``run_order`` run in parallel; lower run orders run first."""

    name: str
    actions: Sequence[Action]
    retry_failed_actions: bool = True
    """On failure, let CodePipeline V2 retry the failed actions once automatically. Default: on."""
    enter_when: tuple[str, str] | None = None
    """``(variable, value)``: the stage runs only when ``#{namespace.VARIABLE}`` equals ``value`` and is
    skipped otherwise (a V2 entry condition with the ``VariableCheck`` rule). Default: always runs."""

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError(f"Stage {self.name}: needs at least one action")
        if self.enter_when is not None and not re.fullmatch(r"#\{[A-Za-z0-9@_-]+\.[A-Za-z0-9@_-]+\}", self.enter_when[0]):
            raise ValueError(f"Stage {self.name}: enter_when variable {self.enter_when[0]!r} must be #{{namespace.NAME}}")
        names = [action.name for action in self.actions]
        if len(set(names)) != len(names):
            raise ValueError(f"Stage {self.name}: action names must be unique, got {names}")


def _check_action(name: str, run_order: int) -> None:
    if not _ACTION.match(name):
        raise ValueError(f'action name "{name}" must match [A-Za-z0-9.@_-]{{1,100}}')
    if not 1 <= run_order <= 999:
        raise ValueError(f"action {name}: run_order {run_order} must be 1-999")
