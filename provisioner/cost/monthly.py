"""What an account's pipelines cost in a month, from what actually ran.

Reads the CodePipeline API (``ListPipelines``, ``ListPipelineExecutions``, ``ListActionExecutions``,
through boto3 paginators) or a folder of the same responses saved with the AWS CLI:

    aws codepipeline list-pipelines > DIR/list-pipelines.json
    aws codepipeline list-pipeline-executions --pipeline-name P > DIR/list-pipeline-executions-P.json
    aws codepipeline list-action-executions --pipeline-name P > DIR/list-action-executions-P.json

and applies ``provisioner.cost.pricing``. How the API's facts are read:

- A pipeline without ``pipelineType`` is V1 (AWS's default when none is given).
- An action counts in the UTC month it started; its duration is ``lastUpdateTime - startTime``.
  An action still ``InProgress`` counts with its duration so far (so the V2 figure is a lower
  bound, and the report says so); ``Abandoned`` and ``Failed`` actions count like finished ones.
- Action executions are read only for V2 pipelines with an execution that overlaps the month
  (started before its end, last updated after its start): no other execution can hold an action
  that started in the month. V1 pipelines need no action executions.
- A V1 pipeline is active when an execution started in the month, other than a rollback (which
  re-runs an old revision), while the pipeline was more than 30 days old. The API does not say
  whether a revision is new, so every other execution counts as a change: the report may charge
  a manual re-release of an old commit, never miss a real change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from provisioner.configuration.target import Target
from provisioner.cost.pricing import (
    DEFAULT_PIPELINE_TYPE,
    PIPELINE_TYPES,
    V1,
    V1_PRICE_PER_ACTIVE_PIPELINE,
    V2,
    V2_PRICE_PER_ACTION_MINUTE,
    BillingMonth,
    StageTotals,
    V1Bill,
    V2Bill,
    billable_minutes,
    is_charged_action,
    v1_bill,
    v1_past_free_period,
    v2_bill,
)
from provisioner.errors import UserError
from provisioner.operations import aws

ROLLBACK_TRIGGERS = frozenset({"ManualRollback", "AutomatedRollback"})
IN_PROGRESS = "InProgress"

LIST_PIPELINES_FILE = "list-pipelines.json"
EXECUTIONS_FILE = "list-pipeline-executions-{pipeline}.json"
ACTION_EXECUTIONS_FILE = "list-action-executions-{pipeline}.json"


@dataclass(frozen=True)
class PipelineSummary:
    name: str
    pipeline_type: str
    created: datetime


@dataclass(frozen=True)
class ExecutionSummary:
    execution_id: str
    start: datetime
    last_update: datetime
    trigger_type: str


@dataclass(frozen=True)
class ActionExecution:
    execution_id: str
    stage: str
    action: str
    category: str
    owner: str
    provider: str
    status: str
    start: datetime
    last_update: datetime

    @property
    def charged(self) -> bool:
        return is_charged_action(self.category, self.owner, self.provider)

    @property
    def minutes(self) -> int:
        return billable_minutes(self.last_update - self.start)


class CodePipelineSource(Protocol):
    """Where the pipelines' history comes from; ``description`` is shown in the report."""

    description: str

    def pipelines(self) -> list[PipelineSummary]: ...

    def executions(self, pipeline: str) -> list[ExecutionSummary]: ...

    def action_executions(self, pipeline: str) -> list[ActionExecution]: ...


# --- parsing the API's records (same shape from boto3 and from the AWS CLI) ----------------------


