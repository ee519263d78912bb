"""Who may do what: every IAM role the product creates, with its trust and its policies, as plain data.

This is the one place that decides permissions. The stacks turn these specs into resources
(``modules.service_role``, ``modules.deploy_role``); ``provisioner check`` measures them against IAM's
quotas before anything is synthesized (``provisioner.configuration.quotas``); the permission tests evaluate what
the stacks synthesized from them with an IAM policy evaluator. Nothing here imports the CDK.

Per environment ``<env>`` (DevOps account D, the environment's workload account W)::

    <prefix>-plan-build-<env>   D  CodeBuild project <prefix>-plan-<env> (release plan)
                                   reads its stack's state, writes only its lock object,
                                   assumes <prefix>-plan-<env> and nothing else
    <prefix>-apply-build-<env>  D  CodeBuild project <prefix>-apply-<env> (applies the reviewed plan)
                                   reads and writes its stack's state and lock,
                                   assumes the deployment role and nothing else
    <prefix>-plan-<env>         W  ReadOnlyAccess minus data reads; trusted by the plan builds
                                   (release, pull request, drift), the team's steps of <env>,
                                   extra_ and plan_trusted_role_arns
    <prefix>-deploy-<env>       W  the configured deployment policies; trusted by the apply build
                                   and extra_trusted_role_arns only

Shared by all environments (D): the CodePipeline role, the synth build, the scheduled drift build
(read-only plan of every stack, a message per drifted environment), and for CodeStar sources the
pull-request builds (synth, read-only plan of every stack, comment). Workload-account roles get
nothing on the artifact bucket or its key: builds read artifacts with their own DevOps-account roles.
Same-account grants live in the roles' identity policies only; resource policies (buckets, keys)
grant no DevOps-account role, so they stay small whatever the number of environments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from modules import policy
from modules.pipeline_blueprint import CodeCommitSource, CodeStarSource, S3Source, Source, artifact_prefix
from provisioner.configuration.naming import DEVOPS_STACK, Naming, standard_tags, workload_stack
from provisioner.delivery.steps import (
    TEAM_STEP_PREFIX, BuildStep, drift_step, drift_steps, environment_steps, pull_request_steps, release_steps, self_update_steps,
    synth_step,
)  # fmt: skip

if TYPE_CHECKING:
    from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig

Statement = policy.Statement

READ_ONLY_ACCESS = "ReadOnlyAccess"
"""The AWS managed policy of the plan roles (its ARN is the partition's: ``Naming.aws_managed_policy_arn``)."""
PLAN_ROLE_DESCRIPTION = "Read-only: assumed by the pipeline's plans (release and pull request); never applies"
DEPLOYMENT_ROLE_DESCRIPTION = "Assumed by the DevOps-account pipeline's apply build to deploy this account's stacks"

# What ReadOnlyAccess allows and a plan never needs: the contents of data, not configuration. Refreshing
# a managed resource never calls these.
DATA_READS_NEVER_NEEDED = (
    "athena:GetQueryResults", "athena:GetQueryResultsStream",
    "codecommit:GetBlob", "codecommit:GetFile", "codecommit:GetFolder",
    "dynamodb:GetRecords", "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    "glacier:GetJobOutput",
    "kinesis:GetRecords", "kinesis:SubscribeToShard",
    "logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StartLiveTail",
    "logs:StartQuery", "logs:Unmask",
    "redshift-data:GetStatementResult",
    "s3:GetObjectTorrent",
    "secretsmanager:BatchGetSecretValue",
    "sqs:ReceiveMessage",
    "ssm:GetParametersByPath",
)  # fmt: skip
# Data reads that refreshing a managed resource does need (aws_ssm_parameter, aws_secretsmanager_secret_version,
# aws_lambda_function, aws_dynamodb_table_item): allowed only on resources tagged with this installation's
# Project tag (every resource the stacks create carries it through the provider's default tags), whose
# values the stack's state already holds.
DATA_READS_OF_TAGGED_RESOURCES = (
    "dynamodb:BatchGetItem", "dynamodb:GetItem",
    "lambda:GetFunction",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters",
)  # fmt: skip
# Object bodies (and HeadObject, which aws_s3_object's refresh calls): only objects tagged likewise.
OBJECT_READS = ("s3:GetObject", "s3:GetObjectVersion")
PROJECT_TAG = "Project"
VPC_DESCRIBE_ACTIONS = (
    "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
)  # fmt: skip
"""What CodeBuild describes to place a build in a VPC; EC2 allows these on every resource or none."""


@dataclass(frozen=True)
class ServiceRoleSpec:
    """A DevOps-account role that an AWS service (CodeBuild, CodePipeline) assumes."""

    id: str
    """Construct id: part of the resource address, so it must never change."""
    name: str
    account_id: str
    service: str
    source_arns: tuple[str, ...]
    """The resources the service may act for (``aws:SourceArn``)."""
    statements: tuple[Statement, ...]
    description: str
    environment: str | None = None
    """The environment whose step the role runs (its ``environment.hcl`` answers for its size); None: the project's."""
    managed_policy_arns: tuple[str, ...] = ()
    deny_statements: tuple[Statement, ...] = ()

    def trust(self) -> Statement:
        return policy.trust_service(self.service, self.account_id, self.source_arns)


@dataclass(frozen=True)
class WorkloadRoleSpec:
    """A workload-account role that DevOps-account roles assume (``bootstrap-<env>``)."""

    id: str
    name: str
    account_id: str
    trusted_role_arns: tuple[str, ...]
    managed_policy_arns: tuple[str, ...]
    description: str
    deny_statements: tuple[Statement, ...] = ()
    permissions_boundary_arn: str | None = None
    external_id: str | None = None
    max_session_duration: int = 3600

    def trust(self) -> Statement:
        return policy.trust_roles("TrustPipelineRolesOnly", self.trusted_role_arns, self.external_id)


@dataclass(frozen=True)
class Resources:
    """ARNs only AWS knows until the devops stack is applied (a KMS key's id, a created connection's id).

    The stacks pass references to their resources; ``provisioner check`` passes ``placeholders``,
    strings of the same length, so that policy sizes come out as AWS will count them.
    """

    state_key_arn: str
    artifact_key_arn: str
    source: Source
    connection_arns: tuple[str, ...] = field(default=())
    """CodeStar sources: the connection's ARN in the codestar-connections and the codeconnections format
    (each service's action is granted on its own format). Default: derived from ``source``."""


def placeholders(project: ProjectConfig) -> Resources:
    """Resources with stand-ins as long as the real ARNs (a KMS key id and a connection id are UUIDs)."""
    naming = project.naming
    uuid = "00000000-0000-0000-0000-000000000000"
    key = naming.kms_key_arn(uuid)
    return Resources(state_key_arn=key, artifact_key_arn=key, source=source_of(project, naming.connection_arn(uuid)))


def source_of(project: ProjectConfig, created_connection_arn: str | None) -> Source:
    """The pipeline's source from ``devops.hcl``; ``created_connection_arn`` when the devops stack creates the connection."""
    config = project.devops.source
    if config.type == "codecommit":
        return CodeCommitSource(repository=config.repository, branch=config.branch)
    if config.type == "s3":
        return S3Source(bucket=config.bucket or "", object_key=config.repository)
    return CodeStarSource(
        connection_arn=config.connection_arn or created_connection_arn or "",
        repository=config.repository,
        branch=config.branch,
        trigger_paths=config.trigger_paths,
    )


def plans_pull_requests(project: ProjectConfig) -> bool:
    """Pull requests get their own plan-only pipeline where the source can trigger on them (CodeStar)."""
    return project.devops.source.type == "codestar"


def comments_on_pull_requests(project: ProjectConfig) -> bool:
    source = project.devops.source
    return plans_pull_requests(project) and bool(project.devops.github_token_secret) and source.connection_provider in (
        "GitHub", "GitHubEnterpriseServer",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------
def artifact_statements(
    bucket_arn: str, kms_key_arn: str | None, *, sid: str = "Artifact", write_for: Sequence[str] = ()
) -> list[Statement]:
    """Read one artifact bucket's objects, write (``write_for``) only where CodePipeline keeps those pipelines'
    artifacts, and use the pipeline key unless ``kms_key_arn`` is None (a role that holds the key grant
    through another statement). Nobody writes the bucket at large: the builds' caches sit beside the
    artifacts, one prefix per project, each writable by its own build only."""
    statements: list[Statement] = [
        {
            "Sid": f"{sid}Bucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"],
            "Resource": bucket_arn,
        },
        {"Sid": f"{sid}Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket_arn}/*"},
    ]
    if write_for:
        prefixes = sorted({artifact_prefix(pipeline) for pipeline in write_for})
        statements.append({"Sid": f"{sid}Writes", "Effect": "Allow", "Action": "s3:PutObject", "Resource": [f"{bucket_arn}/{p}/*" for p in prefixes]})
    if kms_key_arn is not None:
        statements.append({"Sid": f"{sid}Key", "Effect": "Allow", "Action": list(policy.KMS_USE_ACTIONS), "Resource": kms_key_arn})
    return statements


def release_pipelines(project: ProjectConfig) -> list[str]:
    """The pipelines whose artifacts live in the release artifact bucket: the release and the drift run."""
    naming = project.naming
    return [naming.pipeline, *([naming.drift_pipeline] if project.devops.drift_schedule else [])]


def assume_roles(role_arns: list[str]) -> Statement:
    """``sts:AssumeRole`` on exactly these roles."""
    return {"Sid": "AssumeExactRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": sorted(set(role_arns))}


def build_log_statements(naming: Naming, project_names: list[str]) -> list[Statement]:
    """Write the logs and test reports of exactly these CodeBuild projects, nobody else's."""
    return [
        {
            "Sid": "OwnBuildLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [naming.build_log_streams_arn(name) for name in project_names],
        },
        {
            "Sid": "OwnBuildReports",
            "Effect": "Allow",
            "Action": ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"],
            "Resource": [naming.build_report_groups_arn(name) for name in project_names],
        },
    ]


def state_statements(naming: Naming, state_key_arn: str, stack: str, *, write: bool) -> list[Statement]:
    """Terraform's S3 backend on one stack's state: read the state and take its lock (plans), or with
    ``write`` also write the state (applies).

    ``s3:ListBucket`` carries no ``s3:prefix`` condition: S3 answers a GET of a missing object (the
    first run's state) with 404 only to a caller who may list the bucket, and that check has no prefix.
    """
    bucket = naming.state_bucket_arn
    key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {
            "Sid": "ReadWriteState" if write else "ReadState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"] if write else "s3:GetObject",
            "Resource": f"{bucket}/{Naming.state_key(stack)}",
        },
        {
            "Sid": "StateLock",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{bucket}/{Naming.state_lock_key(stack)}",
        },
        {"Sid": "StateKey", "Effect": "Allow", "Action": key_actions, "Resource": state_key_arn},
    ]


