"""The one place where the product derives AWS names, ARNs and tags.

Every stack and the config validator use these functions, so a name checked at load time is exactly
the name that is synthesized, and stacks in different accounts agree on ARNs of resources they
cannot reference directly (a workload account's trust policy names the DevOps build role by ARN).
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION = "aws"


@dataclass(frozen=True)
class Naming:
    """Names for one product installation: ``<prefix>-<what>[-<environment>]``."""

    prefix: str
    devops_account_id: str
    devops_region: str

    # --- DevOps account -----------------------------------------------------------------------
    @property
    def state_bucket(self) -> str:
        return f"{self.prefix}-tfstate-{self.devops_account_id}-{self.devops_region}"

    @property
    def state_key_alias(self) -> str:
        return f"alias/{self.prefix}-tfstate"

    @property
    def state_key_alias_arn(self) -> str:
        return f"arn:{PARTITION}:kms:{self.devops_region}:{self.devops_account_id}:{self.state_key_alias}"

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
        return f"arn:{PARTITION}:codebuild:{self.devops_region}:{self.devops_account_id}:project/{project_name}"

    @property
    def state_bucket_arn(self) -> str:
        return f"arn:{PARTITION}:s3:::{self.state_bucket}"

    @property
    def artifact_bucket_arn(self) -> str:
        return f"arn:{PARTITION}:s3:::{self.artifact_bucket}"

    @property
    def pr_artifact_bucket_arn(self) -> str:
        return f"arn:{PARTITION}:s3:::{self.pr_artifact_bucket}"

    @property
    def pipeline_arn(self) -> str:
        return f"arn:{PARTITION}:codepipeline:{self.devops_region}:{self.devops_account_id}:{self.pipeline}"

    @property
    def pr_pipeline_arn(self) -> str:
        return f"arn:{PARTITION}:codepipeline:{self.devops_region}:{self.devops_account_id}:{self.pr_pipeline}"

    @property
    def notifications_topic_arn(self) -> str:
        return f"arn:{PARTITION}:sns:{self.devops_region}:{self.devops_account_id}:{self.notifications_topic}"

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
    @staticmethod
    def role_arn(account_id: str, role_name: str) -> str:
        return f"arn:{PARTITION}:iam::{account_id}:role/{role_name}"

    @staticmethod
    def account_root_arn(account_id: str) -> str:
        return f"arn:{PARTITION}:iam::{account_id}:root"


DEVOPS_STACK = "devops"

WORKLOAD_ROLE_VARIABLE = "workload_role_arn"
"""The workload stacks' ephemeral variable naming the role terraform assumes in the workload account.

Ephemeral variables are not stored in a saved plan, so the plan build passes the read-only plan role
and the apply build the deployment role for the same saved plan (``TF_VAR_workload_role_arn``)."""


def bootstrap_stack(environment: str) -> str:
    return f"bootstrap-{environment}"


def workload_stack(environment: str) -> str:
    return f"workload-{environment}"


def standard_tags(prefix: str, environment: str, extra: dict[str, str]) -> dict[str, str]:
    """Tags on every resource (provider ``default_tags``); config tags win over the defaults."""
    return {"ManagedBy": "pipeline-provisioner", "Project": prefix, "Environment": environment, **extra}
