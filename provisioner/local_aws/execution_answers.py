"""CodePipeline's answers about executions, made from the local runner's records (``pipeline_records``).

``compat`` serves these from inside the emulator; they are plain functions of the pipeline definition
moto stores and the records, so they are tested without moto. Times are epoch seconds, as the records
keep them and as AWS's JSON protocol sends them.

What AWS shows at once, before the runner has acted, is shown here too:

- a start not yet taken up is an ``InProgress`` execution that has entered no stage;
- an ``InProgress`` execution with a stop request is ``Stopping``, with the request's reason;
- an approval that was answered is ``Succeeded`` (approved) or ``Failed`` (rejected), with the
  approver's comment as its summary, and no longer has a token.

Standard library only: the emulator process imports it next to moto.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from provisioner.local_aws.pipeline_records import PipelineRecords, new_execution

DEFAULT_PAGE_SIZE = 100
"""CodePipeline's default and largest ``maxResults`` for the list calls."""

SUMMARY_FIELDS = (
    "pipelineExecutionId", "status", "statusSummary", "startTime", "lastUpdateTime", "sourceRevisions", "trigger",
    "stopTrigger", "executionMode", "executionType", "rollbackMetadata",
)  # fmt: skip
"""A ``PipelineExecutionSummary`` (ListPipelineExecutions)."""
EXECUTION_FIELDS = (
    "pipelineName", "pipelineVersion", "pipelineExecutionId", "status", "statusSummary", "artifactRevisions", "variables",
    "trigger", "executionMode", "executionType", "rollbackMetadata",
)  # fmt: skip
"""A ``PipelineExecution`` (GetPipelineExecution)."""

Item = TypeVar("Item")


class UnknownToken(Exception):
    """A ``nextToken`` this emulator did not hand out (or whose item is gone)."""