def unlock_statements(naming: Naming, state_key_arn: str) -> list[Statement]:
    """What an operator needs to release the lock an interrupted plan or apply left (``provisioner unlock``, or
    ``terraform force-unlock``): read any stack's lock object (who, when, which operation) and delete it, and
    nothing on any state. ``s3:ListBucket`` makes "no lock held" a 404 rather than a 403."""
    bucket = naming.state_bucket_arn
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {"Sid": "StateLocks", "Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": f"{bucket}/{Naming.state_lock_key('*')}"},
        {"Sid": "StateKeyDecrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": state_key_arn},
    ]


def read_every_workload_state(naming: Naming, state_key_arn: str) -> list[Statement]:
    """Read (never write, never lock) the state of every workload stack: pull-request plans."""
    bucket = naming.state_bucket_arn
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {"Sid": "ReadWorkloadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/{Naming.state_key(workload_stack('*'))}"},
        {"Sid": "StateKeyDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": state_key_arn},
    ]


def connection_arn_forms(arn: str) -> tuple[str, str]:
    """A connection's ARN as codestar-connections and as codeconnections write it (the same connection)."""
    return arn.replace(":codeconnections:", ":codestar-connections:"), arn.replace(":codestar-connections:", ":codeconnections:")


def source_statements(project: ProjectConfig, resources: Resources) -> list[Statement]:
    """What CodePipeline's role needs to read the source."""
    source, naming = resources.source, project.naming
    if isinstance(source, CodeStarSource):
        codestar, codeconnections = resources.connection_arns or connection_arn_forms(source.connection_arn)
        return [
            {"Sid": "UseSourceConnection", "Effect": "Allow", "Action": "codestar-connections:UseConnection", "Resource": codestar},
            {"Sid": "UseSourceCodeConnection", "Effect": "Allow", "Action": "codeconnections:UseConnection", "Resource": codeconnections},
        ]
    if isinstance(source, CodeCommitSource):
        return [
            {
                "Sid": "ReadSourceRepository",
                "Effect": "Allow",
                "Action": [
                    "codecommit:GetBranch", "codecommit:GetCommit", "codecommit:GetRepository",
                    "codecommit:UploadArchive", "codecommit:GetUploadArchiveStatus", "codecommit:CancelUploadArchive",
                ],  # fmt: skip
                "Resource": naming.codecommit_repository_arn(source.repository),
            }
        ]
    return [
        {
            "Sid": "ReadSourceObject",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": naming.bucket_arn(source.bucket, source.object_key),
        },
        {
            "Sid": "ReadSourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": naming.bucket_arn(source.bucket),
        },
    ]


