"""``provisioner.local_aws.compat``: each patch closes its gap and leaves the rest of moto's behaviour alone.

moto runs in-process here (``mock_aws``) with the patches applied for each test and removed after it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from provisioner.local_aws import compat
from provisioner.local_aws.pipeline_records import PipelineRecords
from tests.local_aws.pipeline_fixtures import BUILD_URL, FAILED, OLDEST, TOKEN, WAITING, create_delivery_pipeline, execution, write_three_executions

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/build"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"}


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "PROVISIONER_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    from moto import mock_aws

    with compat.patched() as data_dir, mock_aws():
        yield data_dir


def client(service: str):
    return boto3.client(service, region_name=REGION)


# --- the patch set --------------------------------------------------------------------------------
def test_every_patch_names_its_gap_and_its_fix() -> None:
    lines = compat.describe()
    assert len(lines) == len(compat.PATCHES) >= 4
    assert all(" -> " in line for line in lines)


def test_patches_are_undone_after_the_block() -> None:
    from moto.codebuild import responses
    from moto.codepipeline.models import CodePipeline
    from moto.codepipeline.responses import CodePipelineResponse

    before = (responses._validate_required_params_source, CodePipeline.__dict__["metadata"], CodePipelineResponse.list_pipeline_executions)
    with compat.patched() as data_dir:
        assert responses._validate_required_params_source is not before[0]
        assert hasattr(CodePipelineResponse, "get_pipeline_state") and data_dir.is_dir()
    assert (responses._validate_required_params_source, CodePipeline.__dict__["metadata"], CodePipelineResponse.list_pipeline_executions) == before
    assert not hasattr(CodePipelineResponse, "get_pipeline_state"), "a method moto lacks is removed again"
    assert not data_dir.exists(), "the temporary data directory is removed"


def test_another_moto_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(RuntimeError, match="written for moto 5.2.5, found 5.3.0"):
        compat.apply(data_dir=Path("unused"))


def test_without_the_patches_moto_shows_each_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the patches' reason to exist: each gap is still there in the pinned moto."""
    from moto import mock_aws
    from moto.codepipeline.models import CodePipeline
    from moto.iam.access_control import PermissionResult

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    compat.undo()
    with mock_aws():
        with pytest.raises(ClientError, match="location is required"):
            client("codebuild").create_project(
                name="px", source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"}, environment=ENVIRONMENT, serviceRole=ROLE_ARN
            )
        create_delivery_pipeline(client, PIPELINE)
        codepipeline = client("codepipeline")
        started = codepipeline.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        summary = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"][0]
        assert (summary["pipelineExecutionId"], summary["status"]) == (started, "Succeeded"), "nothing ran, yet it succeeded"
        for call, arguments in (
            ("get_pipeline_state", {"name": PIPELINE}),
            ("list_action_executions", {"pipelineName": PIPELINE}),
            ("stop_pipeline_execution", {"pipelineName": PIPELINE, "pipelineExecutionId": started}),
            ("put_approval_result", {"pipelineName": PIPELINE, "stageName": "Deploy-dev", "actionName": "Approve-dev",
                                     "result": {"summary": "", "status": "Approved"}, "token": TOKEN}),
        ):  # fmt: skip
            with pytest.raises(NotImplementedError):
                getattr(codepipeline, call)(**arguments)
    stage = {"name": "S", "actions": []}
    assert isinstance(CodePipeline(ACCOUNT, REGION, {"name": "p", "stages": [stage]}).metadata["created"], str)
    assert evaluate(DENY_INSECURE) == PermissionResult.DENIED


# --- CodeBuild ------------------------------------------------------------------------------------
def test_codepipeline_projects_need_no_location_and_keep_their_key(moto: Path) -> None:
    codebuild = client("codebuild")
    codebuild.create_project(
        name="demo-synth",
        source={"type": "CODEPIPELINE", "buildspec": "version: 0.2"},
        artifacts={"type": "CODEPIPELINE"},
        environment=ENVIRONMENT,
        serviceRole=ROLE_ARN,
        encryptionKey=KEY_ARN,
    )
    project = codebuild.batch_get_projects(names=["demo-synth"])["projects"][0]
    assert project["encryptionKey"] == KEY_ARN
    assert project["source"]["type"] == "CODEPIPELINE"
    assert "location" not in project["source"], "the location is only supplied to moto's validation"


