"""What every stack shares: where its state lives and how its AWS provider reaches its account."""

from __future__ import annotations

import functools
import inspect
from typing import Mapping

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags, AwsProviderEndpoints

from modules.framework import LocalBackend, S3Backend, S3BackendAssumeRoleConfig, TerraformStack
from provisioner.configuration.naming import Naming
from provisioner.configuration.settings import ProjectConfig
from provisioner.configuration.target import LocalAws, Target

# Second names the AWS provider (5.100.0) accepts for an endpoint it knows by another: setting both warns
# ("Only one of the following attributes should be set"), and is to become an error.
ENDPOINT_ALIASES = frozenset(
    {
        "amg", "appintegrationsservice", "appregistry", "applicationautoscaling", "beanstalk", "cloudcontrolapi",
        "cloudhsm", "cloudwatchevents", "cloudwatchevidently", "cloudwatchlog", "cloudwatchlogs",
        "cloudwatchobservabilityaccessmanager", "cloudwatchrum", "codedeploy", "cognitoidentityprovider", "config",
        "costandusagereportservice", "costexplorer", "databasemigration", "databasemigrationservice",
        "directoryservice", "elasticloadbalancing", "elasticloadbalancingv2", "elasticsearchservice", "es",
        "eventbridge", "gluedatabrew", "inspectorv2", "lex", "lexmodelbuilding", "lexmodelbuildingservice",
        "lexmodelsv2", "locationservice", "managedgrafana", "msk", "opensearchingestion", "opensearchservice",
        "prometheus", "prometheusservice", "recyclebin", "redshiftdataapiservice", "resourcegroupstagging",
        "s3api", "sdb", "serverlessapplicationrepository", "serverlessapprepo", "stepfunctions", "transcribeservice",
    }
)  # fmt: skip


def use_remote_state(
    stack: TerraformStack,
    project: ProjectConfig,
    stack_name: str,
    target: Target,
    *,
    profile: str | None = None,
    assume_role_arn: str | None = None,
) -> None:
    """Keep ``stack_name``'s state in the DevOps state bucket under its own key, locked natively by S3.

    ``profile`` and ``assume_role_arn``: credentials of the backend's own, when whoever applies the stack
    acts in another account than the DevOps account (the bootstrap stacks).
    """
    naming = project.naming
    if stack_name == "devops" and target.devops_local_state is not None:
        LocalBackend(stack, path=str(target.devops_local_state))
        return
    S3Backend(
        stack,
        bucket=naming.state_bucket,
        key=Naming.state_key(stack_name),
        region=project.devops.region,
        encrypt=True,
        kms_key_id=naming.state_key_alias_arn,
        profile=profile,
        assume_role=S3BackendAssumeRoleConfig(role_arn=assume_role_arn, session_name=f"{stack_name}-state") if assume_role_arn else None,
    )
    # cdktf 0.21's S3Backend has no field for S3-native locking (terraform >= 1.10).
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    if target.local_aws is not None:
        for key, value in _local_backend_settings(target.local_aws).items():
            stack.add_override(f"terraform.backend.s3.{key}", value)


def aws_provider(
    stack: TerraformStack,
    *,
    account_id: str,
    region: str,
    tags: Mapping[str, str],
    target: Target,
    assume_role_arn: str | None = None,
    external_id: str | None = None,
    session_name: str = "pipeline-provisioner",
    profile: str | None = None,
) -> AwsProvider:
    """The stack's AWS provider, refusing any account but ``account_id``."""
    assume_role = (
        [AwsProviderAssumeRole(role_arn=assume_role_arn, external_id=external_id, session_name=session_name)]
        if assume_role_arn
        else None
    )
    local = _local_provider_settings(target.local_aws) if target.local_aws is not None else {}
    return AwsProvider(
        stack,
        "aws",
        region=region,
        allowed_account_ids=[account_id],
        assume_role=assume_role,
        profile=profile,
        default_tags=[AwsProviderDefaultTags(tags=dict(tags))],
        **local,
    )


@functools.cache
def emulated_services() -> tuple[str, ...]:
    """Every service endpoint the provider binding knows, once each: whatever a team's workload uses
    (SQS, Lambda, DynamoDB, ...) reaches the emulator, never real AWS."""
    names = [name for name in inspect.signature(AwsProviderEndpoints.__init__).parameters if name != "self"]
    return tuple(name for name in names if name.replace("_", "") not in ENDPOINT_ALIASES)  # lambda_, s3_api: the schema has no "_"


def _local_provider_settings(emulator: LocalAws) -> dict:
    """Provider arguments for the emulator: every service at its endpoint, its test credentials.

    The account id is still requested (``allowed_account_ids`` is checked against the emulator too);
    no instance-metadata lookup, no credential check against real STS, path-style S3 URLs.
    """
    return {
        "access_key": emulator.access_key,
        "secret_key": emulator.secret_key,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "s3_use_path_style": True,
        "endpoints": [AwsProviderEndpoints(**{service: emulator.endpoint for service in emulated_services()})],
    }


def _local_backend_settings(emulator: LocalAws) -> dict:
    """S3 backend arguments for the emulator: the state bucket lives in the emulated DevOps account."""
    endpoint = emulator.endpoint
    return {
        "access_key": emulator.access_key,
        "secret_key": emulator.secret_key,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": True,
        "skip_requesting_account_id": True,
        "use_path_style": True,
        "endpoints": {"s3": endpoint, "sts": endpoint, "iam": endpoint},
    }