def deny_data_reads() -> Statement:
    """What ReadOnlyAccess allows that no plan needs: the contents of data (``DATA_READS_NEVER_NEEDED``)."""
    return {"Sid": "DenyDataReads", "Effect": "Deny", "Action": sorted(DATA_READS_NEVER_NEEDED), "Resource": "*"}


def plan_role_deny_statements(project_tag: str) -> list[Statement]:
    """What the read-only plan role may not read although ReadOnlyAccess allows it: data, not configuration.

    ``project_tag`` is the value of the ``Project`` tag the environment's provider puts on every resource.
    A missing tag counts as another project (negated condition operators match a missing key).
    """
    return [
        deny_data_reads(),
        {
            "Sid": "DenyDataReadsOfOtherResources",
            "Effect": "Deny",
            "Action": sorted(DATA_READS_OF_TAGGED_RESOURCES),
            "Resource": "*",
            "Condition": {"StringNotEquals": {f"aws:ResourceTag/{PROJECT_TAG}": project_tag}},
        },
        {
            "Sid": "DenyObjectReadsOfOtherObjects",
            "Effect": "Deny",
            "Action": sorted(OBJECT_READS),
            "Resource": "*",
            "Condition": {"StringNotEquals": {f"s3:ExistingObjectTag/{PROJECT_TAG}": project_tag}},
        },
    ]