def test_other_source_types_still_need_a_location(moto: Path) -> None:
    with pytest.raises(ClientError, match="location is required"):
        client("codebuild").create_project(
            name="needs-location", source={"type": "S3"}, artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT, serviceRole=ROLE_ARN
        )


def test_a_project_without_a_key_keeps_moto_default(moto: Path) -> None:
    codebuild = client("codebuild")
    codebuild.create_project(
        name="no-key", source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"}, environment=ENVIRONMENT, serviceRole=ROLE_ARN
    )
    assert codebuild.batch_get_projects(names=["no-key"])["projects"][0]["encryptionKey"].endswith(":alias/aws/s3")


# --- CodePipeline ---------------------------------------------------------------------------------
def test_pipeline_timestamps_are_epoch_numbers(moto: Path) -> None:
    from moto.codepipeline.models import CodePipeline

    stage = {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}]}
    pipeline = CodePipeline(ACCOUNT, REGION, {"name": "p", "roleArn": ROLE_ARN, "stages": [stage, {**stage, "name": "Two"}]})
    assert isinstance(pipeline.metadata["created"], float)
    assert abs(pipeline.metadata["created"] - time.time()) < 60, "naive UTC must not be read as local time"


def test_get_pipeline_metadata_is_a_timestamp_near_now(moto: Path) -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = client("iam").create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    action = {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}
    client("codepipeline").create_pipeline(
        pipeline={
            "name": "demo-delivery",
            "roleArn": role,
            "artifactStore": {"type": "S3", "location": "artifacts"},
            "stages": [
                {"name": "Source", "actions": [{"name": "Source", "actionTypeId": action, "outputArtifacts": [{"name": "s"}]}]},
                {"name": "Two", "actions": [{"name": "Two", "actionTypeId": action, "inputArtifacts": [{"name": "s"}]}]},
            ],
        }
    )
    created = client("codepipeline").get_pipeline(name="demo-delivery")["metadata"]["created"]
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 60


# --- CodePipeline executions, from the local runner's records ----------------------------------------
PIPELINE = "demo-delivery"


@pytest.fixture
def delivery(moto: Path) -> PipelineRecords:
    create_delivery_pipeline(client, PIPELINE)
    return write_three_executions(PipelineRecords(moto, ACCOUNT, REGION, PIPELINE))


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def test_pipeline_state_lists_every_stage_and_action_before_any_execution(moto: Path) -> None:
    create_delivery_pipeline(client, PIPELINE)
    state = client("codepipeline").get_pipeline_state(name=PIPELINE)
    assert (state["pipelineName"], state["pipelineVersion"]) == (PIPELINE, 1)
    assert [(stage["stageName"], [a["actionName"] for a in stage["actionStates"]]) for stage in state["stageStates"]] == [
        ("Source", ["Source"]), ("Synth", ["Synth"]), ("Deploy-dev", ["Plan-dev", "Approve-dev", "Apply-dev"]), ("Deploy-prod", ["Plan-prod"]),
    ]  # fmt: skip
    assert not any("latestExecution" in stage for stage in state["stageStates"])
    assert not any("latestExecution" in action for stage in state["stageStates"] for action in stage["actionStates"])
    assert "inboundTransitionState" not in state["stageStates"][0]
    assert all(stage["inboundTransitionState"] == {"enabled": True} for stage in state["stageStates"][1:])
    assert abs((datetime.now(timezone.utc) - state["created"]).total_seconds()) < 60, "created is a timestamp"


