"""Where the delivery pipeline stands: each stage and action's latest status, and the last executions.

Reads, in the DevOps account: ``sts:GetCallerIdentity`` (the credentials are for devops.hcl's
account), ``codepipeline:GetPipeline`` (type and version), ``GetPipelineState`` (stages and actions)
and ``ListPipelineExecutions`` (newest first). Every failure is a ``UserError``: one line, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from provisioner.configuration.settings import ProjectConfig
from provisioner.errors import UserError
from provisioner.operations import aws
from provisioner.operations.aws import ClientFactory, error_code, explain

RUNNING = frozenset({"InProgress", "Stopping"})


@dataclass(frozen=True)
class ActionStatus:
    name: str
    status: str | None
    """None when the action has not run since the pipeline was created or changed."""
    last_change: datetime | None
    detail: str = ""
    """The error message of a failed action, else its summary (a commit message, an approver's comment)."""
    url: str | None = None
    """The action's own page (a CodeBuild build, a source commit)."""


@dataclass(frozen=True)
class StageStatus:
    name: str
    status: str | None
    actions: tuple[ActionStatus, ...]
    transition_disabled: str | None = None
    """The reason given when someone disabled the transition into this stage."""


@dataclass(frozen=True)
class ExecutionStatus:
    execution_id: str
    status: str
    trigger: str
    trigger_detail: str
    start: datetime
    last_update: datetime
    revision: str = ""
    """The first source revision (a commit id)."""
    summary: str = ""

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    def duration(self, now: datetime) -> timedelta:
        """Start to last update; start to ``now`` while it runs."""
        return (now if self.running else self.last_update) - self.start


@dataclass(frozen=True)
class PipelineStatus:
    name: str
    account_id: str
    region: str
    pipeline_type: str
    version: int | None
    stages: tuple[StageStatus, ...]
    executions: tuple[ExecutionStatus, ...]
    read_at: datetime


def read_status(project: ProjectConfig, executions: int, clients: ClientFactory, now: datetime | None = None) -> PipelineStatus:
    """The pipeline of ``project`` and its last ``executions`` executions."""
    account_id, region, name = project.devops.account_id, project.devops.region, project.naming.pipeline
    try:
        identity = clients("sts", region).get_caller_identity()
    except aws.api_errors() as error:
        raise _user_error("cannot read your AWS identity", error) from None
    if identity["Account"] != account_id:
        raise UserError(
            f"your credentials are for account {identity['Account']} ({identity['Arn']}), but the DevOps account in "
            f"devops.hcl is {account_id}: use credentials for {account_id} (AWS_PROFILE=<its profile>)"
        )
    codepipeline = clients("codepipeline", region)
    try:
        pipeline = codepipeline.get_pipeline(name=name)["pipeline"]
        state = codepipeline.get_pipeline_state(name=name)
    except aws.api_errors() as error:
        if error_code(error) == "PipelineNotFoundException":
            raise UserError(
                f"pipeline {name} does not exist in account {account_id} ({region}): deploy the devops stack first "
                "(`provisioner doctor` checks the whole setup)"
            ) from None
        raise _user_error(f"cannot read pipeline {name}", error) from None
    return PipelineStatus(
        name=name,
        account_id=account_id,
        region=region,
        pipeline_type=pipeline.get("pipelineType") or "V1",
        version=pipeline.get("version"),
        stages=tuple(_stage(stage) for stage in state.get("stageStates", [])),
        executions=read_executions(codepipeline, name, executions),
        read_at=now or datetime.now(timezone.utc),
    )


def read_executions(codepipeline: Any, pipeline: str, count: int) -> tuple[ExecutionStatus, ...]:
    """The newest ``count`` executions of ``pipeline``, newest first."""
    summaries: list[dict] = []
    try:
        pages = codepipeline.get_paginator("list_pipeline_executions").paginate(
            pipelineName=pipeline, PaginationConfig={"MaxItems": count, "PageSize": min(count, 100)}
        )
        for page in pages:
            summaries.extend(page.get("pipelineExecutionSummaries", []))
    except aws.api_errors() as error:
        raise _user_error(f"cannot list the executions of {pipeline}", error) from None
    return tuple(_execution(summary) for summary in summaries[:count])


def _stage(raw: dict) -> StageStatus:
    transition = raw.get("inboundTransitionState") or {}
    disabled = None
    if transition.get("enabled") is False:
        disabled = transition.get("disabledReason") or "no reason given"
    return StageStatus(
        name=raw["stageName"],
        status=(raw.get("latestExecution") or {}).get("status"),
        actions=tuple(_action(action) for action in raw.get("actionStates", [])),
        transition_disabled=disabled,
    )


def _action(raw: dict) -> ActionStatus:
    latest = raw.get("latestExecution") or {}
    detail = (latest.get("errorDetails") or {}).get("message") or latest.get("summary") or ""
    return ActionStatus(
        name=raw["actionName"],
        status=latest.get("status"),
        last_change=_utc(latest.get("lastStatusChange")),
        detail=" ".join(detail.split()),
        url=latest.get("externalExecutionUrl") or raw.get("entityUrl"),
    )


def _execution(raw: dict) -> ExecutionStatus:
    trigger = raw.get("trigger") or {}
    revisions = raw.get("sourceRevisions") or [{}]
    start = _utc(raw["startTime"])
    return ExecutionStatus(
        execution_id=raw["pipelineExecutionId"],
        status=raw.get("status", ""),
        trigger=trigger.get("triggerType", ""),
        trigger_detail=trigger.get("triggerDetail", ""),
        start=start,
        last_update=_utc(raw.get("lastUpdateTime")) or start,
        revision=revisions[0].get("revisionId", ""),
        summary=" ".join((raw.get("statusSummary") or "").split()),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment is not None else None


def _user_error(what: str, error: Exception) -> UserError:
    return UserError(f"{what}: {explain(error).in_one_line()}")


def format_duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