def vpc_statements(project: ProjectConfig, subnet_ids: tuple[str, ...], security_group_ids: tuple[str, ...]) -> list[Statement]:
    """What CodeBuild needs in a build's role to run it in the VPC of ``build { vpc {} }`` (AWS's CodeBuild
    VPC guide): describe the network, and create (and delete) the build's network interface only in
    ``subnet_ids`` with ``security_group_ids``, for CodeBuild only."""
    naming = project.naming
    interfaces = naming.devops_arn("ec2", "network-interface/*")
    subnets = [naming.devops_arn("ec2", f"subnet/{subnet}") for subnet in subnet_ids]
    groups = [naming.devops_arn("ec2", f"security-group/{group}") for group in security_group_ids]
    return [
        # EC2's Describe actions support no resource-level permissions: "*" is the only resource they take.
        {"Sid": "DescribeBuildNetwork", "Effect": "Allow", "Action": list(VPC_DESCRIBE_ACTIONS), "Resource": "*"},
        {
            "Sid": "BuildNetworkInterface",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            "Resource": [interfaces, *subnets, *groups],
        },
        {
            "Sid": "BuildNetworkInterfaceForCodeBuild",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": interfaces,
            "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}, "ArnEquals": {"ec2:Subnet": subnets}},
        },
    ]