def test_pipeline_state_shows_the_newest_execution_that_reached_each_stage_and_action(delivery: PipelineRecords) -> None:
    stages = {stage["stageName"]: stage for stage in client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"]}
    assert stages["Source"]["latestExecution"] == {"pipelineExecutionId": WAITING, "status": "Succeeded"}
    assert stages["Deploy-dev"]["latestExecution"] == {"pipelineExecutionId": WAITING, "status": "InProgress"}
    assert "latestExecution" not in stages["Deploy-prod"], "no execution reached it"
    plan, approve, apply = (action["latestExecution"] for action in stages["Deploy-dev"]["actionStates"])
    assert (plan["actionExecutionId"], plan["status"], epoch(plan["lastStatusChange"])) == (f"{WAITING[:8]}-Plan-dev", "Succeeded", 3200)
    assert (approve["status"], approve["token"]) == ("InProgress", TOKEN)
    assert (apply["actionExecutionId"], apply["status"], epoch(apply["lastStatusChange"])) == (f"{FAILED[:8]}-Apply-dev", "Failed", 2400)
    assert apply["errorDetails"]["message"].startswith("Error while executing command: terraform apply tfplan")
    assert (apply["externalExecutionId"], apply["externalExecutionUrl"]) == ("demo-apply-dev:7", BUILD_URL)
    assert "token" not in plan and "token" not in apply


def test_pipeline_state_keeps_to_the_callers_account_and_region(delivery: PipelineRecords, moto: Path) -> None:
    elsewhere = PipelineRecords(moto, ACCOUNT, "us-west-2", PIPELINE)
    elsewhere.write_execution(execution(PIPELINE, "44444444-0000-4000-8000-000000000004", "InProgress", 9000, [("Deploy-prod", "InProgress")], []))
    stages = client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"]
    assert "latestExecution" not in stages[3], "another region's records are another pipeline's"
    assert len(client("codepipeline").list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]) == 3


def test_executions_are_listed_newest_first_from_the_records(delivery: PipelineRecords) -> None:
    summaries = client("codepipeline").list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    assert [(s["pipelineExecutionId"], s["status"]) for s in summaries] == [(WAITING, "InProgress"), (FAILED, "Failed"), (OLDEST, "Succeeded")]
    failed = summaries[1]
    assert (epoch(failed["startTime"]), epoch(failed["lastUpdateTime"]), failed["statusSummary"]) == (2000, 2400, "Apply-dev failed")
    assert failed["sourceRevisions"] == [{"actionName": "Source", "revisionId": f"v-{FAILED[:8]}", "revisionSummary": "Add the qa environment"}]
    assert failed["trigger"]["triggerType"] == "StartPipelineExecution" and failed["executionMode"] == "SUPERSEDED"
    assert "stages" not in failed and "actions" not in failed and "variables" not in failed, "a summary has the summary's fields"


def test_executions_come_in_pages(delivery: PipelineRecords) -> None:
    codepipeline = client("codepipeline")
    first = codepipeline.list_pipeline_executions(pipelineName=PIPELINE, maxResults=2)
    assert [s["pipelineExecutionId"] for s in first["pipelineExecutionSummaries"]] == [WAITING, FAILED]
    second = codepipeline.list_pipeline_executions(pipelineName=PIPELINE, maxResults=2, nextToken=first["nextToken"])
    assert [s["pipelineExecutionId"] for s in second["pipelineExecutionSummaries"]] == [OLDEST]
    assert "nextToken" not in second
    pages = codepipeline.get_paginator("list_pipeline_executions").paginate(pipelineName=PIPELINE, PaginationConfig={"PageSize": 1})
    assert [len(page["pipelineExecutionSummaries"]) for page in pages] == [1, 1, 1]
    with pytest.raises(ClientError) as raised:
        codepipeline.list_pipeline_executions(pipelineName=PIPELINE, nextToken="not-a-token")
    assert raised.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_executions_that_succeeded_in_a_stage(delivery: PipelineRecords) -> None:
    summaries = client("codepipeline").list_pipeline_executions(pipelineName=PIPELINE, filter={"succeededInStage": {"stageName": "Deploy-dev"}})
    assert [s["pipelineExecutionId"] for s in summaries["pipelineExecutionSummaries"]] == [OLDEST]


def test_one_execution_with_its_variables_and_artifact_revisions(delivery: PipelineRecords) -> None:
    found = client("codepipeline").get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=FAILED)["pipelineExecution"]
    assert (found["pipelineName"], found["pipelineVersion"], found["status"], found["statusSummary"]) == (PIPELINE, 1, "Failed", "Apply-dev failed")
    assert found["variables"] == [{"name": "ENVIRONMENT", "resolvedValue": "dev"}]
    assert found["artifactRevisions"] == [{"name": "source", "revisionId": f"v-{FAILED[:8]}", "revisionSummary": "Add the qa environment"}]
    assert found["trigger"]["triggerDetail"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/alice"
    with pytest.raises(ClientError) as raised:
        client("codepipeline").get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId="55555555-0000-4000-8000-000000000005")
    assert raised.value.response["Error"]["Code"] == "PipelineExecutionNotFoundException"


