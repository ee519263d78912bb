"""A delivery pipeline and execution records written as the local pipeline runner writes them (``pipeline_records``).

Shared by the tests of the emulator's execution calls, ``provisioner local-aws approve`` and ``provisioner status``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from provisioner.local_aws.pipeline_records import PipelineRecords

SOURCE = {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}
CODEBUILD = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
APPROVAL = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}
OLDEST, FAILED, WAITING = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002", "33333333-0000-4000-8000-000000000003"
TOKEN = "0b8a2f4e-6c1d-4e3f-9a7b-5d2c1e0f9a8b"
BUILD_URL = "https://console.aws.amazon.com/codesuite/codebuild/projects/demo-apply-dev/build/demo-apply-dev:7"
OPERATOR = "arn:aws:sts::123456789012:assumed-role/operator/alice"


def create_delivery_pipeline(client: Callable[[str], Any], name: str, role_name: str = "delivery") -> None:
    """Source, Synth, Deploy-dev (Plan-dev, Approve-dev, Apply-dev) and Deploy-prod (Plan-prod)."""
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    def action(action_name: str, type_id: dict, run_order: int = 1) -> dict:
        return {"name": action_name, "actionTypeId": type_id, "runOrder": run_order}

    client("codepipeline").create_pipeline(
        pipeline={
            "name": name,
            "roleArn": role,
            "artifactStore": {"type": "S3", "location": "artifacts"},
            "pipelineType": "V2",
            "stages": [
                {"name": "Source", "actions": [{**action("Source", SOURCE), "outputArtifacts": [{"name": "source"}]}]},
                {"name": "Synth", "actions": [action("Synth", CODEBUILD)]},
                {"name": "Deploy-dev", "actions": [action("Plan-dev", CODEBUILD), action("Approve-dev", APPROVAL, 2), action("Apply-dev", CODEBUILD, 3)]},
                {"name": "Deploy-prod", "actions": [action("Plan-prod", CODEBUILD)]},
            ],
        }
    )  # fmt: skip


def detail(execution_id: str, stage: str, name: str, status: str, start: float, end: float, type_id: dict = CODEBUILD, **result) -> dict:
    """An ActionExecutionDetail as the runner records it."""
    output: dict = {"executionResult": result, "outputVariables": {}}
    if type_id is SOURCE:
        output["outputArtifacts"] = [{"name": "source", "s3location": {"bucket": "artifacts", "key": f"source/{execution_id[:8]}"}}]
    return {
        "pipelineExecutionId": execution_id, "actionExecutionId": f"{execution_id[:8]}-{name}", "pipelineVersion": 1,
        "stageName": stage, "actionName": name, "startTime": start, "lastUpdateTime": end, "status": status,
        "input": {"actionTypeId": type_id, "configuration": {}}, "output": output,
    }  # fmt: skip


def execution(pipeline: str, execution_id: str, status: str, start: float, stages: list[tuple[str, str]], actions: list[dict], **extra) -> dict:
    """An execution record as the runner writes it: the stages entered, in order, and their actions."""
    end = max((action["lastUpdateTime"] for action in actions), default=start)
    return {
        "pipelineName": pipeline, "pipelineVersion": 1, "pipelineExecutionId": execution_id, "status": status, "startTime": start,
        "lastUpdateTime": end, "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": OPERATOR},
        "executionMode": "SUPERSEDED", "sourceRevisions": [{"actionName": "Source", "revisionId": f"v-{execution_id[:8]}", "revisionSummary": "Add the qa environment"}],
        "variables": [],
        "stages": [{"stageName": name, "status": stage_status, "startTime": start, "lastUpdateTime": end} for name, stage_status in stages],
        "actions": actions, **extra,
    }  # fmt: skip


def write_three_executions(records: PipelineRecords, start: float = 0) -> PipelineRecords:
    """The oldest succeeded up to dev; the next failed applying to dev; the newest waits for dev's approval.

    Times are ``start`` plus 1000 s (oldest), 2000 s and 3000 s (newest), and a few minutes each."""
    t, pipeline = start, records.pipeline
    records.write_execution(execution(pipeline, OLDEST, "Succeeded", t + 1000, [("Source", "Succeeded"), ("Synth", "Succeeded"), ("Deploy-dev", "Succeeded")], [
        detail(OLDEST, "Source", "Source", "Succeeded", t + 1000, t + 1010, SOURCE, externalExecutionSummary="Add the qa environment"),
        detail(OLDEST, "Synth", "Synth", "Succeeded", t + 1010, t + 1100),
        detail(OLDEST, "Deploy-dev", "Plan-dev", "Succeeded", t + 1100, t + 1200),
        detail(OLDEST, "Deploy-dev", "Approve-dev", "Succeeded", t + 1200, t + 1250, APPROVAL, externalExecutionSummary="looks right"),
        detail(OLDEST, "Deploy-dev", "Apply-dev", "Succeeded", t + 1250, t + 1400),
    ]))  # fmt: skip
    records.write_execution(execution(pipeline, FAILED, "Failed", t + 2000, [("Source", "Succeeded"), ("Synth", "Succeeded"), ("Deploy-dev", "Failed")], [
        detail(FAILED, "Source", "Source", "Succeeded", t + 2000, t + 2010, SOURCE),
        detail(FAILED, "Synth", "Synth", "Succeeded", t + 2010, t + 2100),
        detail(FAILED, "Deploy-dev", "Plan-dev", "Succeeded", t + 2100, t + 2200),
        detail(FAILED, "Deploy-dev", "Approve-dev", "Succeeded", t + 2200, t + 2250, APPROVAL),
        detail(FAILED, "Deploy-dev", "Apply-dev", "Failed", t + 2250, t + 2400, externalExecutionId="demo-apply-dev:7", externalExecutionUrl=BUILD_URL,
               errorDetails={"code": "JobFailed", "message": "Error while executing command: terraform apply tfplan. Reason: exit status 1"}),
    ], statusSummary="Apply-dev failed", variables=[{"name": "ENVIRONMENT", "resolvedValue": "dev"}]))  # fmt: skip
    records.write_execution(execution(pipeline, WAITING, "InProgress", t + 3000, [("Source", "Succeeded"), ("Synth", "Succeeded"), ("Deploy-dev", "InProgress")], [
        detail(WAITING, "Source", "Source", "Succeeded", t + 3000, t + 3010, SOURCE),
        detail(WAITING, "Synth", "Synth", "Succeeded", t + 3010, t + 3100),
        detail(WAITING, "Deploy-dev", "Plan-dev", "Succeeded", t + 3100, t + 3200),
        {**detail(WAITING, "Deploy-dev", "Approve-dev", "InProgress", t + 3200, t + 3200, APPROVAL), "token": TOKEN},
    ]))  # fmt: skip
    return records
