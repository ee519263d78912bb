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

    before = (responses._validate_required_params_source, CodePipeline.__dict__["metadata"])
    with compat.patched() as data_dir:
        assert responses._validate_required_params_source is not before[0]
        assert data_dir.is_dir()
    assert (responses._validate_required_params_source, CodePipeline.__dict__["metadata"]) == before
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
    stage = {"name": "S", "actions": []}
    assert isinstance(CodePipeline(ACCOUNT, REGION, {"name": "p", "stages": [stage]}).metadata["created"], str)
    assert evaluate(DENY_INSECURE) == PermissionResult.DENIED


# --- CodeBuild ------------------------------------------------------------------------------------
def test_codepipeline_projects_need_no_location_and_keep_their_key(moto: None) -> None:
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


def test_other_source_types_still_need_a_location(moto: None) -> None:
    with pytest.raises(ClientError, match="location is required"):
        client("codebuild").create_project(
            name="needs-location", source={"type": "S3"}, artifacts={"type": "NO_ARTIFACTS"}, environment=ENVIRONMENT, serviceRole=ROLE_ARN
        )


def test_a_project_without_a_key_keeps_moto_default(moto: None) -> None:
    codebuild = client("codebuild")
    codebuild.create_project(
        name="no-key", source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"}, environment=ENVIRONMENT, serviceRole=ROLE_ARN
    )
    assert codebuild.batch_get_projects(names=["no-key"])["projects"][0]["encryptionKey"].endswith(":alias/aws/s3")


# --- CodePipeline ---------------------------------------------------------------------------------
def test_pipeline_timestamps_are_epoch_numbers(moto: None) -> None:
    from moto.codepipeline.models import CodePipeline

    stage = {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}]}
    pipeline = CodePipeline(ACCOUNT, REGION, {"name": "p", "roleArn": ROLE_ARN, "stages": [stage, {**stage, "name": "Two"}]})
    assert isinstance(pipeline.metadata["created"], float)
    assert abs(pipeline.metadata["created"] - time.time()) < 60, "naive UTC must not be read as local time"


def test_get_pipeline_metadata_is_a_timestamp_near_now(moto: None) -> None:
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


def test_objects_of_a_tls_only_bucket_can_be_read_and_written(moto: None) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket="state", Policy=json.dumps({"Version": "2012-10-17", "Statement": [DENY_INSECURE]}))
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket="state", Key="stacks/devops/terraform.tfstate")  # missing, not forbidden
    s3.put_object(Bucket="state", Key="stacks/devops/terraform.tfstate", Body=b"{}")
    assert s3.get_object(Bucket="state", Key="stacks/devops/terraform.tfstate")["Body"].read() == b"{}"


# --- SQS ------------------------------------------------------------------------------------------
def redrive_policy_of_a_queue_with_a_dead_letter_queue() -> tuple[str, str]:
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    written = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}, separators=(",", ":"))  # terraform's jsonencode
    queue = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": written})["QueueUrl"]
    read = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    return written, read


def test_a_redrive_policy_reads_back_as_written(moto: None) -> None:
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
