"""``provisioner status``: stages, actions and executions (Stubber for AWS's exact answers; the local emulator's from the runner's records), errors, CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from provisioner import cli
from provisioner.commands.status import status_json, status_text
from provisioner.configuration.target import Target
from provisioner.errors import UserError
from provisioner.operations import aws
from provisioner.operations.pipeline_state import format_duration, read_executions, read_status
from tests.aws_fixtures import (  # noqa: F401 (fixtures)
    DEVOPS,
    MOTO_ACCOUNT,
    REGION,
    aws_env,
    create_pipeline,
    make_project,
    moved_to_account,
    moto_aws,
    moto_server,
    project,
    run_cli,
)

PIPELINE = "acme-delivery"
READ_AT = datetime(2024, 5, 3, 12, 5, tzinfo=timezone.utc)
NEWEST = "7c1e5a90-3b2d-4f6e-9a41-2d8f0c6b5e13"
OLDER = "b4d2f6e8-1a3c-4e5f-8b7d-9c0e1f2a3b4c"


def utc(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 5, 3, hour, minute, second, tzinfo=timezone.utc)


def action(name: str, status: str | None = None, at: datetime | None = None, **latest) -> dict:
    state: dict = {"actionName": name}
    if status is not None:
        state["latestExecution"] = {"status": status, "lastStatusChange": at, **latest}
    return state


def build(name: str, project: str) -> dict:
    return {"name": name, "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
            "configuration": {"ProjectName": project}}  # fmt: skip


GET_PIPELINE = {
    "pipeline": {
        "name": PIPELINE,
        "roleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/acme-codepipeline",
        "artifactStore": {"type": "S3", "location": f"acme-artifacts-{MOTO_ACCOUNT}-{REGION}"},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"}}]},
            {"name": "Synth", "actions": [build("Synth", "acme-synth")]},
            {"name": "Deploy-dev", "actions": [build("Plan-dev", "acme-plan-dev"), build("Apply-dev", "acme-apply-dev")]},
            {"name": "Deploy-prod", "actions": [build("Plan-prod", "acme-plan-prod"), build("Apply-prod", "acme-apply-prod")]},
        ],
        "version": 4,
        "pipelineType": "V2",
    }
}  # fmt: skip

# The newest execution is in Synth; the one before failed applying to dev; someone froze prod.
GET_PIPELINE_STATE = {
    "pipelineName": PIPELINE,
    "pipelineVersion": 4,
    "stageStates": [
        {
            "stageName": "Source",
            "latestExecution": {"pipelineExecutionId": NEWEST, "status": "Succeeded"},
            "actionStates": [action("Source", "Succeeded", utc(12, 0, 40), summary="Add the qa environment")],
        },
        {
            "stageName": "Synth",
            "latestExecution": {"pipelineExecutionId": NEWEST, "status": "InProgress"},
            "actionStates": [
                action("Synth", "InProgress", utc(12, 0, 45),
                       externalExecutionUrl="https://console.aws.amazon.com/codesuite/codebuild/projects/acme-synth/build/1")
            ],
        },
        {
            "stageName": "Deploy-dev",
            "latestExecution": {"pipelineExecutionId": OLDER, "status": "Failed"},
            "actionStates": [
                action("Plan-dev", "Succeeded", utc(10, 6, 12)),
                action("Apply-dev", "Failed", utc(10, 14, 32),
                       errorDetails={"code": "JobFailed", "message": "Error while executing command: terraform apply plan.tfplan.\nReason: exit status 1"}),
            ],
        },
        {
            "stageName": "Deploy-prod",
            "inboundTransitionState": {"enabled": False, "disabledReason": "Change freeze until Monday"},
            "actionStates": [action("Plan-prod"), action("Apply-prod")],
        },
    ],
}  # fmt: skip

LIST_EXECUTIONS = {
    "pipelineExecutionSummaries": [
        {
            "pipelineExecutionId": NEWEST,
            "status": "InProgress",
            "startTime": utc(12, 0, 0),
            "lastUpdateTime": utc(12, 0, 45),
            "sourceRevisions": [{"actionName": "Source", "revisionId": "9f2c4e1a7b3d5c6e8f0a1b2c3d4e5f6a7b8c9d0e", "revisionSummary": "Add the qa environment"}],
            "trigger": {"triggerType": "WebhookV2", "triggerDetail": "arn:aws:codeconnections:us-east-1:123456789012:connection/1a2b"},
        },
        {
            "pipelineExecutionId": OLDER,
            "status": "Failed",
            "statusSummary": "Apply-dev failed",
            "startTime": utc(10, 0, 0),
            "lastUpdateTime": utc(10, 14, 32),
            "sourceRevisions": [{"actionName": "Source", "revisionId": "3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"}],
            "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": "arn:aws:sts::123456789012:assumed-role/operator/alice"},
        },
    ]
}  # fmt: skip

EXPECTED_TEXT = f"""\
Pipeline acme-delivery (V2, version 4) in account {MOTO_ACCOUNT}, {REGION}

