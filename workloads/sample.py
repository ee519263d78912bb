"""The sample workload, copied from examples/: what each environment contains until you change it. Yours.

``define`` is named by ``entry`` in ``workloads/workload.hcl`` and called once per environment, inside
the ``workload-<env>`` stack, whose AWS provider already acts in the environment's account and region
through the pipeline's roles. Environments differ by data: the inputs declared in ``workload.hcl``,
set per environment in ``environments/<name>/environment.hcl`` (``inputs = { ... }``).

An encrypted, versioned bucket for the environment's data and an SSM parameter that tells
applications where it is.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter

from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput
from modules.kms_key import KmsKey, KmsKeyProps
from modules.workload import WorkloadEnvironment


def data_bucket_name(environment: WorkloadEnvironment) -> str:
    """Globally unique: the project, the environment, its account and region."""
    return f"{environment.name_prefix}-{environment.name}-data-{environment.account_id}-{environment.region}"


def define(scope: Construct, environment: WorkloadEnvironment) -> None:
    prefix = environment.name_prefix
    key = KmsKey(
        scope,
        "data-key",
        KmsKeyProps(
            alias=f"alias/{prefix}-{environment.name}-data",
            account_id=environment.account_id,
            description=f"{prefix} {environment.name}: encrypts the environment's data bucket",
            partition=environment.partition,
        ),
    )
    bucket = EncryptedBucket(
        scope,
        "data-bucket",
        EncryptedBucketProps(
            bucket_name=data_bucket_name(environment),
            kms_key_arn=key.key_arn,
            noncurrent_version_expiration_days=int(environment.inputs["data_noncurrent_version_days"]),
        ),
    )
    SsmParameter(
        scope,
        "data-bucket-parameter",
        name=f"/{prefix}/{environment.name}/data-bucket",
        type="String",
        value=bucket.bucket_name,
        description="Name of this environment's data bucket",
    )
    TerraformOutput(scope, "data_bucket_name", value=bucket.bucket_name)