# --- executions as served --------------------------------------------------------------------------
def served_executions(records: PipelineRecords, pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    """Every execution of the pipeline as AWS would show it now, newest first (see the module's docstring)."""
    recorded = records.executions()
    known = {execution["pipelineExecutionId"] for execution in recorded}
    requested = [_requested(start, pipeline) for start in records.pending_starts() if start["pipelineExecutionId"] not in known]
    served = [_with_requests(records, execution) for execution in recorded + requested]
    return sorted(served, key=lambda execution: execution["startTime"], reverse=True)


def _requested(start: dict[str, Any], pipeline: dict[str, Any]) -> dict[str, Any]:
    variables = [{"name": variable["name"], "resolvedValue": variable["value"]} for variable in start.get("variables") or []]
    return new_execution(pipeline, start["pipelineExecutionId"], start["trigger"], start["requestedAt"], variables)


def _with_requests(records: PipelineRecords, execution: dict[str, Any]) -> dict[str, Any]:
    served = dict(execution)
    if served.get("status") == "InProgress" and (stop := records.stop_request(served["pipelineExecutionId"])):
        served["status"] = "Stopping"
        served["stopTrigger"] = {"reason": stop.get("reason") or ""}
    served["actions"] = [_answered(records, action) for action in execution.get("actions") or []]
    return served


def _answered(records: PipelineRecords, action: dict[str, Any]) -> dict[str, Any]:
    if action.get("status") != "InProgress" or "token" not in action:
        return action
    answer = records.approval(action["pipelineExecutionId"], action["stageName"], action["actionName"])
    if answer is None:
        return action
    answered = {key: value for key, value in action.items() if key != "token"}
    answered["status"] = "Succeeded" if answer["status"] == "Approved" else "Failed"
    answered["lastUpdateTime"] = answer["answeredAt"]
    output = dict(answered.get("output") or {})
    output["executionResult"] = {**(output.get("executionResult") or {}), "externalExecutionSummary": answer.get("summary", "")}
    answered["output"] = output
    return answered


def find(executions: list[dict[str, Any]], execution_id: str) -> dict[str, Any] | None:
    return next((execution for execution in executions if execution["pipelineExecutionId"] == execution_id), None)


# --- the answers -------------------------------------------------------------------------------
def pipeline_state(pipeline: dict[str, Any], created: float, updated: float, executions: list[dict[str, Any]]) -> dict[str, Any]:
    """GetPipelineState: every stage and action of ``pipeline``, with the latest execution of each that ran."""
    stage_states = []
    for position, stage in enumerate(pipeline["stages"]):
        state: dict[str, Any] = {"stageName": stage["name"]}
        if position:
            state["inboundTransitionState"] = {"enabled": True}  # the emulator cannot disable transitions
        if entered := _latest_stage(executions, stage["name"]):
            state["latestExecution"] = entered
        state["actionStates"] = [_action_state(executions, stage["name"], action["name"]) for action in stage["actions"]]
        stage_states.append(state)
    return {
        "pipelineName": pipeline["name"],
        "pipelineVersion": pipeline.get("version", 1),
        "stageStates": stage_states,
        "created": created,
        "updated": updated,
    }


def _latest_stage(executions: list[dict[str, Any]], stage_name: str) -> dict[str, str] | None:
    for execution in executions:
        for stage in execution.get("stages") or []:
            if stage["stageName"] == stage_name:
                return {"pipelineExecutionId": execution["pipelineExecutionId"], "status": stage["status"]}
    return None


def _action_state(executions: list[dict[str, Any]], stage_name: str, action_name: str) -> dict[str, Any]:
    state: dict[str, Any] = {"actionName": action_name}
    for execution in executions:
        runs = [a for a in execution["actions"] if (a.get("stageName"), a.get("actionName")) == (stage_name, action_name)]
        if runs:
            state["latestExecution"] = _action_execution(max(runs, key=lambda run: run.get("startTime") or 0))
            break
    return state


def _action_execution(detail: dict[str, Any]) -> dict[str, Any]:
    """An ``ActionExecutionDetail`` (as recorded) as GetPipelineState's ``ActionExecution``."""
    result = (detail.get("output") or {}).get("executionResult") or {}
    latest = {
        "actionExecutionId": detail.get("actionExecutionId"),
        "status": detail.get("status"),
        "summary": result.get("externalExecutionSummary") or None,
        "lastStatusChange": detail.get("lastUpdateTime"),
        "token": detail.get("token") if detail.get("status") == "InProgress" else None,
        "lastUpdatedBy": detail.get("updatedBy"),
        "externalExecutionId": result.get("externalExecutionId"),
        "externalExecutionUrl": result.get("externalExecutionUrl"),
        "errorDetails": result.get("errorDetails"),
        "logStreamARN": result.get("logStreamARN"),
    }
    return {key: value for key, value in latest.items() if value is not None}


def execution_summary(execution: dict[str, Any]) -> dict[str, Any]:
    """ListPipelineExecutions' ``PipelineExecutionSummary``."""
    return {field: execution[field] for field in SUMMARY_FIELDS if field in execution}


def pipeline_execution(execution: dict[str, Any]) -> dict[str, Any]:
    """GetPipelineExecution's ``PipelineExecution``; ``artifactRevisions`` from the source actions' output artifacts."""
    answer = {field: execution[field] for field in EXECUTION_FIELDS if field in execution}
    answer.setdefault("artifactRevisions", _artifact_revisions(execution))
    answer.setdefault("variables", [])
    return answer


def _artifact_revisions(execution: dict[str, Any]) -> list[dict[str, Any]]:
    revisions = []
    for source in execution.get("sourceRevisions") or []:
        action = next((a for a in execution.get("actions") or [] if a.get("actionName") == source.get("actionName")), None)
        for artifact in ((action or {}).get("output") or {}).get("outputArtifacts") or []:
            revision = {"name": artifact["name"], **{key: source[key] for key in ("revisionId", "revisionSummary", "revisionUrl") if key in source}}
            revisions.append(revision)
    return revisions


def action_executions(executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ListActionExecutions' ``ActionExecutionDetail``s of ``executions``, newest first."""
    details = [{key: value for key, value in action.items() if key != "token"} for execution in executions for action in execution["actions"]]
    return sorted(details, key=lambda detail: detail.get("startTime") or 0, reverse=True)


def waiting_approval(executions: list[dict[str, Any]], stage_name: str, action_name: str, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The execution and the action record that ``token`` was handed out for (answered or not), or None."""
    for execution in executions:
        for action in execution.get("actions") or []:
            if (action.get("stageName"), action.get("actionName"), action.get("token")) == (stage_name, action_name, token):
                return execution, action
    return None


def page(items: list[Item], key: Callable[[Item], str], max_results: int | None, next_token: str | None) -> tuple[list[Item], str | None]:
    """One page of ``items`` and the token of the next (None on the last).

    The token is the key of the next page's first item, so executions that start meanwhile (at the
    front of a newest-first list) do not shift the pages."""
    start = 0
    if next_token:
        keys = [key(item) for item in items]
        if next_token not in keys:
            raise UnknownToken(next_token)
        start = keys.index(next_token)
    end = start + (max_results or DEFAULT_PAGE_SIZE)
    return items[start:end], key(items[end]) if end < len(items) else None