stage / action  status      last change (UTC)    details
Source          Succeeded
  Source        Succeeded   2024-05-03 12:00:40  Add the qa environment
Synth           InProgress
  Synth         InProgress  2024-05-03 12:00:45
Deploy-dev      Failed
  Plan-dev      Succeeded   2024-05-03 10:06:12
  Apply-dev     Failed      2024-05-03 10:14:32  Error while executing command: terraform apply
                                                 plan.tfplan. Reason: exit status 1
Deploy-prod     -                                transition into this stage disabled: Change freeze
                                                 until Monday
  Plan-prod     -
  Apply-prod    -

Last 2 execution(s), newest first:
execution                             status      trigger         started     duration  revision
                                                                  (UTC)
{NEWEST}  InProgress  WebhookV2       2024-05-03  5m 00s    9f2c4e1a7b3d
                                                                  12:00:00    so far
{OLDER}  Failed      StartPipelineE  2024-05-03  14m 32s   3e4f5a6b7c8d
                                                  xecution        10:00:00"""


def stubbed_clients(executions: int = 5):
    """Clients whose every answer comes from the fixtures above, in the order status asks."""
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    codepipeline = boto3.client("codepipeline", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    sts_stub, codepipeline_stub = Stubber(sts), Stubber(codepipeline)
    sts_stub.add_response(
        "get_caller_identity", {"UserId": "AIDAEXAMPLE", "Account": MOTO_ACCOUNT, "Arn": f"arn:aws:iam::{MOTO_ACCOUNT}:user/alice"}
    )
    codepipeline_stub.add_response("get_pipeline", GET_PIPELINE, {"name": PIPELINE})
    codepipeline_stub.add_response("get_pipeline_state", GET_PIPELINE_STATE, {"name": PIPELINE})
    codepipeline_stub.add_response("list_pipeline_executions", LIST_EXECUTIONS, {"pipelineName": PIPELINE, "maxResults": executions})
    sts_stub.activate()
    codepipeline_stub.activate()
    clients = {"sts": sts, "codepipeline": codepipeline}
    return (lambda service, region, credentials=None: clients[service]), (sts_stub, codepipeline_stub)


def test_status_text_shows_each_action_and_the_last_executions(project):
    clients, stubs = stubbed_clients()
    status = read_status(project, 5, clients, now=READ_AT)
    for stub in stubs:
        stub.assert_no_pending_responses()
    assert status_text(status) == EXPECTED_TEXT


def test_status_json_keeps_what_the_text_shortens(project):
    clients, _ = stubbed_clients(executions=2)
    document = status_json(read_status(project, 2, clients, now=READ_AT))
    assert (document["pipeline"], document["pipeline_type"], document["version"]) == (PIPELINE, "V2", 4)
    prod = document["stages"][3]
    assert (prod["status"], prod["transition_disabled"]) == (None, "Change freeze until Monday")
    assert [action["status"] for action in prod["actions"]] == [None, None]
    synth = document["stages"][1]["actions"][0]
    assert synth["url"].endswith("/acme-synth/build/1")
    newest, older = document["executions"]
    assert (newest["id"], newest["running"], newest["duration_seconds"]) == (NEWEST, True, 300)
    assert newest["revision"] == "9f2c4e1a7b3d5c6e8f0a1b2c3d4e5f6a7b8c9d0e"
    assert (older["status"], older["duration_seconds"], older["summary"]) == ("Failed", 14 * 60 + 32, "Apply-dev failed")
    assert older["trigger_detail"] == "arn:aws:sts::123456789012:assumed-role/operator/alice"
    assert json.loads(json.dumps(document)) == document


def test_executions_are_read_newest_first_and_capped_at_n_from_moto(moto_aws, project):
    create_pipeline(project)
    codepipeline = boto3.client("codepipeline", region_name=REGION)
    started = [codepipeline.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"] for _ in range(3)]
    executions = read_executions(aws.client(Target(), "codepipeline", REGION), PIPELINE, 2)
    assert [execution.execution_id for execution in executions] == [started[2], started[1]]
    assert {execution.trigger for execution in executions} == {"StartPipelineExecution"}
    assert all(execution.start.tzinfo == timezone.utc for execution in executions)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (60, "1m 00s"), (872, "14m 32s"), (3600, "1h 00m"), (3 * 3600 + 7 * 60 + 59, "3h 07m")],
)
def test_durations_read_like_a_clock(seconds, shown):
    assert format_duration(timedelta(seconds=seconds)) == shown


# --- errors: one line, exit 2 ------------------------------------------------------------------


def test_a_missing_pipeline_says_to_deploy_the_devops_stack(moto_aws, tmp_path, capsys):
    folder, _ = make_project(tmp_path)
    assert cli.main(["status", "--environments", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"provisioner: pipeline acme-delivery does not exist in account {MOTO_ACCOUNT} ({REGION}): "
        "deploy the devops stack first (`provisioner doctor` checks the whole setup)\n"
    )


def test_status_asks_the_local_emulator_when_the_switch_is_on(moto_server, tmp_path, capsys):
    folder, _ = make_project(tmp_path)
    assert cli.main(["status", "--environments", str(folder)]) == 2
    assert capsys.readouterr().err.startswith(f"provisioner: pipeline acme-delivery does not exist in account {MOTO_ACCOUNT}")


def test_credentials_for_another_account_are_refused(moto_aws, tmp_path):
    _, other = make_project(tmp_path, *moved_to_account("111111111111"))
    with pytest.raises(UserError) as raised:
        read_status(other, 5, aws.client_factory(Target()))
    assert str(raised.value) == (
        f"your credentials are for account {MOTO_ACCOUNT} (arn:aws:sts::{MOTO_ACCOUNT}:user/moto), but the DevOps account "
        "in devops.hcl is 111111111111: use credentials for 111111111111 (AWS_PROFILE=<its profile>)"
    )


def test_status_without_credentials_exits_2_on_one_line(tmp_path):
    folder, _ = make_project(tmp_path)
    result = run_cli("status", "--environments", str(folder))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("provisioner: cannot read your AWS identity: no AWS credentials found; set AWS_PROFILE")
    assert result.stderr.count("\n") == 1


def test_status_with_a_config_error_exits_2_on_one_line(tmp_path):
    folder, _ = make_project(tmp_path)
    (folder / "dev" / "environment.hcl").write_text('account_id = "210987654321"\nregion = "us-east-1"\norder = "first"\nbootstrap {\n  profile = "a"\n}\n')
    result = run_cli("status", "--environments", str(folder))
    assert result.returncode == 2
    assert result.stderr == 'provisioner: environments/dev/environment.hcl:3: order must be a whole number, got string "first"\n'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "--executions 0: must be from 1 to 1000"),
        ("100000000000000000000", "--executions 100000000000000000000: must be from 1 to 1000"),
        ("ten", "--executions 'ten': must be a whole number from 1 to 1000"),
    ],
)
def test_a_bad_execution_count_exits_2_on_one_line(aws_env, tmp_path, capsys, value, message):
    folder, _ = make_project(tmp_path)
    assert cli.main(["status", "--environments", str(folder), "--executions", value]) == 2
    assert capsys.readouterr().err == f"provisioner: {message}\n"


# --- against the local emulator: executions from the local runner's records -------------------------


def test_status_shows_the_local_runners_executions(moto_server, tmp_path, capsys):
    """The emulator answers GetPipelineState and ListPipelineExecutions from the records the local
    pipeline runner writes: one execution waits for an approval, one failed, one succeeded."""
    from provisioner.configuration.target import target_from_environment
    from provisioner.local_aws import compat
    from provisioner.local_aws.pipeline_records import PipelineRecords
    from tests.local_aws.pipeline_fixtures import BUILD_URL, FAILED, OLDEST, WAITING, create_delivery_pipeline, write_three_executions

    folder, project = make_project(tmp_path)
    read_at = datetime(2024, 5, 3, 12, 0, tzinfo=timezone.utc)
    clients = aws.client_factory(target_from_environment({"PROVISIONER_TARGET": "local", "PROVISIONER_AWS_ENDPOINT": moto_server}))
    with compat.patched(tmp_path / "local-aws-pipelines") as data_dir:
        create_delivery_pipeline(lambda service: clients(service, REGION), PIPELINE)
        write_three_executions(PipelineRecords(data_dir, MOTO_ACCOUNT, REGION, PIPELINE), start=read_at.timestamp() - 3600)
        status = read_status(project, 5, clients, now=read_at)
        assert cli.main(["status", "--environments", str(folder), "--executions", "2"]) == 0
    assert status_text(status) == f"""\
