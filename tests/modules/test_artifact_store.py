"""``modules.artifact_store.ArtifactStore``: the pipeline key and bucket, for the DevOps account's roles only."""

from __future__ import annotations

import json

import pytest

from tests.modules.helpers import KMS_USE_ACTIONS, as_list, at_path, by_sid, ref, statements

ARTIFACT_KEY = "devops/artifacts/key/key"
ARTIFACT_BUCKET_POLICY = "devops/artifacts/bucket/policy"
OTHER_ACCOUNT_READER = "arn:aws:iam::222222222222:role/reader"
OTHER_ACCOUNT_WRITER = "arn:aws:iam::333333333333:role/writer"


def key_policy(synth) -> dict[str, dict]:
    return by_sid(at_path(synth.stacks["devops"], "aws_kms_key", ARTIFACT_KEY)[1])


def test_key_policy_leaves_roles_to_the_accounts_iam_policies(synth) -> None:
    """Root control lets the DevOps account's identity policies grant the key; no role and no other account is named."""
    assert list(key_policy(synth)) == [
        "AccountRootFullControl",
        "AllowCloudWatchLogsForBuildLogGroups",
        "AllowEventsAndAlarmsToPublishEncryptedNotifications",
    ]
    assert key_policy(synth)["AccountRootFullControl"]["Principal"] == {"AWS": f"arn:aws:iam::{synth.project.devops.account_id}:root"}


def test_cloudwatch_logs_may_use_the_key_only_for_the_build_log_groups(synth) -> None:
    devops = synth.project.devops
    logs = key_policy(synth)["AllowCloudWatchLogsForBuildLogGroups"]
    assert logs["Principal"] == {"Service": f"logs.{devops.region}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:/aws/codebuild/{devops.name_prefix}-*"
        }
    }
    assert all(action.startswith("kms:") and action != "kms:*" for action in logs["Action"])


def test_every_build_log_group_falls_under_the_logs_condition(synth) -> None:
    devops = synth.project.devops
    allowed_prefix = key_policy(synth)["AllowCloudWatchLogsForBuildLogGroups"]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert allowed_prefix.endswith("*")
    for group in synth.stacks["devops"]["resource"]["aws_cloudwatch_log_group"].values():
        arn = f"arn:aws:logs:{devops.region}:{devops.account_id}:log-group:{group['name']}"
        assert arn.startswith(allowed_prefix[:-1]), group["name"]


def test_events_and_alarms_may_encrypt_notifications_only_for_this_account(synth) -> None:
    statement = key_policy(synth)["AllowEventsAndAlarmsToPublishEncryptedNotifications"]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": synth.project.devops.account_id}}


def test_pipeline_builds_and_topic_use_the_artifact_key_by_arn(synth) -> None:
    devops = synth.stacks["devops"]
    key_arn = ref("aws_kms_key", at_path(devops, "aws_kms_key", ARTIFACT_KEY)[0], "arn")
    for pipeline in devops["resource"]["aws_codepipeline"].values():
        assert [store["encryption_key"] for store in pipeline["artifact_store"]] == [{"id": key_arn, "type": "KMS"}], pipeline["name"]
    assert {p["encryption_key"] for p in devops["resource"]["aws_codebuild_project"].values()} == {key_arn}
    assert {g["kms_key_id"] for g in devops["resource"]["aws_cloudwatch_log_group"].values()} == {key_arn}
    assert {t["kms_master_key_id"] for t in devops["resource"]["aws_sns_topic"].values()} == {key_arn}


def test_no_workload_account_appears_in_the_artifact_key_or_bucket_policy(synth) -> None:
    """Saved plans hold prior state in clear text: no workload-account principal may read them."""
    devops = synth.stacks["devops"]
    texts = [at_path(devops, "aws_s3_bucket_policy", ARTIFACT_BUCKET_POLICY)[1]["policy"], at_path(devops, "aws_kms_key", ARTIFACT_KEY)[1]["policy"]]
    for env in synth.project.environments:
        assert all(env.account_id not in text for text in texts), env.name


@pytest.fixture(scope="module")
def cross_account_store() -> dict:
    """A store shared with roles of other accounts (what a team's own cross-account pipeline would do)."""
    import cdktf

    from modules.artifact_store import ArtifactStore, ArtifactStoreProps
    from modules.framework import TerraformStack

    stack = TerraformStack(cdktf.Testing.app(), "store")
    ArtifactStore(
        stack,
        "artifacts",
        ArtifactStoreProps(
            bucket_name="example-artifacts",
            key_alias="alias/example-artifacts",
            account_id="111111111111",
            region="eu-west-1",
            read_role_arns=[OTHER_ACCOUNT_READER],
            read_write_role_arns=[OTHER_ACCOUNT_WRITER],
            expiration_days=10,
        ),
    )
    return json.loads(cdktf.Testing.synth(stack))


def test_roles_of_other_accounts_get_exactly_the_five_cross_account_key_actions(cross_account_store) -> None:
    """ADF v4 broke cross-account artifacts by dropping some of these (awslabs/aws-deployment-framework#756)."""
    (key,) = cross_account_store["resource"]["aws_kms_key"].values()
    users = by_sid(key)["AllowUseByRoles"]
    assert sorted(users["Action"]) == sorted(KMS_USE_ACTIONS) and len(users["Action"]) == len(KMS_USE_ACTIONS)
    assert users["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
    assert users["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted([OTHER_ACCOUNT_READER, OTHER_ACCOUNT_WRITER])}}


def test_other_accounts_readers_only_read_and_writers_write(cross_account_store) -> None:
    (policy,) = cross_account_store["resource"]["aws_s3_bucket_policy"].values()
    granted: dict[str, set[str]] = {}
    for statement in statements(policy):
        for role in statement.get("Condition", {}).get("ArnEquals", {}).get("aws:PrincipalArn", []):
            granted.setdefault(role, set()).update(as_list(statement["Action"]))
    assert "s3:PutObject" not in granted[OTHER_ACCOUNT_READER]
    assert "s3:PutObject" in granted[OTHER_ACCOUNT_WRITER]
    (lifecycle,) = cross_account_store["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
    assert lifecycle["rule"][0]["expiration"] == [{"days": 10}]


@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_the_partition_must_be_the_regions(region: str, partition: str) -> None:
    from modules.artifact_store import ArtifactStoreProps

    fields = {"bucket_name": "acme-artifacts", "key_alias": "alias/k", "account_id": "111111111111", "region": region}
    assert ArtifactStoreProps(**fields, partition=partition).partition == partition
    with pytest.raises(ValueError) as error:
        ArtifactStoreProps(**fields)
    assert str(error.value) == f'ArtifactStoreProps.partition "aws" does not match region {region}: set partition="{partition}"'
