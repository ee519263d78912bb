"""Every ``XxxProps`` refuses what its docstrings rule out, with a ValueError naming the class and the field;
each rule with a value it accepts and one it refuses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modules.artifact_store import ArtifactStoreProps
from modules.build_project import BuildProjectProps
from modules.delivery_pipeline import DeliveryPipelineProps
from modules.deploy_role import DeployRoleProps
from modules.encrypted_bucket import EncryptedBucketProps
from modules.kms_key import KmsKeyProps
from modules.pipeline_blueprint import BuildAction, CodeCommitSource, Stage
from modules.pipeline_notifications import PipelineNotificationsProps
from modules.service_role import ServiceRoleProps
from provisioner.paths import REPO_ROOT

ACCOUNT = "111111111111"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-build"
OTHER_ROLE = "arn:aws:iam::222222222222:role/reader"
TOKEN = "${TfToken[TOKEN.42]}"
"""How cdktf writes a value only terraform knows, such as another resource's ARN."""

REQUIRED = {
    KmsKeyProps: {"alias": "alias/reports", "account_id": ACCOUNT},
    EncryptedBucketProps: {"bucket_name": "acme-reports-111111111111-eu-west-1", "kms_key_arn": KEY},
    DeployRoleProps: {"role_name": "deployer", "trusted_role_arns": [ROLE]},
    ServiceRoleProps: {
        "role_name": "acme-build", "service": "codebuild.amazonaws.com", "account_id": ACCOUNT,
        "source_arns": [f"arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/acme-*"], "statements": [],
    },
    ArtifactStoreProps: {"bucket_name": "acme-artifacts", "key_alias": "alias/acme-artifacts", "account_id": ACCOUNT, "region": "eu-west-1"},
    BuildProjectProps: {"project_name": "acme-synth", "service_role_arn": ROLE, "kms_key_arn": KEY, "buildspec": "version: 0.2\n"},
    DeliveryPipelineProps: {
        "pipeline_name": "acme-delivery", "role_arn": ROLE, "artifact_bucket_name": "acme-artifacts", "kms_key_arn": KEY,
        "account_id": ACCOUNT, "region": "eu-west-1", "source": CodeCommitSource("infra", "main"),
        "stages": [Stage("Synth", [BuildAction("Synth", "acme-synth", ["source"])])],
    },
    PipelineNotificationsProps: {
        "topic_name": "acme-notifications", "kms_key_arn": KEY, "pipeline_names": ["acme-delivery"], "account_id": ACCOUNT, "region": "eu-west-1",
    },
}  # fmt: skip

BUCKET_RULE = (
    "is not an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter "
    "or digit, no two dots in a row, not shaped like an IP address, no prefix xn--, sthree- or amzn-s3-demo- "
    "and no suffix -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3"
)
ROLE_ARN_RULE = "is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)"
KEY_ARN_RULE = (
    "is not a KMS key ARN (arn:<partition>:kms:<region>:<12 digits>:key/<key id>; an alias does not resolve across accounts)"
)
POLICY_ARN_RULE = "is not an IAM policy ARN (arn:<partition>:iam::<12 digits, or aws>:policy/<name>)"
ROLE_NAME_RULE = "must be 1-64 characters of letters, digits and +=,.@_-"
RETENTION_RULE = "must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"


def make(cls: type, **overrides: object) -> object:
    return cls(**{**REQUIRED[cls], **overrides})


