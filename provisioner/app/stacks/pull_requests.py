"""Plans of pull requests, inside the ``devops`` stack: a plan-only pipeline kept apart from releases.

A pull request is code nobody has reviewed yet. Its builds therefore get their own projects, roles
(``provisioner.app.access.pull_request_roles``) and artifact bucket: they cannot write the release
pipeline's artifacts (where saved plans wait for approval), they plan through the workload accounts'
read-only plan roles, and the code that summarizes the plans and the code that holds the GitHub token
are the deployed devops stack's, never the pull request's.
"""

from __future__ import annotations

from typing import Callable

from modules.build_project import BuildProject
from modules.delivery_pipeline import DeliveryPipeline, DeliveryPipelineProps
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput
from modules.pipeline_blueprint import CodeStarSource
from provisioner.app.access import comments_on_pull_requests
from provisioner.configuration.settings import ProjectConfig
from provisioner.delivery.pipeline import pull_request_stages
from provisioner.delivery.steps import BuildStep, pull_request_steps

ProjectFactory = Callable[[BuildStep], BuildProject]
"""The devops stack's: the CodeBuild project of one step."""

PR_ARTIFACT_EXPIRATION_DAYS = 14
"""A pull request's plan is worth nothing once a newer push planned again."""


def declare_pull_request_plans(
    scope: Construct,
    *,
    project: ProjectConfig,
    source: CodeStarSource,
    kms_key_arn: str,
    pipeline_role_arn: str,
    make_project: ProjectFactory,
) -> DeliveryPipeline:
    """Bucket, CodeBuild projects and the V2 pipeline that plan pull requests, in ``scope`` (the devops stack)."""
    devops, naming = project.devops, project.naming
    bucket = EncryptedBucket(
        scope,
        "pr-artifacts",
        EncryptedBucketProps(
            bucket_name=naming.pr_artifact_bucket,
            kms_key_arn=kms_key_arn,
            noncurrent_version_expiration_days=7,
            expiration_days=PR_ARTIFACT_EXPIRATION_DAYS,
        ),
    )
    comment = comments_on_pull_requests(project)
    for step in pull_request_steps(project, comment=comment):
        make_project(step)
    pipeline = DeliveryPipeline(
        scope,
        "pr-pipeline",
        DeliveryPipelineProps(
            pipeline_name=naming.pr_pipeline,
            role_arn=pipeline_role_arn,
            artifact_bucket_name=bucket.bucket_name,
            kms_key_arn=kms_key_arn,
            account_id=devops.account_id,
            region=devops.region,
            source=source,
            stages=pull_request_stages(project, comment=comment),
            trigger="pull_request",
            # SUPERSEDED is pipeline-wide: a push to one pull request would cancel another's plan.
            # PARALLEL runs each pull request's execution on its own.
            execution_mode="PARALLEL",
            partition=naming.partition,
        ),
    )
    TerraformOutput(scope, "pr_pipeline_name", value=pipeline.pipeline_name)
    return pipeline
