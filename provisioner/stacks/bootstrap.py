"""``bootstrap-<env>``: what an admin of a workload account applies once, like ``cdk bootstrap``."""

from __future__ import annotations

from modules.deploy_role import DeployRole, DeployRoleProps
from modules.framework import Construct, TerraformOutput, TerraformStack
from provisioner.config import EnvironmentConfig, ProjectConfig
from provisioner.naming import standard_tags
from provisioner.stacks.common import Target, aws_provider, use_remote_state


READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
DATA_READ_ACTIONS = (
    "s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "dynamodb:GetItem", "dynamodb:BatchGetItem",
    "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage", "kinesis:GetRecords", "logs:GetLogEvents",
    "logs:FilterLogEvents", "athena:GetQueryResults",
)  # fmt: skip


class BootstrapStack(TerraformStack):
    """The deployment role the pipeline assumes in ``environment``'s account, and its read-only twin for plans."""

    def __init__(self, scope: Construct, project: ProjectConfig, environment: EnvironmentConfig, target: Target) -> None:
        super().__init__(scope, environment.bootstrap_stack)
        role = environment.deployment_role
        use_remote_state(self, project, environment.bootstrap_stack, target)
        aws_provider(
            self,
            account_id=environment.account_id,
            region=environment.region,
            tags=standard_tags(project.devops.name_prefix, environment.name, dict(environment.tags)),
            target=target,
            assume_role_arn=environment.effective_bootstrap_role_arn,
            session_name=f"bootstrap-{environment.name}",
        )
        self.deploy_role = DeployRole(
            self,
            "deployment-role",
            DeployRoleProps(
                role_name=role.name,
                trusted_role_arns=[project.naming.deploy_build_role_arn(), *role.extra_trusted_role_arns],
                managed_policy_arns=role.managed_policy_arns,
                permissions_boundary_arn=role.permissions_boundary_arn,
                max_session_duration=role.max_session_duration,
                external_id=role.external_id,
            ),
        )
        # Plans of code nobody has reviewed yet (pull requests) run terraform with this role instead:
        # it can read what terraform refreshes, and change nothing.
        self.plan_role = DeployRole(
            self,
            "plan-role",
            DeployRoleProps(
                role_name=project.naming.plan_role(environment.name),
                trusted_role_arns=[
                    project.naming.pr_plan_build_role_arn(), *role.extra_trusted_role_arns, *role.plan_trusted_role_arns
                ],
                managed_policy_arns=[READ_ONLY_ACCESS],
                # ReadOnlyAccess also reads data; a plan needs configuration, never object or secret contents.
                denied_actions=DATA_READ_ACTIONS,
                permissions_boundary_arn=role.permissions_boundary_arn,
                max_session_duration=role.max_session_duration,
                external_id=role.external_id,
                description="Read-only: assumed by pull-request plans of the DevOps-account pipeline; never applies",
            ),
        )
        TerraformOutput(self, "deployment_role_arn", value=self.deploy_role.role_arn)
        TerraformOutput(self, "plan_role_arn", value=self.plan_role.role_arn)