# (props class, the field set to a value that breaks one rule, the message) ----------------------
REFUSED = [
    # account ids
    (KmsKeyProps, {"account_id": "55"}, 'KmsKeyProps.account_id "55" must be 12 digits'),
    (ServiceRoleProps, {"account_id": "11111111111a"}, 'ServiceRoleProps.account_id "11111111111a" must be 12 digits'),
    (ArtifactStoreProps, {"account_id": "1111111111111"}, 'ArtifactStoreProps.account_id "1111111111111" must be 12 digits'),
    (DeliveryPipelineProps, {"account_id": ""}, 'DeliveryPipelineProps.account_id "" must be 12 digits'),
    (PipelineNotificationsProps, {"account_id": "123"}, 'PipelineNotificationsProps.account_id "123" must be 12 digits'),
    # regions
    (ArtifactStoreProps, {"region": "Europe"}, 'ArtifactStoreProps.region "Europe" is not an AWS region code (such as eu-west-1)'),
    (DeliveryPipelineProps, {"region": "eu-west"}, 'DeliveryPipelineProps.region "eu-west" is not an AWS region code (such as eu-west-1)'),
    (PipelineNotificationsProps, {"region": "cn-north-1"}, 'PipelineNotificationsProps.partition "aws" does not match region cn-north-1: set partition="aws-cn"'),
    # bucket names
    (EncryptedBucketProps, {"bucket_name": "Bad_Name"}, f'EncryptedBucketProps.bucket_name "Bad_Name" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "ab"}, f'EncryptedBucketProps.bucket_name "ab" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "a" * 64}, f'EncryptedBucketProps.bucket_name "{"a" * 64}" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "acme..reports"}, f'EncryptedBucketProps.bucket_name "acme..reports" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "-acme"}, f'EncryptedBucketProps.bucket_name "-acme" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "192.168.5.4"}, f'EncryptedBucketProps.bucket_name "192.168.5.4" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "xn--acme"}, f'EncryptedBucketProps.bucket_name "xn--acme" {BUCKET_RULE}'),
    (EncryptedBucketProps, {"bucket_name": "acme-s3alias"}, f'EncryptedBucketProps.bucket_name "acme-s3alias" {BUCKET_RULE}'),
    (ArtifactStoreProps, {"bucket_name": "Artifacts"}, f'ArtifactStoreProps.bucket_name "Artifacts" {BUCKET_RULE}'),
    (DeliveryPipelineProps, {"artifact_bucket_name": "a_b"}, f'DeliveryPipelineProps.artifact_bucket_name "a_b" {BUCKET_RULE}'),
    (BuildProjectProps, {"cache_location": "Bucket/cache"}, 'BuildProjectProps.cache_location "Bucket/cache" must be <bucket>/<prefix>, with an S3 bucket name'),
    (BuildProjectProps, {"cache_location": "acme-artifacts"}, 'BuildProjectProps.cache_location "acme-artifacts" must be <bucket>/<prefix>, with an S3 bucket name'),
    # KMS key ARNs and aliases
    (EncryptedBucketProps, {"kms_key_arn": "alias/foo"}, f'EncryptedBucketProps.kms_key_arn "alias/foo" {KEY_ARN_RULE}'),
    (BuildProjectProps, {"kms_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/acme"}, f'BuildProjectProps.kms_key_arn "arn:aws:kms:eu-west-1:{ACCOUNT}:alias/acme" {KEY_ARN_RULE}'),
    (DeliveryPipelineProps, {"kms_key_arn": ROLE}, f'DeliveryPipelineProps.kms_key_arn "{ROLE}" {KEY_ARN_RULE}'),
    (PipelineNotificationsProps, {"kms_key_arn": "1234abcd-12ab-34cd-56ef-1234567890ab"}, f'PipelineNotificationsProps.kms_key_arn "1234abcd-12ab-34cd-56ef-1234567890ab" {KEY_ARN_RULE}'),
    (DeliveryPipelineProps, {"kms_key_arn": KEY.replace("arn:aws:", "arn:aws-cn:")}, f'DeliveryPipelineProps.kms_key_arn "{KEY.replace("arn:aws:", "arn:aws-cn:")}" is not in the partition aws (the partition field)'),
    (KmsKeyProps, {"alias": "alias/aws/s3"}, 'KmsKeyProps.alias "alias/aws/s3" must start with "alias/" (and not "alias/aws/", which AWS reserves), then 1-250 letters, digits and /_-'),
    (KmsKeyProps, {"alias": "alias/a b"}, 'KmsKeyProps.alias "alias/a b" must start with "alias/" (and not "alias/aws/", which AWS reserves), then 1-250 letters, digits and /_-'),
    (ArtifactStoreProps, {"key_alias": "acme-artifacts"}, 'ArtifactStoreProps.key_alias "acme-artifacts" must start with "alias/" (and not "alias/aws/", which AWS reserves), then 1-250 letters, digits and /_-'),
    # role ARNs
    (KmsKeyProps, {"user_role_arns": [OTHER_ROLE, "arn:aws:iam::222222222222:role/*"]}, f'KmsKeyProps.user_role_arns[1] "arn:aws:iam::222222222222:role/*" {ROLE_ARN_RULE}'),
    (KmsKeyProps, {"user_role_arns": ["arn:aws:iam::222222222222:user/deploy"]}, f'KmsKeyProps.user_role_arns[0] "arn:aws:iam::222222222222:user/deploy" {ROLE_ARN_RULE}'),
    (KmsKeyProps, {"user_role_arns": [OTHER_ROLE], "partition": "aws-cn"}, f'KmsKeyProps.user_role_arns[0] "{OTHER_ROLE}" is not in the partition aws-cn (the partition field)'),
    (EncryptedBucketProps, {"read_role_arns": ["arn:aws:iam::22222222222:role/reader"]}, f'EncryptedBucketProps.read_role_arns[0] "arn:aws:iam::22222222222:role/reader" {ROLE_ARN_RULE}'),
    (EncryptedBucketProps, {"read_write_role_arns": ["arn:aws-eu:iam::222222222222:role/reader"]}, f'EncryptedBucketProps.read_write_role_arns[0] "arn:aws-eu:iam::222222222222:role/reader" {ROLE_ARN_RULE}'),
    (DeployRoleProps, {"trusted_role_arns": ["arn:aws:iam::111111111111:root"]}, f'DeployRoleProps.trusted_role_arns[0] "arn:aws:iam::111111111111:root" {ROLE_ARN_RULE}'),
    (BuildProjectProps, {"service_role_arn": "acme-build"}, f'BuildProjectProps.service_role_arn "acme-build" {ROLE_ARN_RULE}'),
    (DeliveryPipelineProps, {"role_arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/acme/x"}, f'DeliveryPipelineProps.role_arn "arn:aws:sts::{ACCOUNT}:assumed-role/acme/x" {ROLE_ARN_RULE}'),
    (ArtifactStoreProps, {"read_role_arns": [ROLE]}, f'ArtifactStoreProps.read_role_arns[0] "{ROLE}" is in account {ACCOUNT}: list only roles of other accounts (this account\'s roles need only an identity policy)'),
    (ArtifactStoreProps, {"read_write_role_arns": ["arn:aws-cn:iam::222222222222:role/reader"]}, 'ArtifactStoreProps.read_write_role_arns[0] "arn:aws-cn:iam::222222222222:role/reader" is not in the partition aws (the partition field)'),
    # policy ARNs
    (DeployRoleProps, {"managed_policy_arns": ["PowerUserAccess"]}, f'DeployRoleProps.managed_policy_arns[0] "PowerUserAccess" {POLICY_ARN_RULE}'),
    (DeployRoleProps, {"permissions_boundary_arn": ROLE}, f'DeployRoleProps.permissions_boundary_arn "{ROLE}" {POLICY_ARN_RULE}'),
    # other ARNs
    (ServiceRoleProps, {"source_arns": ["codebuild:project/acme-*"]}, 'ServiceRoleProps.source_arns[0] "codebuild:project/acme-*" is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>, wildcards allowed)'),
    # IAM names and ids
    (DeployRoleProps, {"role_name": "r" * 65}, f'DeployRoleProps.role_name "{"r" * 65}" {ROLE_NAME_RULE}'),
    (DeployRoleProps, {"role_name": "deploy role"}, f'DeployRoleProps.role_name "deploy role" {ROLE_NAME_RULE}'),
    (ServiceRoleProps, {"role_name": "build/role"}, f'ServiceRoleProps.role_name "build/role" {ROLE_NAME_RULE}'),
    (ServiceRoleProps, {"role_name": ""}, f'ServiceRoleProps.role_name "" {ROLE_NAME_RULE}'),
    (DeployRoleProps, {"external_id": "x"}, 'DeployRoleProps.external_id "x" must be 2-1224 characters of letters, digits and +=,.@:/-_'),
    (DeployRoleProps, {"external_id": "a b"}, 'DeployRoleProps.external_id "a b" must be 2-1224 characters of letters, digits and +=,.@:/-_'),
    (ServiceRoleProps, {"service": "codebuild"}, 'ServiceRoleProps.service "codebuild" is not a service principal (such as codebuild.amazonaws.com)'),
    # other names
    (BuildProjectProps, {"project_name": "acme synth"}, 'BuildProjectProps.project_name "acme synth" must be 2-255 letters, digits, _ and -, starting with a letter or digit'),
    (DeliveryPipelineProps, {"pipeline_name": "acme/delivery"}, 'DeliveryPipelineProps.pipeline_name "acme/delivery" must be 1-100 characters of letters, digits and .@_-'),
    (PipelineNotificationsProps, {"pipeline_names": ["acme delivery"]}, 'PipelineNotificationsProps.pipeline_names[0] "acme delivery" must be 1-100 characters of letters, digits and .@_-'),
    (PipelineNotificationsProps, {"alarm_pipeline_name": ""}, 'PipelineNotificationsProps.alarm_pipeline_name "" must be 1-100 characters of letters, digits and .@_-'),
    (PipelineNotificationsProps, {"topic_name": "acme.notifications"}, 'PipelineNotificationsProps.topic_name "acme.notifications" must be 1-256 letters, digits, _ and -'),
    (PipelineNotificationsProps, {"emails": ["ops@example.com", "ops"]}, 'PipelineNotificationsProps.emails[1] "ops" is not an email address'),
    (ArtifactStoreProps, {"log_group_prefix": "/aws/codebuild/acme*"}, 'ArtifactStoreProps.log_group_prefix "/aws/codebuild/acme*" must be 1-512 letters, digits and ._/#-'),
    (BuildProjectProps, {"buildspec": ""}, 'BuildProjectProps.buildspec "" must not be empty'),
    # numbers and choices
    (BuildProjectProps, {"log_retention_days": 42}, f"BuildProjectProps.log_retention_days 42 {RETENTION_RULE}"),
    (BuildProjectProps, {"compute_type": "BUILD_GENERAL1_HUGE"}, 'BuildProjectProps.compute_type "BUILD_GENERAL1_HUGE" must be one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE'),
    (BuildProjectProps, {"timeout_minutes": 4}, "BuildProjectProps.timeout_minutes 4 must be 5-2160"),
    (KmsKeyProps, {"deletion_window_in_days": 31}, "KmsKeyProps.deletion_window_in_days 31 must be 7-30"),
    (DeployRoleProps, {"max_session_duration": 3599}, "DeployRoleProps.max_session_duration 3599 must be 3600-43200"),
    (EncryptedBucketProps, {"noncurrent_version_expiration_days": 0}, "EncryptedBucketProps.noncurrent_version_expiration_days 0 must be at least 1"),
    (EncryptedBucketProps, {"abort_incomplete_upload_days": 0}, "EncryptedBucketProps.abort_incomplete_upload_days 0 must be at least 1"),
    (EncryptedBucketProps, {"expiration_days": 0}, "EncryptedBucketProps.expiration_days 0 must be at least 1"),
    (ArtifactStoreProps, {"expiration_days": 0}, "ArtifactStoreProps.expiration_days 0 must be at least 1"),
    (ArtifactStoreProps, {"noncurrent_version_expiration_days": -1}, "ArtifactStoreProps.noncurrent_version_expiration_days -1 must be at least 1"),
    # types: a string where a list belongs, a string where a number belongs, a number where a flag belongs
    (EncryptedBucketProps, {"read_role_arns": OTHER_ROLE}, f"EncryptedBucketProps.read_role_arns must be a list or tuple of str, got str '{OTHER_ROLE}'"),
    (DeployRoleProps, {"managed_policy_arns": "arn:aws:iam::aws:policy/PowerUserAccess"}, "DeployRoleProps.managed_policy_arns must be a list or tuple of str, got str 'arn:aws:iam::aws:policy/PowerUserAccess'"),
    (PipelineNotificationsProps, {"emails": "ops@example.com"}, "PipelineNotificationsProps.emails must be a list or tuple of str, got str 'ops@example.com'"),
    (ServiceRoleProps, {"source_arns": "arn:aws:codebuild:eu-west-1:111111111111:project/x"}, "ServiceRoleProps.source_arns must be a list or tuple of str, got str 'arn:aws:codebuild:eu-west-1:111111111111:project/x'"),
    (BuildProjectProps, {"log_retention_days": "365"}, "BuildProjectProps.log_retention_days must be int, got str '365'"),
    (BuildProjectProps, {"privileged_mode": 1}, "BuildProjectProps.privileged_mode must be bool, got int 1"),
    (BuildProjectProps, {"environment_variables": {"STAGE": 3}}, "BuildProjectProps.environment_variables must be a mapping of str to str, got dict {'STAGE': 3}"),
    (KmsKeyProps, {"account_id": 111111111111}, "KmsKeyProps.account_id must be str, got int 111111111111"),
    (DeployRoleProps, {"permissions_boundary_arn": ["arn:aws:iam::aws:policy/PowerUserAccess"]}, "DeployRoleProps.permissions_boundary_arn must be str or None, got list ['arn:aws:iam::aws:policy/PowerUserAccess']"),
    (DeliveryPipelineProps, {"stages": Stage("Synth", [BuildAction("Synth", "acme-synth", ["source"])])}, "DeliveryPipelineProps.stages must be a list or tuple of Stage, got Stage Stage(name='Synth', actions=[BuildAction(name='Synth', project_name='acme-syn..."),
]  # fmt: skip