@pytest.mark.parametrize(
    ("call", "arguments"),
    [
        ("get_pipeline_state", {"name": "missing"}),
        ("list_pipeline_executions", {"pipelineName": "missing"}),
        ("get_pipeline_execution", {"pipelineName": "missing", "pipelineExecutionId": WAITING}),
        ("list_action_executions", {"pipelineName": "missing"}),
        ("start_pipeline_execution", {"name": "missing"}),
        ("stop_pipeline_execution", {"pipelineName": "missing", "pipelineExecutionId": WAITING}),
        ("put_approval_result", {"pipelineName": "missing", "stageName": "Deploy-dev", "actionName": "Approve-dev",
                                 "result": {"summary": "", "status": "Approved"}, "token": TOKEN}),
    ],
)  # fmt: skip
def test_a_pipeline_moto_does_not_have_is_not_found_whatever_the_records(delivery: PipelineRecords, moto: Path, call: str, arguments: dict) -> None:
    PipelineRecords(moto, ACCOUNT, REGION, "missing").write_execution(execution("missing", WAITING, "InProgress", 1, [], []))
    with pytest.raises(ClientError) as raised:
        getattr(client("codepipeline"), call)(**arguments)
    assert raised.value.response["Error"]["Code"] == "PipelineNotFoundException"


def test_action_executions_of_one_execution_newest_first_without_tokens(delivery: PipelineRecords) -> None:
    codepipeline = client("codepipeline")
    details = codepipeline.list_action_executions(pipelineName=PIPELINE, filter={"pipelineExecutionId": WAITING})["actionExecutionDetails"]
    assert [d["actionName"] for d in details] == ["Approve-dev", "Plan-dev", "Synth", "Source"]
    assert {d["pipelineExecutionId"] for d in details} == {WAITING}
    assert "token" not in details[0], "ListActionExecutions has no token"
    assert details[3]["output"]["outputArtifacts"][0]["name"] == "source"
    everything = codepipeline.list_action_executions(pipelineName=PIPELINE, maxResults=6)
    assert len(everything["actionExecutionDetails"]) == 6 and everything["actionExecutionDetails"][0]["actionName"] == "Approve-dev"
    rest = codepipeline.list_action_executions(pipelineName=PIPELINE, maxResults=10, nextToken=everything["nextToken"])
    assert len(rest["actionExecutionDetails"]) == 14 - 6 and "nextToken" not in rest
    assert rest["actionExecutionDetails"][-1]["actionExecutionId"] == f"{OLDEST[:8]}-Source"
    with pytest.raises(ClientError) as raised:
        codepipeline.list_action_executions(pipelineName=PIPELINE, filter={"pipelineExecutionId": "55555555-0000-4000-8000-000000000005"})
    assert raised.value.response["Error"]["Code"] == "PipelineExecutionNotFoundException"
    with pytest.raises(ClientError) as raised:
        codepipeline.list_action_executions(pipelineName=PIPELINE, nextToken="not-a-token")
    assert raised.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_a_start_is_a_request_for_the_runner_and_in_progress_at_once(delivery: PipelineRecords) -> None:
    codepipeline = client("codepipeline")
    before = time.time()
    started = codepipeline.start_pipeline_execution(
        name=PIPELINE,
        variables=[{"name": "ENVIRONMENT", "value": "prod"}],
        sourceRevisions=[{"actionName": "Source", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": "v42"}],
    )["pipelineExecutionId"]
    (request,) = delivery.pending_starts()
    assert request["pipelineExecutionId"] == started and request["requestedAt"] >= before
    assert request["variables"] == [{"name": "ENVIRONMENT", "value": "prod"}]
    assert request["sourceRevisions"] == [{"actionName": "Source", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": "v42"}]
    assert request["trigger"] == {"triggerType": "StartPipelineExecution", "triggerDetail": f"arn:aws:sts::{ACCOUNT}:user/moto"}
    newest = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"][0]
    assert (newest["pipelineExecutionId"], newest["status"]) == (started, "InProgress")
    found = codepipeline.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=started)["pipelineExecution"]
    assert found["variables"] == [{"name": "ENVIRONMENT", "resolvedValue": "prod"}]
    delivery.write_execution(execution(PIPELINE, started, "InProgress", request["requestedAt"], [("Source", "InProgress")], []))
    assert [s["pipelineExecutionId"] for s in codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]].count(started) == 1, (
        "taken up, the record and the request are one execution"
    )


def test_an_execution_in_progress_can_be_stopped_once_then_abandoned(delivery: PipelineRecords) -> None:
    codepipeline = client("codepipeline")
    assert codepipeline.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=WAITING, reason="wrong branch")["pipelineExecutionId"] == WAITING
    assert delivery.stop_request(WAITING)["abandon"] is False and delivery.stop_request(WAITING)["reason"] == "wrong branch"
    newest = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"][0]
    assert (newest["status"], newest["stopTrigger"]) == ("Stopping", {"reason": "wrong branch"})
    with pytest.raises(ClientError) as raised:
        codepipeline.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=WAITING)
    assert raised.value.response["Error"]["Code"] == "DuplicatedStopRequestException"
    codepipeline.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=WAITING, abandon=True, reason="now")
    assert delivery.stop_request(WAITING)["abandon"] is True
    with pytest.raises(ClientError) as raised:
        codepipeline.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=WAITING, abandon=True)
    assert raised.value.response["Error"]["Code"] == "DuplicatedStopRequestException"


