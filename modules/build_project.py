"""``BuildProject``: a CodeBuild project run by CodePipeline, with encrypted, retained logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping, Sequence

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectCache,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
    CodebuildProjectVpcConfig,
)

from modules import validation
from modules.framework import Construct

COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE")
"""The compute types of a Linux container build."""
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
"""The retention periods CloudWatch Logs accepts."""


@dataclass(frozen=True)
class BuildVpc:
    """Where a build runs in a VPC. Its role needs the EC2 permissions of AWS's CodeBuild VPC guide (the product's:
    ``provisioner.app.access.vpc_statements``)."""

    vpc_id: str
    """The VPC. Required."""
    subnet_ids: Sequence[str]
    """Private subnets (1-16); the builds reach AWS through their NAT or VPC endpoints. Required."""
    security_group_ids: Sequence[str]
    """Security groups of the build's network interface (1-5). Required."""

    def __post_init__(self) -> None:
        if not 1 <= len(self.subnet_ids) <= 16:
            raise ValueError(f"BuildVpc.subnet_ids has {len(self.subnet_ids)} subnets: CodeBuild takes 1-16")
        if not 1 <= len(self.security_group_ids) <= 5:
            raise ValueError(f"BuildVpc.security_group_ids has {len(self.security_group_ids)} groups: CodeBuild takes 1-5")


@dataclass(frozen=True)
class BuildProjectProps:
    """Settings of a ``BuildProject``."""

    project_name: str
    """CodeBuild project name. Required."""
    service_role_arn: str
    """Role the build runs as. Required."""
    kms_key_arn: str
    """Customer-managed key for build artifacts and the log group. Required."""
    buildspec: str
    """Inline buildspec (YAML). Required."""
    description: str = ""
    """Shown in the CodeBuild console."""
    compute_type: str = "BUILD_GENERAL1_SMALL"
    """CodeBuild compute type, one of ``COMPUTE_TYPES``. Default: the smallest."""
    image: str = "aws/codebuild/standard:7.0"
    """Build image. Default: CodeBuild's standard image 7.0."""
    timeout_minutes: int = 60
    """Minutes a build may run (5-2160). Default: one hour."""
    log_retention_days: int = 365
    """CloudWatch Logs retention of the build logs, one of the periods it accepts (``LOG_RETENTION_DAYS``). Default: 365 days."""
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    """Plaintext variables (never secrets: use Secrets Manager references in the buildspec)."""
    cache_location: str | None = None
    """``bucket/prefix`` for the S3 build cache. Default: no cache."""
    privileged_mode: bool = False
    """Docker-in-Docker. Default: off; turn on only for builds that must build images."""
    vpc: BuildVpc | None = None
    """Run the build in this VPC (its role then needs the EC2 permissions ``BuildVpc`` names). Default: CodeBuild's own network."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "project_name", validation.PROJECT_NAME)
        validation.check(self, "service_role_arn", validation.ROLE_ARN)
        validation.check(self, "kms_key_arn", validation.KMS_KEY_ARN)
        validation.check(self, "buildspec", validation.NOT_EMPTY)
        validation.check(self, "compute_type", validation.one_of(COMPUTE_TYPES))
        validation.check(self, "timeout_minutes", validation.between(5, 2160))
        validation.check(self, "log_retention_days", validation.one_of(LOG_RETENTION_DAYS))
        validation.check(self, "cache_location", validation.BUCKET_AND_PREFIX)


class BuildProject(Construct):
    """A CodeBuild project for a pipeline action.

    Default settings: source and artifacts come from CodePipeline; artifacts encrypted with the
    given customer-managed key; logs in a KMS-encrypted log group ``/aws/codebuild/<name>`` with
    retention; no privileged mode; Linux container with the given image.
    """

    def __init__(self, scope: Construct, id_: str, props: BuildProjectProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/codebuild/{props.project_name}",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        self.project = CodebuildProject(
            self,
            "project",
            name=props.project_name,
            description=props.description,
            service_role=props.service_role_arn,
            encryption_key=props.kms_key_arn,
            build_timeout=props.timeout_minutes,
            source=CodebuildProjectSource(type="CODEPIPELINE", buildspec=terraform_literal(props.buildspec)),
            artifacts=CodebuildProjectArtifacts(type="CODEPIPELINE"),
            cache=CodebuildProjectCache(type="S3", location=props.cache_location) if props.cache_location else None,
            environment=CodebuildProjectEnvironment(
                type="LINUX_CONTAINER",
                compute_type=props.compute_type,
                image=props.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=props.privileged_mode,
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(name=name, value=value, type="PLAINTEXT")
                    for name, value in sorted(props.environment_variables.items())
                ],
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(status="ENABLED", group_name=self.log_group.name)
            ),
            vpc_config=(
                CodebuildProjectVpcConfig(
                    vpc_id=props.vpc.vpc_id, subnets=list(props.vpc.subnet_ids), security_group_ids=list(props.vpc.security_group_ids)
                )
                if props.vpc
                else None
            ),
        )

    @cached_property
    def project_name(self) -> str:
        return self.project.name

    @cached_property
    def project_arn(self) -> str:
        return self.project.arn


def terraform_literal(text: str) -> str:
    """``text`` as Terraform reads it back: shell ``${VAR}`` and ``%{`` are not Terraform templates.

    (``Fn.raw_string`` is not an option: it also escapes newlines, and CodeBuild would get one line.)
    """
    return text.replace("${", "$${").replace("%{", "%%{")