def build_subnets(project: ProjectConfig, step: BuildStep) -> tuple[str, ...]:
    """The subnets ``step`` runs in (pull-request builds have their own); none outside a VPC."""
    vpc = project.devops.build.vpc
    if vpc is None:
        return ()
    return vpc.pull_request_subnet_ids if step.kind.startswith("pr-") else vpc.subnet_ids


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------
def codebuild_role(
    project: ProjectConfig, id_: str, name: str, project_name: str, statements: list[Statement], description: str, environment: str | None = None
) -> ServiceRoleSpec:
    """A build role that exactly one CodeBuild project may use, writing only that project's logs."""
    naming, devops = project.naming, project.devops
    return ServiceRoleSpec(
        id=id_,
        name=name,
        account_id=devops.account_id,
        service="codebuild.amazonaws.com",
        source_arns=(naming.build_project_arn(project_name),),
        statements=(*statements, *build_log_statements(naming, [project_name])),
        description=description,
        environment=environment,
    )


def build_role(project: ProjectConfig, step: BuildStep, resources: Resources) -> ServiceRoleSpec:
    """The role ``step`` runs as: trusted by its own CodeBuild project only, writing only its own logs,
    with the statements its kind of step needs and nothing else."""
    naming = project.naming
    environment = next((env for env in project.environments if env.name == step.environment), None)
    statements, description = _BUILD_STATEMENTS[step.kind](project, environment, step, resources)
    if subnets := build_subnets(project, step):
        statements = [*statements, *vpc_statements(project, subnets, project.devops.build.vpc.security_group_ids)]
    if step.cache:
        # CodeBuild reads and writes the cache with the build's role; each project has a prefix of its own.
        cache = naming.bucket_arn(naming.artifact_bucket, f"{step.cache_prefix(naming)}/*")
        statements = [*statements, {"Sid": "OwnBuildCache", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": cache}]
    name = naming.build_role(step.key, step.environment)
    role = codebuild_role(project, step.role_id, name, step.project_name(naming), statements, description, step.environment)
    if step.kind in ("devops-plan", "devops-apply"):
        # Refreshing the devops stack reads every kind of resource it declares: AWS's read-only policy,
        # minus data and other stacks' state.
        managed = (naming.aws_managed_policy_arn(READ_ONLY_ACCESS),)
        return dataclasses.replace(role, managed_policy_arns=managed, deny_statements=tuple(self_update_denies(project, step)))
    return role


def _synth_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    return (
        artifact_statements(project.naming.artifact_bucket_arn, resources.artifact_key_arn, write_for=release_pipelines(project)),
        "CodeBuild: synthesizes the stacks and runs the policy gate; no AWS access beyond its artifacts and logs",
    )


def _plan_statements(project: ProjectConfig, env: EnvironmentConfig, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    naming = project.naming
    return (
        [
            *artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn, write_for=[naming.pipeline]),
            *state_statements(naming, resources.state_key_arn, env.workload_stack, write=False),
            assume_roles([project.plan_role_arn(env)]),
        ],
        f"CodeBuild: plans {env.workload_stack} through its read-only plan role; cannot change it",
    )


def _apply_statements(project: ProjectConfig, env: EnvironmentConfig, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    naming = project.naming
    return (
        [
            *artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn),
            *state_statements(naming, resources.state_key_arn, env.workload_stack, write=True),
            assume_roles([project.deployment_role_arn(env)]),
        ],
        f"CodeBuild: applies the reviewed saved plan of {env.workload_stack} through its deployment role",
    )


def _team_statements(project: ProjectConfig, env: EnvironmentConfig, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    """A team's step reads the release (the synth artifact) and, through the plan role, the workload account."""
    return (
        [
            *artifact_statements(project.naming.artifact_bucket_arn, resources.artifact_key_arn),
            assume_roles([project.plan_role_arn(env)]),
        ],
        f"CodeBuild: the team's step {step.key.removeprefix(TEAM_STEP_PREFIX)} of {env.name}; reads the workload account through its plan role",
    )


def _pr_synth_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    return (
        artifact_statements(project.naming.pr_artifact_bucket_arn, resources.artifact_key_arn, write_for=[project.naming.pr_pipeline]),
        "CodeBuild: synthesizes a pull request and runs the policy gate; pull-request artifacts only",
    )


def _pr_plan_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    naming = project.naming
    return (
        [
            *artifact_statements(naming.pr_artifact_bucket_arn, resources.artifact_key_arn, write_for=[naming.pr_pipeline]),
            *read_every_workload_state(naming, resources.state_key_arn),
            assume_roles([project.plan_role_arn(env) for env in project.environments]),
        ],
        "CodeBuild: plans pull requests through the read-only plan roles; cannot change anything",
    )


def _pr_comment_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    naming, devops = project.naming, project.devops
    # Secrets Manager appends a random 6-character suffix to secret ARNs.
    secret_arn = naming.secret_arn(devops.github_token_secret)
    token = {"Sid": "ReadPullRequestCommentToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}
    return (
        [*artifact_statements(naming.pr_artifact_bucket_arn, resources.artifact_key_arn), token],
        "CodeBuild: posts the plan summary on the pull request; runs no pull-request code",
    )


def _drift_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    """The scheduled drift run reads the released synth output and every workload state (never locks it),
    plans through the read-only plan roles and tells the notifications topic (encrypted with the artifact key)."""
    naming = project.naming
    return (
        [
            *artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn),
            *read_every_workload_state(naming, resources.state_key_arn),
            assume_roles([project.plan_role_arn(env) for env in project.environments]),
            {"Sid": "ReportDrift", "Effect": "Allow", "Action": "sns:Publish", "Resource": naming.notifications_topic_arn},
        ],
        "CodeBuild: plans every workload stack on a schedule through the read-only plan roles and reports drift; changes nothing",
    )


IAM_ROLE_CHANGES = (
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)  # fmt: skip


def _devops_state_read(naming: Naming, state_key_arn: str) -> list[Statement]:
    """Read the devops stack's own state, without its lock (a plan that is applied later needs none)."""
    return [s for s in state_statements(naming, state_key_arn, DEVOPS_STACK, write=False) if s["Sid"] != "StateLock"]


def _devops_plan_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    naming = project.naming
    return (
        [
            *artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn, write_for=[naming.pipeline]),
            *_devops_state_read(naming, resources.state_key_arn),
        ],
        "CodeBuild: plans the devops stack (the pipeline itself) with ReadOnlyAccess minus data reads; changes nothing",
    )


def _devops_apply_statements(project: ProjectConfig, env: None, step: BuildStep, resources: Resources) -> tuple[list[Statement], str]:
    """The devops stack's delivery resources, found by the installation's name prefix, and nothing else:
    no workload account, no workload state, never its own role or the devops plan's."""
    naming, prefix = project.naming, project.devops.name_prefix
    named = f"{prefix}-*"
    tagged = {"StringEquals": {f"aws:ResourceTag/{PROJECT_TAG}": prefix}}
    statements: list[Statement] = [
        *artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn),
        *state_statements(naming, resources.state_key_arn, DEVOPS_STACK, write=True),
        {"Sid": "DeliveryRoles", "Effect": "Allow", "Action": [*IAM_ROLE_CHANGES, "iam:PassRole"], "Resource": naming.devops_role_arn(named)},
        {
            "Sid": "DeliveryBuckets",
            "Effect": "Allow",
            "Action": [
                "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucket*", "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],  # fmt: skip
            "Resource": naming.bucket_arn(named),
        },
        {
            "Sid": "DeliveryKeys",
            "Effect": "Allow",
            "Action": [
                "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:PutKeyPolicy", "kms:TagResource", "kms:UntagResource",
                "kms:UpdateKeyDescription", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
            ],  # fmt: skip
            "Resource": naming.kms_key_arn("*"),
            "Condition": tagged,
        },
        {
            "Sid": "DeliveryKeyAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": naming.devops_arn("kms", f"alias/{named}"),
        },
        {
            "Sid": "DeliveryBuildProjects",
            "Effect": "Allow",
            "Action": ["codebuild:CreateProject", "codebuild:DeleteProject", "codebuild:UpdateProject"],
            "Resource": naming.build_project_arn(named),
        },
        {
            "Sid": "DeliveryBuildLogs",
            "Effect": "Allow",
            "Action": [
                "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey",
                "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
            ],  # fmt: skip
            "Resource": naming.devops_arn("logs", f"log-group:/aws/codebuild/{named}"),
        },
        {
            "Sid": "DeliveryPipelines",
            "Effect": "Allow",
            "Action": ["codepipeline:CreatePipeline", "codepipeline:DeletePipeline", "codepipeline:TagResource", "codepipeline:UntagResource",
                       "codepipeline:UpdatePipeline"],  # fmt: skip
            "Resource": naming.devops_arn("codepipeline", named),
        },
        {
            "Sid": "RestartTheRelease",
            "Effect": "Allow",
            "Action": ["codepipeline:StartPipelineExecution", "codepipeline:StopPipelineExecution"],
            "Resource": naming.pipeline_arn,
        },
        {
            "Sid": "DeliveryEventRules",
            "Effect": "Allow",
            "Action": ["events:DeleteRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"],
            "Resource": naming.devops_arn("events", f"rule/{named}"),
        },
        {
            "Sid": "DeliveryNotifications",
            "Effect": "Allow",
            "Action": [
                "sns:CreateTopic", "sns:DeleteTopic", "sns:SetSubscriptionAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
                "sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
            ],  # fmt: skip
            "Resource": naming.devops_arn("sns", named),
        },
        {
            "Sid": "DeliveryAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"],
            "Resource": naming.devops_arn("cloudwatch", f"alarm:{named}"),
        },
    ]
    return statements, "CodeBuild: applies the reviewed plan of the devops stack (delivery resources named for this installation only), then restarts the release"


def self_update_denies(project: ProjectConfig, step: BuildStep) -> list[Statement]:
    """What the devops plan and apply builds may not do although ReadOnlyAccess or their grants would allow it:
    read data, read or write another stack's state, delete an earlier version of any state, and (the apply)
    change the self-update's own roles."""
    naming = project.naming
    bucket = naming.state_bucket_arn
    denies: list[Statement] = [
        deny_data_reads(),
        {
            "Sid": "DenyOtherStacksState",
            "Effect": "Deny",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"{bucket}/{Naming.state_key(workload_stack('*'))}*", f"{bucket}/stacks/bootstrap-*"],
        },
        # Versioning keeps every earlier state (what an interrupted or bad apply leaves to go back to).
        {"Sid": "DenyDeletingStateVersions", "Effect": "Deny", "Action": "s3:DeleteObjectVersion", "Resource": f"{bucket}/stacks/*"},
    ]
    if step.kind == "devops-apply":
        own = [naming.devops_role_arn(naming.build_role(key)) for key in ("devops-plan", "devops-apply")]
        denies.append({"Sid": "DenyChangingTheSelfUpdateRoles", "Effect": "Deny", "Action": [*IAM_ROLE_CHANGES, "iam:PassRole"], "Resource": own})
    return denies


