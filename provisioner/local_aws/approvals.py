"""Answer a manual approval that waits in a pipeline of the local emulated AWS, as a person would on AWS.

The approval is found as the console finds it: ``GetPipelineState`` lists the stage's actions, and
the one that waits carries the token handed out for it; ``PutApprovalResult`` answers it with that
token. The emulator writes the answer for the local pipeline runner (``pipeline_records``). Every
problem is a ``UserError``: one line, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioner.errors import UserError
from provisioner.local_aws import DEVOPS_ACCOUNT_ID
from provisioner.operations import aws
from provisioner.operations.aws import error_code, explain


@dataclass(frozen=True)
class Answered:
    """The approval that was answered."""

    pipeline: str
    stage: str
    action: str
    execution_id: str
    approved: bool

    def describe(self) -> str:
        verb = "approved" if self.approved else "rejected"
        return f"{verb} {self.action} in {self.stage} of {self.pipeline} (execution {self.execution_id})"


def answer(codepipeline: Any, pipeline: str, stage: str, action: str | None, approved: bool, comment: str) -> Answered:
    """Answer the approval that waits in ``stage`` of ``pipeline`` (``action`` names it when several wait)."""
    state = _call(codepipeline.get_pipeline_state, f"cannot read pipeline {pipeline}", pipeline, name=pipeline)
    stages = {found["stageName"]: found for found in state.get("stageStates", [])}
    if stage not in stages:
        raise UserError(f"pipeline {pipeline} has no stage {stage} (its stages: {', '.join(stages)})")
    actions = [found["actionName"] for found in stages[stage].get("actionStates", [])]
    if action is not None and action not in actions:
        raise UserError(f"stage {stage} of {pipeline} has no action {action} (its actions: {', '.join(actions)})")
    waiting = [
        found
        for found in stages[stage].get("actionStates", [])
        if (found.get("latestExecution") or {}).get("status") == "InProgress" and (found.get("latestExecution") or {}).get("token")
        and action in (None, found["actionName"])
    ]  # fmt: skip
    if not waiting:
        what = f"{action} in {stage}" if action else f"stage {stage}"
        raise UserError(f"nothing waits for an approval in {what} of {pipeline}")
    if len(waiting) > 1:
        names = ", ".join(found["actionName"] for found in waiting)
        raise UserError(f"several approvals wait in {stage} of {pipeline} ({names}): name one with --action")
    chosen = waiting[0]
    _call(
        codepipeline.put_approval_result,
        f"cannot answer {chosen['actionName']} in {stage} of {pipeline}",
        pipeline,
        pipelineName=pipeline,
        stageName=stage,
        actionName=chosen["actionName"],
        result={"summary": comment, "status": "Approved" if approved else "Rejected"},
        token=chosen["latestExecution"]["token"],
    )
    execution_id = (stages[stage].get("latestExecution") or {}).get("pipelineExecutionId", "unknown")
    return Answered(pipeline, stage, chosen["actionName"], execution_id, approved)


def _call(operation: Any, what: str, pipeline: str, **arguments: Any) -> dict[str, Any]:
    try:
        return operation(**arguments)
    except aws.api_errors() as error:
        if error_code(error) == "PipelineNotFoundException":
            region = operation.__self__.meta.region_name
            raise UserError(
                f"pipeline {pipeline} does not exist in the local AWS (account {DEVOPS_ACCOUNT_ID}, {region}): deploy the devops stack "
                "to it, or name the region with --region"
            ) from None
        raise UserError(f"{what}: {explain(error).in_one_line()}") from None
