"""``devops``: the DevOps account's remote state and delivery pipeline."""

from __future__ import annotations

from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput, TerraformStack
from modules.kms_key import KmsKey, KmsKeyProps
from provisioner.config import ProjectConfig
from provisioner.naming import DEVOPS_STACK, standard_tags
from provisioner.stacks.common import Target, aws_provider, use_remote_state

# Construct ids of what `provisioner bootstrap-state` creates before the S3 backend can exist.
STATE_CONSTRUCT_IDS = ("state-key", "state-bucket")


class DevOpsStack(TerraformStack):
    """Remote state for every stack and the delivery pipeline, in the DevOps account."""

    def __init__(self, scope: Construct, project: ProjectConfig, target: Target) -> None:
        super().__init__(scope, DEVOPS_STACK)
        devops = project.devops
        naming = project.naming
        use_remote_state(self, project, DEVOPS_STACK, target)
        aws_provider(
            self,
            account_id=devops.account_id,
            region=devops.region,
            tags=standard_tags(devops.name_prefix, "devops", dict(devops.tags)),
            target=target,
        )
        self.state_key = KmsKey(
            self,
            STATE_CONSTRUCT_IDS[0],
            KmsKeyProps(
                alias=naming.state_key_alias,
                account_id=devops.account_id,
                description=f"{devops.name_prefix}: encrypts Terraform state of every stack",
            ),
        )
        self.state_bucket = EncryptedBucket(
            self,
            STATE_CONSTRUCT_IDS[1],
            EncryptedBucketProps(
                bucket_name=naming.state_bucket,
                kms_key_arn=self.state_key.key_arn,
                # Terraform's S3 backend writes its lock file without an encryption header; the bucket's
                # default SSE-KMS encrypts it, so requiring the header would only break locking.
                deny_unencrypted_puts=False,
                noncurrent_version_expiration_days=365,
            ),
        )
        TerraformOutput(self, "state_bucket_name", value=self.state_bucket.bucket_name)
        TerraformOutput(self, "state_kms_key_arn", value=self.state_key.key_arn)