_BUILD_STATEMENTS = {
    "synth": _synth_statements,
    "plan": _plan_statements,
    "apply": _apply_statements,
    "team": _team_statements,
    "pr-synth": _pr_synth_statements,
    "pr-plan": _pr_plan_statements,
    "pr-comment": _pr_comment_statements,
    "drift": _drift_statements,
    "devops-plan": _devops_plan_statements,
    "devops-apply": _devops_apply_statements,
}


def pipeline_role(project: ProjectConfig, resources: Resources) -> ServiceRoleSpec:
    """CodePipeline's role for every pipeline (release, pull requests, drift): artifacts, the source, starting
    the product's own builds."""
    naming, prefix = project.naming, project.devops.name_prefix
    pipelines = [naming.pipeline_arn]
    # Patterns, not one ARN per project: the list would outgrow IAM's inline-policy quota at about 45 environments.
    projects = [synth_step().project_name(naming), *(step.project_name(naming) for step in self_update_steps(project))]
    projects += [f"{prefix}-plan-*", f"{prefix}-apply-*"]
    if any(env.steps for env in project.environments):
        projects.append(f"{prefix}-{TEAM_STEP_PREFIX}*")
    statements = artifact_statements(naming.artifact_bucket_arn, resources.artifact_key_arn, write_for=release_pipelines(project))
    if plans_pull_requests(project):
        pipelines.append(naming.pr_pipeline_arn)
        projects.append(f"{prefix}-pr-*")
        statements += artifact_statements(naming.pr_artifact_bucket_arn, None, sid="PullRequestArtifact", write_for=[naming.pr_pipeline])
    if project.devops.drift_schedule:
        pipelines.append(naming.drift_pipeline_arn)
        projects.append(drift_step(project).project_name(naming))
    statements += [
        {
            "Sid": "RunThisPipelinesBuilds",
            "Effect": "Allow",
            "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
            "Resource": [naming.build_project_arn(name) for name in projects],
        },
        {"Sid": "NotifyApprovers", "Effect": "Allow", "Action": "sns:Publish", "Resource": naming.notifications_topic_arn},
        *source_statements(project, resources),
    ]
    return ServiceRoleSpec(
        id="pipeline-role",
        name=naming.pipeline_role,
        account_id=project.devops.account_id,
        service="codepipeline.amazonaws.com",
        source_arns=tuple(pipelines),
        statements=tuple(statements),
        description="CodePipeline: reads the source, runs the builds, passes artifacts",
    )