@pytest.mark.parametrize("execution_id", [OLDEST, FAILED, "55555555-0000-4000-8000-000000000005"])
def test_an_execution_not_in_progress_is_not_stoppable(delivery: PipelineRecords, execution_id: str) -> None:
    with pytest.raises(ClientError) as raised:
        client("codepipeline").stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=execution_id)
    assert raised.value.response["Error"]["Code"] == "PipelineExecutionNotStoppableException"
    assert delivery.stop_request(execution_id) is None


def approve(token: str = TOKEN, stage: str = "Deploy-dev", action: str = "Approve-dev", status: str = "Approved") -> dict:
    return client("codepipeline").put_approval_result(
        pipelineName=PIPELINE, stageName=stage, actionName=action, result={"summary": "plan reviewed", "status": status}, token=token
    )


def test_an_approval_that_waits_is_answered_once_with_its_token(delivery: PipelineRecords) -> None:
    before = time.time()
    approved_at = approve()["approvedAt"]
    assert before - 1 <= epoch(approved_at) <= time.time() + 1
    answer = delivery.approval(WAITING, "Deploy-dev", "Approve-dev")
    assert (answer["status"], answer["summary"]) == ("Approved", "plan reviewed")
    state = client("codepipeline").get_pipeline_state(name=PIPELINE)["stageStates"][2]["actionStates"][1]["latestExecution"]
    assert (state["status"], state["summary"], "token" in state) == ("Succeeded", "plan reviewed", False), "answered, it no longer waits"
    with pytest.raises(ClientError) as raised:
        approve(status="Rejected")
    assert raised.value.response["Error"]["Code"] == "ApprovalAlreadyCompletedException"
    assert delivery.approval(WAITING, "Deploy-dev", "Approve-dev")["status"] == "Approved", "the first answer stands"


