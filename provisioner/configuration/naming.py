"""The one place where the product derives AWS names, ARNs and tags.

Every stack and the config validator use these functions, so a name checked at load time is exactly
the name that is synthesized, and stacks in different accounts agree on ARNs of resources they
cannot reference directly (a workload account's trust policy names the DevOps build role by ARN).

ARNs are in the partition of the DevOps region (``aws``, ``aws-cn`` in China, ``aws-us-gov`` in
GovCloud): IAM trust, KMS and S3 grants do not cross partitions, so ``provisioner check`` refuses
an environment or an ARN in any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from modules.policy import PARTITIONS, arn, partition_of

__all__ = ["PARTITIONS", "arn", "partition_of"]


@dataclass(frozen=True)
class Naming:
    """Names for one product installation: ``<prefix>-<what>[-<environment>]``."""

    prefix: str
    devops_account_id: str
    devops_region: str

    @property
    def partition(self) -> str:
        """The partition of every ARN of this installation: the DevOps region's."""
        return partition_of(self.devops_region)

    def devops_arn(self, service: str, resource: str) -> str:
        """ARN of a regional resource in the DevOps account."""
        return arn(self.partition, service, self.devops_region, self.devops_account_id, resource)

    # --- DevOps account -----------------------------------------------------------------------
    @property
    def state_bucket(self) -> str:
        return f"{self.prefix}-tfstate-{self.devops_account_id}-{self.devops_region}"

    @property
    def state_key_alias(self) -> str:
        return f"alias/{self.prefix}-tfstate"

    @property
    def state_key_alias_arn(self) -> str:
        return self.devops_arn("kms", self.state_key_alias)

    @property
    def artifact_bucket(self) -> str:
        return f"{self.prefix}-artifacts-{self.devops_account_id}-{self.devops_region}"

    @property
    def pr_artifact_bucket(self) -> str:
        """Artifacts of pull-request runs: apart from release artifacts, which unreviewed code must not touch."""
        return f"{self.prefix}-pr-artifacts-{self.devops_account_id}-{self.devops_region}"

    @property
    def artifact_key_alias(self) -> str:
        return f"alias/{self.prefix}-artifacts"

    @property
    def pipeline(self) -> str:
        return f"{self.prefix}-delivery"

    @property
    def pr_pipeline(self) -> str:
        return f"{self.prefix}-pr-plan"

    @property
    def drift_pipeline(self) -> str:
        """The scheduled drift run: synth, then a read-only plan of every workload stack."""
        return f"{self.prefix}-drift"

    @property
    def pipeline_role(self) -> str:
        return f"{self.prefix}-codepipeline"

    @property
    def synth_build_role(self) -> str:
        return f"{self.prefix}-synth-build"

    def plan_build_role(self, environment: str) -> str:
        """The role of the release pipeline's plan build of ``environment``: it may assume only that
        environment's read-only plan role."""
        return f"{self.prefix}-plan-build-{environment}"

    def apply_build_role(self, environment: str) -> str:
        """The role of the release pipeline's apply build of ``environment``: the only pipeline role its
        deployment role trusts."""
        return f"{self.prefix}-apply-build-{environment}"

    @property
    def pr_synth_build_role(self) -> str:
        return f"{self.prefix}-pr-synth-build"

    @property
    def pr_comment_build_role(self) -> str:
        return f"{self.prefix}-pr-comment-build"

    @property
    def pr_plan_build_role(self) -> str:
        return f"{self.prefix}-pr-plan-build"

    def pr_plan_build_role_arn(self) -> str:
        """The role pull-request plans run as: it may assume only the read-only plan roles."""
        return self.role_arn(self.devops_account_id, self.pr_plan_build_role)

    def devops_role_arn(self, role_name: str) -> str:
        return self.role_arn(self.devops_account_id, role_name)

    def build_role(self, step: str, environment: str | None = None) -> str:
        """The role of the build ``step`` (``provisioner.delivery.steps``): ``<prefix>-<step>-build[-<env>]``."""
        return f"{self.prefix}-{step}-build" if environment is None else f"{self.prefix}-{step}-build-{environment}"

    def build_project(self, step: str, environment: str | None = None) -> str:
        return f"{self.prefix}-{step}" if environment is None else f"{self.prefix}-{step}-{environment}"

    def build_project_arn(self, project_name: str) -> str:
        """ARN of a CodeBuild project in the DevOps account (``project_name`` may be an ``ArnLike`` pattern)."""
        return self.devops_arn("codebuild", f"project/{project_name}")

    def build_log_streams_arn(self, project_name: str) -> str:
        """The log streams of a CodeBuild project's default log group."""
        return self.devops_arn("logs", f"log-group:/aws/codebuild/{project_name}:*")

    def build_report_groups_arn(self, project_name: str) -> str:
        """The test-report groups CodeBuild names after a project (``<project>-<report>``)."""
        return self.devops_arn("codebuild", f"report-group/{project_name}-*")

    def codecommit_repository_arn(self, repository: str) -> str:
        return self.devops_arn("codecommit", repository)

    def connection_arn(self, connection_id: str) -> str:
        """A CodeStar connection of the DevOps account (the codestar-connections form)."""
        return self.devops_arn("codestar-connections", f"connection/{connection_id}")

    def kms_key_arn(self, key_id: str) -> str:
        return self.devops_arn("kms", f"key/{key_id}")

    def secret_arn(self, secret_name: str) -> str:
        """A Secrets Manager secret of the DevOps account; its ARN ends with a random 6-character suffix."""
        return self.devops_arn("secretsmanager", f"secret:{secret_name}-??????")

    def bucket_arn(self, bucket: str, key: str | None = None) -> str:
        """An S3 bucket, or with ``key`` an object (or object pattern) in it."""
        return arn(self.partition, "s3", "", "", bucket if key is None else f"{bucket}/{key}")

    def aws_managed_policy_arn(self, policy_name: str) -> str:
        return aws_managed_policy_arn(self.partition, policy_name)

    @property
    def state_bucket_arn(self) -> str:
        return self.bucket_arn(self.state_bucket)

    @property
    def artifact_bucket_arn(self) -> str:
        return self.bucket_arn(self.artifact_bucket)

    @property
    def pr_artifact_bucket_arn(self) -> str:
        return self.bucket_arn(self.pr_artifact_bucket)

    @property
    def pipeline_arn(self) -> str:
        return self.devops_arn("codepipeline", self.pipeline)

    @property
    def pr_pipeline_arn(self) -> str:
        return self.devops_arn("codepipeline", self.pr_pipeline)

    @property
    def drift_pipeline_arn(self) -> str:
        return self.devops_arn("codepipeline", self.drift_pipeline)

    @property
    def notifications_topic_arn(self) -> str:
        return self.devops_arn("sns", self.notifications_topic)

    @property
    def notifications_topic(self) -> str:
        return f"{self.prefix}-delivery-events"

    # --- workload accounts --------------------------------------------------------------------
    def default_deployment_role(self, environment: str) -> str:
        return f"{self.prefix}-deploy-{environment}"

    def plan_role(self, environment: str) -> str:
        """Read-only role in the workload account for plans of unreviewed code (pull requests)."""
        return f"{self.prefix}-plan-{environment}"

    # --- stacks ------------------------------------------------------------------------------
    @staticmethod
    def state_key(stack: str) -> str:
        return f"stacks/{stack}/terraform.tfstate"

    @staticmethod
    def state_lock_key(stack: str) -> str:
        """The lock object terraform's S3 backend writes beside the state (``use_lockfile``)."""
        return f"{Naming.state_key(stack)}.tflock"

    # --- ARNs --------------------------------------------------------------------------------
    def role_arn(self, account_id: str, role_name: str) -> str:
        """A role of any account of this installation (every account is in the DevOps region's partition)."""
        return arn(self.partition, "iam", "", account_id, f"role/{role_name}")

    def account_root_arn(self, account_id: str) -> str:
        return arn(self.partition, "iam", "", account_id, "root")


DEVOPS_STACK = "devops"

WORKLOAD_ROLE_VARIABLE = "workload_role_arn"
"""The workload stacks' ephemeral variable naming the role terraform assumes in the workload account.

Ephemeral variables are not stored in a saved plan, so the plan build passes the read-only plan role
and the apply build the deployment role for the same saved plan (``TF_VAR_workload_role_arn``)."""


def bootstrap_stack(environment: str) -> str:
    return f"bootstrap-{environment}"


WORKLOAD_STACK_PREFIX = "workload-"


def workload_stack(environment: str) -> str:
    return f"{WORKLOAD_STACK_PREFIX}{environment}"


def aws_managed_policy_arn(partition: str, policy_name: str) -> str:
    """A policy AWS manages (``ReadOnlyAccess``, ``PowerUserAccess``), as ``partition`` names it."""
    return arn(partition, "iam", "", "aws", f"policy/{policy_name}")


def standard_tags(prefix: str, environment: str, extra: dict[str, str]) -> dict[str, str]:
    """Tags on every resource (provider ``default_tags``); config tags win over the defaults."""
    return {"ManagedBy": "pipeline-provisioner", "Project": prefix, "Environment": environment, **extra}