def pull_request_roles(project: ProjectConfig, resources: Resources) -> list[ServiceRoleSpec]:
    """The pull-request builds' roles: their own artifact bucket, never the release pipeline's."""
    if not plans_pull_requests(project):
        return []
    return [build_role(project, step, resources) for step in pull_request_steps(project, comment=comments_on_pull_requests(project))]


def devops_roles(project: ProjectConfig, resources: Resources) -> list[ServiceRoleSpec]:
    """Every role of the devops stack (but the CodeCommit trigger's, which ``DeliveryPipeline`` owns):
    the pipeline's, and one per build step."""
    roles = [pipeline_role(project, resources)]
    roles += [build_role(project, step, resources) for step in release_steps(project)]
    # The drift pipeline's Synth is the release's own build; only its plan build has a role of its own.
    roles += [build_role(project, step, resources) for step in drift_steps(project) if step.kind == "drift"]
    return roles + pull_request_roles(project, resources)


def deployment_role(project: ProjectConfig, env: EnvironmentConfig) -> WorkloadRoleSpec:
    role = env.deployment_role
    return WorkloadRoleSpec(
        id="deployment-role",
        name=role.name,
        account_id=env.account_id,
        trusted_role_arns=(project.naming.devops_role_arn(project.naming.apply_build_role(env.name)), *role.extra_trusted_role_arns),
        managed_policy_arns=role.managed_policy_arns,
        permissions_boundary_arn=role.permissions_boundary_arn,
        external_id=role.external_id,
        max_session_duration=role.max_session_duration,
        description=DEPLOYMENT_ROLE_DESCRIPTION,
    )


