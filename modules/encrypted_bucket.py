"""``EncryptedBucket``: a private, versioned S3 bucket encrypted with a customer-managed KMS key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration

from modules import policy, validation
from modules.framework import Construct

OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
OBJECT_WRITE_ACTIONS = ("s3:PutObject",)
BUCKET_READ_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning")


@dataclass(frozen=True)
class EncryptedBucketProps:
    """Settings of an ``EncryptedBucket``."""

    bucket_name: str
    """Globally unique bucket name. Required."""
    kms_key_arn: str
    """ARN of the customer-managed key for default encryption (an ARN: aliases do not work across accounts). Required."""
    read_role_arns: Sequence[str] = ()
    """Roles (any account) allowed to list the bucket and read objects. Default: none."""
    read_write_role_arns: Sequence[str] = ()
    """Roles (any account) allowed to list, read and write objects. Default: none."""
    deny_unencrypted_puts: bool = True
    """Deny ``PutObject`` requests that do not ask for SSE-KMS. Default: on."""
    noncurrent_version_expiration_days: int = 90
    """Days after which overwritten/deleted object versions expire. Default: 90."""
    abort_incomplete_upload_days: int = 7
    """Days after which unfinished multipart uploads are removed. Default: 7."""
    expiration_days: int | None = None
    """Days after which current objects expire (become noncurrent versions). Default: never."""
    force_destroy: bool = False
    """Let ``terraform destroy`` delete a bucket that still holds objects. Default: off."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "bucket_name", validation.BUCKET_NAME)
        validation.check(self, "kms_key_arn", validation.KMS_KEY_ARN)
        validation.check(self, "read_role_arns", validation.ROLE_ARN)
        validation.check(self, "read_write_role_arns", validation.ROLE_ARN)
        for days in ("noncurrent_version_expiration_days", "abort_incomplete_upload_days", "expiration_days"):
            validation.check(self, days, validation.at_least(1))


class EncryptedBucket(Construct):
    """A bucket nobody reaches by accident.

    Default settings: SSE-KMS with the given key and an S3 bucket key (fewer KMS calls), versioning,
    all four public-access blocks, bucket-owner-enforced ownership (ACLs off), a lifecycle that
    expires noncurrent versions (and current objects when ``expiration_days`` is set) and aborts
    incomplete uploads, and a bucket policy that denies
    non-TLS access, denies unencrypted uploads, and grants the named roles (across accounts, pinned
    by ``aws:PrincipalArn``) exactly the access asked for.
    """

    def __init__(self, scope: Construct, id_: str, props: EncryptedBucketProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.bucket = S3Bucket(self, "bucket", bucket=props.bucket_name, force_destroy=props.force_destroy)
        bucket_id = self.bucket.id
        S3BucketVersioningA(
            self, "versioning", bucket=bucket_id, versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled")
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=props.kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions-and-abort-incomplete-uploads",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=props.abort_incomplete_upload_days
                        )
                    ],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)] if props.expiration_days else None,
                )
            ],
        )
        # The public access block must exist before a policy is attached, or AWS may briefly see a public bucket.
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=policy.document(self.policy_statements()),
            depends_on=[self.public_access_block],
        )

    def policy_statements(self) -> list[policy.Statement]:
        arn = self.bucket.arn
        statements = [policy.deny_insecure_transport(arn)]
        if self.props.deny_unencrypted_puts:
            statements.append(policy.deny_unencrypted_puts(arn))
        if self.props.read_role_arns:
            statements.append(policy.allow_roles("AllowListBucket", self.props.read_role_arns, BUCKET_READ_ACTIONS, [arn]))
            statements.append(policy.allow_roles("AllowReadObjects", self.props.read_role_arns, OBJECT_READ_ACTIONS, [f"{arn}/*"]))
        if self.props.read_write_role_arns:
            statements.append(policy.allow_roles("AllowListBucketReadWrite", self.props.read_write_role_arns, BUCKET_READ_ACTIONS, [arn]))
            statements.append(
                policy.allow_roles(
                    "AllowReadWriteObjects", self.props.read_write_role_arns, OBJECT_READ_ACTIONS + OBJECT_WRITE_ACTIONS, [f"{arn}/*"]
                )
            )
        return statements

    @cached_property
    def bucket_name(self) -> str:
        return self.bucket.bucket

    @cached_property
    def bucket_arn(self) -> str:
        return self.bucket.arn