def parse_timestamp(value: Any, where: str) -> datetime:
    """A timestamp as boto3 (``datetime``) or the AWS CLI (ISO 8601 text, or epoch seconds) gives it.

    Naive values are taken as UTC. The result is always in UTC.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise UserError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    elif value is None:
        raise UserError(f"{where}: missing")
    else:
        raise UserError(f"{where}: {value!r} is not a timestamp")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _text(record: dict, key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}.{key}: missing or not a string")
    return value


def _record(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def parse_pipeline(raw: Any, where: str) -> PipelineSummary:
    record = _record(raw, where)
    name = _text(record, "name", where)
    pipeline_type = record.get("pipelineType") or DEFAULT_PIPELINE_TYPE
    if pipeline_type not in PIPELINE_TYPES:
        raise UserError(f"{where}.pipelineType: {pipeline_type!r} is not one of {', '.join(PIPELINE_TYPES)}")
    return PipelineSummary(name, pipeline_type, parse_timestamp(record.get("created"), f"{where}.created"))


def parse_execution(raw: Any, where: str) -> ExecutionSummary:
    record = _record(raw, where)
    start = parse_timestamp(record.get("startTime"), f"{where}.startTime")
    last_update = record.get("lastUpdateTime")
    trigger = record.get("trigger") or {}
    return ExecutionSummary(
        execution_id=_text(record, "pipelineExecutionId", where),
        start=start,
        last_update=start if last_update is None else parse_timestamp(last_update, f"{where}.lastUpdateTime"),
        trigger_type=str(_record(trigger, f"{where}.trigger").get("triggerType", "")),
    )


def parse_action_execution(raw: Any, where: str) -> ActionExecution:
    record = _record(raw, where)
    type_id = _record(_record(record.get("input"), f"{where}.input").get("actionTypeId"), f"{where}.input.actionTypeId")
    start = parse_timestamp(record.get("startTime"), f"{where}.startTime")
    last_update = parse_timestamp(record.get("lastUpdateTime"), f"{where}.lastUpdateTime")
    if last_update < start:
        raise UserError(f"{where}: lastUpdateTime {last_update.isoformat()} is before startTime {start.isoformat()}")
    return ActionExecution(
        execution_id=_text(record, "pipelineExecutionId", where),
        stage=_text(record, "stageName", where),
        action=_text(record, "actionName", where),
        category=_text(type_id, "category", f"{where}.input.actionTypeId"),
        owner=_text(type_id, "owner", f"{where}.input.actionTypeId"),
        provider=_text(type_id, "provider", f"{where}.input.actionTypeId"),
        status=str(record.get("status", "")),
        start=start,
        last_update=last_update,
    )


def _parse_all(items: list, parse: Callable[[Any, str], Any], where: str, key: str) -> list:
    return [parse(item, f"{where}: {key}[{index}]") for index, item in enumerate(items)]


# --- sources ------------------------------------------------------------------------------------


class DirectorySource:
    """Responses saved with the AWS CLI in one folder (see the module docstring for the file names)."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise UserError(f"{folder}: no such folder (it should hold {LIST_PIPELINES_FILE} saved with the AWS CLI)")
        self.folder = folder
        self.description = f"saved responses in {folder}"

    def _items(self, filename: str, key: str, command: str) -> tuple[list, str]:
        path = self.folder / filename
        if not path.is_file():
            raise UserError(f"{path}: missing; save it with `aws codepipeline {command} > {path}`")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise UserError(f"{path}: not valid JSON (line {error.lineno} column {error.colno}: {error.msg})") from None
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{path}: cannot be read ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get(key), list):
            raise UserError(f'{path}: expected {{"{key}": [...]}} as printed by `aws codepipeline {command}`')
        return document[key], str(path)

    def pipelines(self) -> list[PipelineSummary]:
        items, where = self._items(LIST_PIPELINES_FILE, "pipelines", "list-pipelines")
        return _parse_all(items, parse_pipeline, where, "pipelines")

    def executions(self, pipeline: str) -> list[ExecutionSummary]:
        items, where = self._items(
            EXECUTIONS_FILE.format(pipeline=pipeline),
            "pipelineExecutionSummaries",
            f"list-pipeline-executions --pipeline-name {pipeline}",
        )
        return _parse_all(items, parse_execution, where, "pipelineExecutionSummaries")

    def action_executions(self, pipeline: str) -> list[ActionExecution]:
        items, where = self._items(
            ACTION_EXECUTIONS_FILE.format(pipeline=pipeline),
            "actionExecutionDetails",
            f"list-action-executions --pipeline-name {pipeline}",
        )
        return _parse_all(items, parse_action_execution, where, "actionExecutionDetails")


class Boto3Source:
    """The CodePipeline API of one region, every list read to its last page."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.region = client.meta.region_name
        self.description = f"CodePipeline API in {self.region}"

    @classmethod
    def for_region(cls, region: str | None, target: Target) -> Boto3Source:
        try:
            return cls(aws.client(target, "codepipeline", region))
        except aws.api_errors() as error:
            raise UserError(f"cannot reach CodePipeline: {error} (pass --region or set AWS_REGION)") from None

    def _paginate(self, operation: str, key: str, **params: Any) -> list:
        items: list = []
        try:
            for page in self.client.get_paginator(operation).paginate(**params):
                items.extend(page.get(key, []))
        except aws.api_errors() as error:
            raise UserError(f"CodePipeline {operation} in {self.region}: {aws.explain(error).in_one_line()}") from None
        return items

    def pipelines(self) -> list[PipelineSummary]:
        items = self._paginate("list_pipelines", "pipelines")
        return _parse_all(items, parse_pipeline, "ListPipelines", "pipelines")

    def executions(self, pipeline: str) -> list[ExecutionSummary]:
        items = self._paginate("list_pipeline_executions", "pipelineExecutionSummaries", pipelineName=pipeline)
        return _parse_all(items, parse_execution, f"ListPipelineExecutions {pipeline}", "pipelineExecutionSummaries")

    def action_executions(self, pipeline: str) -> list[ActionExecution]:
        items = self._paginate("list_action_executions", "actionExecutionDetails", pipelineName=pipeline)
        return _parse_all(items, parse_action_execution, f"ListActionExecutions {pipeline}", "actionExecutionDetails")


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageUsage:
    name: str
    charged_actions: int
    free_actions: int
    action_minutes: int


@dataclass(frozen=True)
class PipelineUsage(StageTotals):
    """One pipeline's month. V1 fields: ``changes``, ``active``; V2 fields: ``stages``, ``in_progress_actions``.

    ``reason`` says, in words, why the pipeline is (not) charged.
    """

    name: str
    pipeline_type: str
    created: datetime
    executions: int
    changes: int
    active: bool
    reason: str
    stages: tuple[StageUsage, ...] = ()
    in_progress_actions: int = 0

    @property
    def gross_usd(self) -> Decimal:
        """This pipeline's charge before the account's free tier."""
        if self.pipeline_type == V2:
            return self.action_minutes * V2_PRICE_PER_ACTION_MINUTE
        return V1_PRICE_PER_ACTIVE_PIPELINE if self.active else Decimal(0)


@dataclass(frozen=True)
class Report:
    month: BillingMonth
    source: str
    pipelines: tuple[PipelineUsage, ...]
    v1: V1Bill
    v2: V2Bill
    month_complete: bool

    @property
    def total_usd(self) -> Decimal:
        return self.v1.usd + self.v2.usd

    @property
    def in_progress_actions(self) -> int:
        return sum(pipeline.in_progress_actions for pipeline in self.pipelines)


def _v1_usage(pipeline: PipelineSummary, in_month: list[ExecutionSummary], month: BillingMonth) -> PipelineUsage:
    changes = _changes(in_month)
    created = pipeline.created.date().isoformat()
    if not changes:
        active, reason = False, f"not charged: no change ran through it in {month}"
    elif any(v1_past_free_period(pipeline.created, change.start) for change in changes):
        active, reason = True, f"active: {len(changes)} change(s) in {month}, created {created}"
    else:
        last = max(change.start for change in changes)
        age = (last - pipeline.created).days
        active, reason = False, f"not charged: {age} days old at its last change (free for its first 30 days)"
    return PipelineUsage(pipeline.name, V1, pipeline.created, len(in_month), len(changes), active, reason)


def _changes(executions: list[ExecutionSummary]) -> list[ExecutionSummary]:
    return [execution for execution in executions if execution.trigger_type not in ROLLBACK_TRIGGERS]


def _v2_usage(
    pipeline: PipelineSummary, in_month: list[ExecutionSummary], actions: list[ActionExecution], month: BillingMonth
) -> PipelineUsage:
    stages: dict[str, list[ActionExecution]] = {}
    for action in sorted((action for action in actions if action.start in month), key=lambda action: action.start):
        stages.setdefault(action.stage, []).append(action)
    usage = tuple(
        StageUsage(
            name=name,
            charged_actions=sum(1 for action in runs if action.charged),
            free_actions=sum(1 for action in runs if not action.charged),
            action_minutes=sum(action.minutes for action in runs if action.charged),
        )
        for name, runs in stages.items()
    )
    in_progress = sum(1 for runs in stages.values() for action in runs if action.status == IN_PROGRESS)
    minutes = sum(stage.action_minutes for stage in usage)
    reason = f"{minutes} action minute(s) in {month}" if usage else f"no action started in {month}"
    return PipelineUsage(
        pipeline.name, V2, pipeline.created, len(in_month), len(_changes(in_month)), False, reason, usage, in_progress
    )


def _overlaps(execution: ExecutionSummary, month: BillingMonth) -> bool:
    return execution.start < month.end and max(execution.last_update, execution.start) >= month.start


def build_report(source: CodePipelineSource, month: BillingMonth, now: datetime | None = None) -> Report:
    """The month's charge for every pipeline ``source`` lists (one account, one region)."""
    now = now or datetime.now(timezone.utc)
    usages = []
    for pipeline in sorted(source.pipelines(), key=lambda pipeline: pipeline.name):
        executions = source.executions(pipeline.name)
        in_month = [execution for execution in executions if execution.start in month]
        if pipeline.pipeline_type == V1:
            usages.append(_v1_usage(pipeline, in_month, month))
            continue
        needs_actions = any(_overlaps(execution, month) for execution in executions)
        actions = source.action_executions(pipeline.name) if needs_actions else []
        usages.append(_v2_usage(pipeline, in_month, actions, month))
    return Report(
        month=month,
        source=source.description,
        pipelines=tuple(usages),
        v1=v1_bill(sum(1 for usage in usages if usage.pipeline_type == V1 and usage.active)),
        v2=v2_bill(sum(usage.action_minutes for usage in usages if usage.pipeline_type == V2)),
        month_complete=now >= month.end,
    )