Pipeline acme-delivery (V2, version 1) in account {MOTO_ACCOUNT}, {REGION}

stage / action  status      last change (UTC)    details
Source          Succeeded
  Source        Succeeded   2024-05-03 11:50:10
Synth           Succeeded
  Synth         Succeeded   2024-05-03 11:51:40
Deploy-dev      InProgress
  Plan-dev      Succeeded   2024-05-03 11:53:20
  Approve-dev   InProgress  2024-05-03 11:53:20
  Apply-dev     Failed      2024-05-03 11:40:00  Error while executing command: terraform apply
                                                 tfplan. Reason: exit status 1
Deploy-prod     -
  Plan-prod     -

Last 3 execution(s), newest first:
execution                             status      trigger           started     duration  revision
                                                                    (UTC)
{WAITING}  InProgress  StartPipelineExe  2024-05-03  10m 00s   v-33333333
                                                  cution            11:50:00    so far
{FAILED}  Failed      StartPipelineExe  2024-05-03  6m 40s    v-22222222
                                                  cution            11:33:20
{OLDEST}  Succeeded   StartPipelineExe  2024-05-03  6m 40s    v-11111111
                                                  cution            11:16:40"""
    assert status.stages[2].actions[2].url == BUILD_URL, "the failed build's link"
    printed = capsys.readouterr().out
    assert "  Approve-dev   InProgress" in printed and "Last 2 execution(s), newest first:" in printed
    assert WAITING in printed and OLDEST not in printed, "--executions 2 pages through the emulator's answers"
