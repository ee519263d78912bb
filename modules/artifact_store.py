"""``ArtifactStore``: the pipeline's KMS key and artifact bucket, shared across accounts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from modules import policy, validation
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct
from modules.kms_key import KmsKey, KmsKeyProps


@dataclass(frozen=True)
class ArtifactStoreProps:
    """Settings of an ``ArtifactStore``."""

    bucket_name: str
    """Artifact bucket name. Required."""
    key_alias: str
    """Alias of the pipeline key (``alias/...``). Required."""
    account_id: str
    """The DevOps account. Required."""
    region: str
    """The DevOps region (scopes the CloudWatch Logs grant on the key). Required."""
    read_write_role_arns: Sequence[str] = ()
    """Roles of *other* accounts that read and write artifacts and use the key. Roles of ``account_id``
    need only an identity policy (the key policy lets the account's IAM policies grant its use), so
    list none of them here. Default: none."""
    read_role_arns: Sequence[str] = ()
    """Roles of other accounts that read artifacts and use the key. Default: none."""
    log_group_prefix: str = "/aws/codebuild/"
    """Log groups (name prefix) that CloudWatch Logs may encrypt with the key."""
    noncurrent_version_expiration_days: int = 30
    """Old artifact versions expire after this many days. Default: 30."""
    expiration_days: int = 30
    """Artifacts (saved plans among them) expire this many days after they were written: CodePipeline
    never reads an artifact of an execution that old (an approval waits 7 days at most). Default: 30."""
    partition: str = "aws"
    """ARN partition of the account: ``aws-cn`` in the China regions, ``aws-us-gov`` in AWS GovCloud (US).
    Default: ``aws``."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "region", validation.REGION)
        policy.check_partition("ArtifactStoreProps", self.partition, self.region)
        validation.check(self, "bucket_name", validation.BUCKET_NAME)
        validation.check(self, "key_alias", validation.KMS_ALIAS)
        validation.check(self, "account_id", validation.ACCOUNT_ID)
        other_accounts_only = validation.not_in_account(
            self.account_id, "list only roles of other accounts (this account's roles need only an identity policy)"
        )
        for roles in ("read_write_role_arns", "read_role_arns"):
            validation.check(self, roles, validation.ROLE_ARN, validation.in_partition(self.partition), other_accounts_only)
        validation.check(self, "log_group_prefix", validation.LOG_GROUP_NAME)
        for days in ("noncurrent_version_expiration_days", "expiration_days"):
            validation.check(self, days, validation.at_least(1))


class ArtifactStore(Construct):
    """Where pipeline artifacts live, encrypted with a customer-managed key referenced by ARN.

    Default settings: key rotation on, 30-day deletion window; the key policy gives the account's
    IAM policies control of the key (so roles of the account get it through their identity policies),
    lets CloudWatch Logs encrypt the build log groups (limited by encryption context), and lets this
    account's EventBridge rules and CloudWatch alarms publish to an SNS topic encrypted with it. The
    bucket is an ``EncryptedBucket`` (TLS only, SSE-KMS uploads only, versioned, private) whose
    artifacts expire after ``expiration_days``. Roles of other accounts get access only when listed.
    """

    def __init__(self, scope: Construct, id_: str, props: ArtifactStoreProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.key = KmsKey(
            self,
            "key",
            KmsKeyProps(
                alias=props.key_alias,
                account_id=props.account_id,
                description="Encrypts pipeline artifacts, build logs and pipeline notifications",
                user_role_arns=[*props.read_write_role_arns, *props.read_role_arns],
                extra_statements=self.service_statements(),
                partition=props.partition,
            ),
        )
        self.bucket = EncryptedBucket(
            self,
            "bucket",
            EncryptedBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=self.key.key_arn,
                read_write_role_arns=props.read_write_role_arns,
                read_role_arns=props.read_role_arns,
                noncurrent_version_expiration_days=props.noncurrent_version_expiration_days,
                expiration_days=props.expiration_days,
            ),
        )

    def service_statements(self) -> list[policy.Statement]:
        p = self.props
        log_groups = policy.arn(p.partition, "logs", p.region, p.account_id, f"log-group:{p.log_group_prefix}*")
        return [
            {
                "Sid": "AllowCloudWatchLogsForBuildLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": policy.regional_service_principal("logs", p.region, p.partition)},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
            {
                "Sid": "AllowEventsAndAlarmsToPublishEncryptedNotifications",
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                # Only on behalf of this account's rules and alarms (confused-deputy protection).
                "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id}},
            },
        ]

    @cached_property
    def key_arn(self) -> str:
        return self.key.key_arn

    @cached_property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @cached_property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn
