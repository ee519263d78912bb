"""Plans of pull requests, inside the ``devops`` stack: a plan-only pipeline kept apart from releases.

A pull request is code nobody has reviewed yet. Its builds therefore get their own projects, roles and
artifact bucket: they cannot write the release pipeline's artifacts (where saved plans wait for
approval), they plan through the workload accounts' read-only plan roles, and the GitHub token is
held only by the comment build, which runs code from the deployed devops stack, not from the pull
request.
"""

from __future__ import annotations

from typing import Callable

from modules import policy
from modules.build_project import BuildProject
from modules.delivery_pipeline import DeliveryPipeline, DeliveryPipelineProps
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput
from modules.pipeline_blueprint import CodeStarSource
from modules.service_role import ServiceRole, ServiceRoleProps
from provisioner import buildspecs
from provisioner.config import ProjectConfig
from provisioner.delivery import PR_COMMENT_PROJECT_STEP, PR_PLAN_PROJECT_STEP, PR_SYNTH_PROJECT_STEP, pull_request_stages
from provisioner.naming import workload_stack
from provisioner.stacks.statements import artifact_statements, assume_roles, build_log_statements

ProjectFactory = Callable[..., BuildProject]
"""``make(step, env_name, role_arn, buildspec, description, cache=False)`` from the devops stack."""


def comments_on_pull_requests(project: ProjectConfig) -> bool:
    source = project.devops.source
    return bool(project.devops.github_token_secret) and source.connection_provider in ("GitHub", "GitHubEnterpriseServer")


def pull_request_role_arns(project: ProjectConfig) -> list[str]:
    naming = project.naming
    names = [naming.pr_synth_build_role, naming.pr_plan_build_role]
    if comments_on_pull_requests(project):
        names.append(naming.pr_comment_build_role)
    return [naming.role_arn(project.devops.account_id, name) for name in names]


def pull_request_project_names(project: ProjectConfig) -> list[str]:
    steps = [PR_SYNTH_PROJECT_STEP, PR_PLAN_PROJECT_STEP, *([PR_COMMENT_PROJECT_STEP] if comments_on_pull_requests(project) else [])]
    return [project.naming.build_project(step) for step in steps]


def declare_pull_request_plans(
    scope: Construct,
    *,
    project: ProjectConfig,
    source: CodeStarSource,
    kms_key_arn: str,
    pipeline_role: ServiceRole,
    read_only_state_statements: list[policy.Statement],
    make_project: ProjectFactory,
) -> DeliveryPipeline:
    """Bucket, roles, CodeBuild projects and the V2 pipeline that plan pull requests, in ``scope`` (the devops stack)."""
    devops, naming = project.devops, project.naming
    account, region = devops.account_id, devops.region
    bucket = EncryptedBucket(
        scope,
        "pr-artifacts",
        EncryptedBucketProps(
            bucket_name=naming.pr_artifact_bucket,
            kms_key_arn=kms_key_arn,
            read_write_role_arns=[naming.role_arn(account, naming.pipeline_role), *pull_request_role_arns(project)],
            noncurrent_version_expiration_days=7,
        ),
    )
    artifacts = artifact_statements(bucket.bucket_arn, kms_key_arn)

    def role(id_: str, name: str, step: str, statements: list[policy.Statement], description: str) -> str:
        """A build role that exactly one pull-request project may use."""
        project_name = naming.build_project(step)
        props = ServiceRoleProps(
            role_name=name,
            service="codebuild.amazonaws.com",
            account_id=account,
            source_arns=[f"arn:aws:codebuild:{region}:{account}:project/{project_name}"],
            statements=[*artifacts, *build_log_statements(region, account, [project_name]), *statements],
            description=description,
        )
        return ServiceRole(scope, id_, props).role_arn

    synth_role = role(
        "pr-synth-build-role", naming.pr_synth_build_role, PR_SYNTH_PROJECT_STEP, [],
        "CodeBuild: synthesizes a pull request and runs the policy gate; pull-request artifacts only",
    )  # fmt: skip
    plan_role = role(
        "pr-plan-build-role", naming.pr_plan_build_role, PR_PLAN_PROJECT_STEP,
        [*read_only_state_statements, assume_roles([project.plan_role_arn(env) for env in project.environments])],
        "CodeBuild: plans pull requests through the read-only plan roles; cannot change anything",
    )  # fmt: skip
    make_project(PR_SYNTH_PROJECT_STEP, None, synth_role, buildspecs.synth(buildspecs.POLICY_GATE_COMMAND),
                 "Synthesizes a pull request and runs the policy gate")  # fmt: skip
    make_project(
        PR_PLAN_PROJECT_STEP, None, plan_role,
        buildspecs.pr_plan({workload_stack(env.name): project.plan_role_arn(env) for env in project.environments}),
        "Plans every workload stack of a pull request through read-only roles; never applies",
    )  # fmt: skip
    comment = comments_on_pull_requests(project)
    if comment:
        # Secrets Manager appends a random 6-character suffix to secret ARNs.
        secret_arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{devops.github_token_secret}-??????"
        token = {"Sid": "ReadPullRequestCommentToken", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}
        comment_role = role(
            "pr-comment-build-role", naming.pr_comment_build_role, PR_COMMENT_PROJECT_STEP, [token],
            "CodeBuild: posts the plan summary on the pull request; runs no pull-request code",
        )  # fmt: skip
        make_project(PR_COMMENT_PROJECT_STEP, None, comment_role,
                     buildspecs.pr_comment(source.repository, devops.github_token_secret),
                     "Posts or updates the pull request's plan summary comment")  # fmt: skip
    pipeline = DeliveryPipeline(
        scope,
        "pr-pipeline",
        DeliveryPipelineProps(
            pipeline_name=naming.pr_pipeline,
            role_arn=pipeline_role.role_arn,
            artifact_bucket_name=bucket.bucket_name,
            kms_key_arn=kms_key_arn,
            account_id=account,
            region=region,
            source=source,
            stages=pull_request_stages(project, comment=comment),
            trigger="pull_request",
            # A newer push to the same pull request makes an older plan worthless.
            execution_mode="SUPERSEDED",
        ),
    )
    TerraformOutput(scope, "pr_pipeline_name", value=pipeline.pipeline_name)
    return pipeline

