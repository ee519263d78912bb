"""What every workload environment contains. This file is yours: edit it.

``define_workload`` is called once per environment, inside the ``workload-<env>`` stack, whose AWS
provider already acts in the environment's account and region through its deployment role. Add your
resources here (or import constructs from ``modules/`` or your own packages); branch on
``environment.name`` for differences between environments. The pipeline plans and applies whatever
this declares, with the permissions of the deployment role.

The sample below is small but real: an encrypted, versioned bucket for the environment's data and an
SSM parameter that tells applications where it is.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter

from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput
from modules.kms_key import KmsKey, KmsKeyProps
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig


def define_workload(scope: Construct, project: ProjectConfig, environment: EnvironmentConfig) -> None:
    prefix = project.devops.name_prefix
    key = KmsKey(
        scope,
        "data-key",
        KmsKeyProps(
            alias=f"alias/{prefix}-{environment.name}-data",
            account_id=environment.account_id,
            description=f"{prefix} {environment.name}: encrypts the environment's data bucket",
        ),
    )
    bucket = EncryptedBucket(
        scope,
        "data-bucket",
        EncryptedBucketProps(
            bucket_name=project.naming.workload_bucket(environment.name, environment.account_id, environment.region),
            kms_key_arn=key.key_arn,
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