# (props class, fields that each rule above accepts) ----------------------------------------------
ACCEPTED = [
    (KmsKeyProps, {"account_id": "000000000001", "alias": "alias/team/reports_2-a"}),
    (KmsKeyProps, {"user_role_arns": ["arn:aws-cn:iam::222222222222:role/path/reader"], "partition": "aws-cn"}),
    (EncryptedBucketProps, {"bucket_name": "abc"}),
    (EncryptedBucketProps, {"bucket_name": "a" * 63}),
    (EncryptedBucketProps, {"bucket_name": "acme.reports-1"}),
    (EncryptedBucketProps, {"kms_key_arn": "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab"}),
    (EncryptedBucketProps, {"read_role_arns": (OTHER_ROLE,), "read_write_role_arns": [ROLE], "expiration_days": 1}),
    (DeployRoleProps, {"role_name": "Deploy+=,.@_-" + "r" * 51, "external_id": "ab:/=,.@+-_"}),
    (DeployRoleProps, {"managed_policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess", f"arn:aws:iam::{ACCOUNT}:policy/team/deploy"]}),
    (DeployRoleProps, {"permissions_boundary_arn": f"arn:aws-cn:iam::{ACCOUNT}:policy/boundary", "max_session_duration": 43200}),
    (ServiceRoleProps, {"service": "logs.cn-north-1.amazonaws.com.cn", "source_arns": [f"arn:aws:codepipeline:*:{ACCOUNT}:acme-*", "arn:aws:events:eu-west-1::rule/*"]}),
    (ArtifactStoreProps, {"read_role_arns": [OTHER_ROLE], "log_group_prefix": "/aws/codebuild/acme-", "region": "ap-southeast-2"}),
    (ArtifactStoreProps, {"region": "us-gov-west-1", "partition": "aws-us-gov", "read_write_role_arns": ["arn:aws-us-gov:iam::222222222222:role/x"]}),
    (BuildProjectProps, {"log_retention_days": 3653, "compute_type": "BUILD_GENERAL1_2XLARGE", "cache_location": "acme-artifacts/build-cache/synth"}),
    (BuildProjectProps, {"log_retention_days": 1, "timeout_minutes": 2160, "environment_variables": {"STAGE": "dev"}, "privileged_mode": True}),
    (DeliveryPipelineProps, {"pipeline_name": "acme.delivery@v2_x-y", "region": "cn-north-1", "partition": "aws-cn", "kms_key_arn": KEY.replace("arn:aws:kms:eu-west-1", "arn:aws-cn:kms:cn-north-1"), "role_arn": ROLE.replace("arn:aws:", "arn:aws-cn:")}),
    (PipelineNotificationsProps, {"emails": ["ops@example.com", "first.last+alerts@sub.example.org"], "alarm_pipeline_name": "acme-delivery"}),
    (PipelineNotificationsProps, {"topic_name": "a" * 256}),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "overrides", "message"), REFUSED, ids=[f"{case[0].__name__}-{next(iter(case[1]))}-{index}" for index, case in enumerate(REFUSED)])