def test_a_rejection_fails_the_approval(delivery: PipelineRecords) -> None:
    approve(status="Rejected")
    assert delivery.approval(WAITING, "Deploy-dev", "Approve-dev")["status"] == "Rejected"
    details = client("codepipeline").list_action_executions(pipelineName=PIPELINE, filter={"pipelineExecutionId": WAITING})["actionExecutionDetails"]
    assert details[0]["status"] == "Failed" and details[0]["output"]["executionResult"]["externalExecutionSummary"] == "plan reviewed"


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"token": "5d1c0e2f-0000-4000-8000-00000000dead"}, "InvalidApprovalTokenException"),
        ({"action": "Plan-dev"}, "InvalidApprovalTokenException"),
        ({"stage": "Deploy-qa"}, "StageNotFoundException"),
        ({"action": "Approve-qa"}, "ActionNotFoundException"),
    ],
)
def test_an_approval_answer_that_fits_no_waiting_approval_is_refused(delivery: PipelineRecords, arguments: dict, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        approve(**arguments)
    assert raised.value.response["Error"]["Code"] == code
    assert not (delivery.folder / "approvals").exists()


def test_the_token_of_an_approval_the_runner_completed_is_already_completed(delivery: PipelineRecords) -> None:
    record = delivery.execution(OLDEST)
    record["actions"][3]["token"] = "6e7f8a9b-0000-4000-8000-000000000006"
    delivery.write_execution(record)
    with pytest.raises(ClientError) as raised:
        approve(token="6e7f8a9b-0000-4000-8000-000000000006")
    assert raised.value.response["Error"]["Code"] == "ApprovalAlreadyCompletedException"


# --- bucket policies ------------------------------------------------------------------------------
DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::state", "arn:aws:s3:::state/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def evaluate(*statements: dict, incoming: dict[str, str] | None = None):
    from moto.iam.access_control import IAMPolicy

    policy = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return policy.is_action_permitted("s3:GetObject", "arn:aws:s3:::state/key", None, incoming)


def test_a_conditional_deny_moto_cannot_evaluate_does_not_apply() -> None:
    from moto.iam.access_control import PermissionResult

    with compat.patched():
        assert evaluate(DENY_INSECURE) == PermissionResult.NEUTRAL


def test_unconditional_statements_still_decide() -> None:
    from moto.iam.access_control import PermissionResult

    unconditional = {key: value for key, value in DENY_INSECURE.items() if key != "Condition"}
    with compat.patched():
        assert evaluate(unconditional) == PermissionResult.DENIED
        assert evaluate({**unconditional, "Effect": "Allow"}) == PermissionResult.PERMITTED


def test_a_condition_that_holds_still_applies() -> None:
    from moto.iam.access_control import PermissionResult

    deny_other_account = {**DENY_INSECURE, "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}
    with compat.patched():
        assert evaluate(deny_other_account, incoming={"aws:SourceAccount": "999999999999"}) == PermissionResult.DENIED
        assert evaluate(deny_other_account, incoming={"aws:SourceAccount": "123456789012"}) == PermissionResult.NEUTRAL


def test_objects_of_a_tls_only_bucket_can_be_read_and_written(moto: Path) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket="state", Policy=json.dumps({"Version": "2012-10-17", "Statement": [DENY_INSECURE]}))
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket="state", Key="stacks/devops/terraform.tfstate")  # missing, not forbidden
    s3.put_object(Bucket="state", Key="stacks/devops/terraform.tfstate", Body=b"{}")
    assert s3.get_object(Bucket="state", Key="stacks/devops/terraform.tfstate")["Body"].read() == b"{}"


# --- S3 lifecycle configurations -----------------------------------------------------------------
# The rule as the AWS provider 5.100.0 PUTs modules/encrypted_bucket.py's lifecycle (from a debug log).
PRODUCT_RULE = {
    "ID": "expire-noncurrent-versions-and-abort-incomplete-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
}


def lifecycle_read_back(rule: dict, **put: str) -> dict:
    s3 = client("s3")
    s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_lifecycle_configuration(Bucket="artifacts", LifecycleConfiguration={"Rules": [rule]}, **put)
    return s3.get_bucket_lifecycle_configuration(Bucket="artifacts")


def test_a_lifecycle_configuration_reads_back_as_put(moto: None) -> None:
    """The provider waits for 10 reads equal to what it sent: any difference would fail the apply after 3 minutes."""
    read = lifecycle_read_back(PRODUCT_RULE)
    assert read["Rules"] == [PRODUCT_RULE]
    assert read["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K", "AWS's default when none is put"


def test_a_lifecycle_configuration_reads_back_its_transition_default_minimum_object_size(moto: None) -> None:
    read = lifecycle_read_back(PRODUCT_RULE, TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert read["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    s3 = client("s3")
    s3.put_bucket_lifecycle_configuration(Bucket="artifacts", LifecycleConfiguration={"Rules": [PRODUCT_RULE]})
    assert s3.get_bucket_lifecycle_configuration(Bucket="artifacts")["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"


def test_without_the_patch_moto_answers_the_default_transition_size_whatever_was_put(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    compat.undo()
    with mock_aws():
        read = lifecycle_read_back(PRODUCT_RULE, TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert read["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"


# --- SQS ------------------------------------------------------------------------------------------
def redrive_policy_of_a_queue_with_a_dead_letter_queue() -> tuple[str, str]:
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    written = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}, separators=(",", ":"))  # terraform's jsonencode
    queue = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": written})["QueueUrl"]
    read = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    return written, read


def test_a_redrive_policy_reads_back_as_written(moto: Path) -> None:
    """AWS answers the compact JSON terraform's jsonencode writes: the provider then plans no change."""
    written, read = redrive_policy_of_a_queue_with_a_dead_letter_queue()
    assert read == written


def test_without_the_patch_moto_pads_the_redrive_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    compat.undo()
    with mock_aws():
        written, read = redrive_policy_of_a_queue_with_a_dead_letter_queue()
    assert read != written and json.loads(read) == json.loads(written)