def plan_role(project: ProjectConfig, env: EnvironmentConfig) -> WorkloadRoleSpec:
    naming, role = project.naming, env.deployment_role
    planners = [naming.devops_role_arn(naming.plan_build_role(env.name))]
    planners += [naming.devops_role_arn(naming.build_role(step.key, env.name)) for step in environment_steps(project, env) if step.kind == "team"]
    if plans_pull_requests(project):
        planners.append(naming.devops_role_arn(naming.pr_plan_build_role))
    if project.devops.drift_schedule:
        planners.append(naming.devops_role_arn(naming.build_role(drift_step(project).key)))
    project_tag = standard_tags(project.devops.name_prefix, env.name, dict(env.tags))[PROJECT_TAG]
    return WorkloadRoleSpec(
        id="plan-role",
        name=naming.plan_role(env.name),
        account_id=env.account_id,
        trusted_role_arns=(*planners, *role.extra_trusted_role_arns, *role.plan_trusted_role_arns),
        managed_policy_arns=(naming.aws_managed_policy_arn(READ_ONLY_ACCESS),),
        deny_statements=tuple(plan_role_deny_statements(project_tag)),
        permissions_boundary_arn=role.permissions_boundary_arn,
        external_id=role.external_id,
        max_session_duration=role.max_session_duration,
        description=PLAN_ROLE_DESCRIPTION,
    )


def environment_roles(project: ProjectConfig, env: EnvironmentConfig) -> list[WorkloadRoleSpec]:
    """The two roles ``bootstrap-<env>`` creates in the workload account."""
    return [deployment_role(project, env), plan_role(project, env)]