def test_a_props_value_that_breaks_a_rule_is_refused_naming_the_field(cls: type, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        make(cls, **overrides)
    assert str(error.value) == message


@pytest.mark.parametrize(("cls", "overrides"), ACCEPTED, ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(ACCEPTED)])
def test_a_props_value_that_keeps_the_rules_is_accepted(cls: type, overrides: dict) -> None:
    props = make(cls, **overrides)
    assert all(getattr(props, name) == value for name, value in overrides.items())


@pytest.mark.parametrize("cls", sorted(REQUIRED, key=lambda cls: cls.__name__), ids=lambda cls: cls.__name__)
def test_the_required_fields_alone_are_accepted(cls: type) -> None:
    assert make(cls)


def test_values_only_terraform_knows_pass_the_shape_checks() -> None:
    """Another resource's attribute is a token until deploy: its shape cannot be known, and is not refused."""
    bucket = make(EncryptedBucketProps, bucket_name=TOKEN, kms_key_arn=TOKEN, read_role_arns=["#{TfToken[TOKEN.7]}"])
    assert bucket.kms_key_arn == TOKEN
    assert make(BuildProjectProps, service_role_arn=TOKEN, kms_key_arn=TOKEN, cache_location=f"{TOKEN}/cache").service_role_arn == TOKEN
    assert make(DeliveryPipelineProps, role_arn=TOKEN, artifact_bucket_name=TOKEN, kms_key_arn=TOKEN).role_arn == TOKEN


def test_the_shared_rules_need_nothing_but_the_standard_library() -> None:
    code = "import sys, modules.validation; print(sorted(m for m in ('provisioner', 'cdktf', 'constructs', 'jsii') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
