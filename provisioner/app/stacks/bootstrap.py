"""``bootstrap-<env>``: what an admin of a workload account applies once, like ``cdk bootstrap``."""

from __future__ import annotations

from modules.deploy_role import DeployRole, DeployRoleProps
from modules.framework import Construct, TerraformOutput, TerraformStack
from provisioner.app import access
from provisioner.app.stacks.common import Target, aws_provider, use_remote_state
from provisioner.configuration.naming import standard_tags
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig


class BootstrapStack(TerraformStack):
    """The deployment role the pipeline's apply build assumes in ``environment``'s account, and the
    read-only plan role its plans assume.

    Applied by an admin with two sets of credentials (``bootstrap {}`` in environment.hcl): the
    provider's act in the workload account, the backend's in the DevOps account (the state bucket).
    """

    def __init__(self, scope: Construct, project: ProjectConfig, environment: EnvironmentConfig, target: Target) -> None:
        super().__init__(scope, environment.bootstrap_stack)
        bootstrap = environment.bootstrap
        use_remote_state(
            self, project, environment.bootstrap_stack, target, profile=bootstrap.state_profile, assume_role_arn=bootstrap.state_role_arn
        )
        aws_provider(
            self,
            account_id=environment.account_id,
            region=environment.region,
            tags=standard_tags(project.devops.name_prefix, environment.name, dict(environment.tags)),
            target=target,
            assume_role_arn=bootstrap.role_arn,
            session_name=f"bootstrap-{environment.name}",
            profile=bootstrap.profile,
        )
        deployment, plan = access.environment_roles(project, environment)
        self.deploy_role = DeployRole(self, deployment.id, deploy_role_props(deployment))
        self.plan_role = DeployRole(self, plan.id, deploy_role_props(plan))
        TerraformOutput(self, "deployment_role_arn", value=self.deploy_role.role_arn)
        TerraformOutput(self, "plan_role_arn", value=self.plan_role.role_arn)


def deploy_role_props(spec: access.WorkloadRoleSpec) -> DeployRoleProps:
    return DeployRoleProps(
        role_name=spec.name,
        trusted_role_arns=spec.trusted_role_arns,
        managed_policy_arns=spec.managed_policy_arns,
        permissions_boundary_arn=spec.permissions_boundary_arn,
        max_session_duration=spec.max_session_duration,
        external_id=spec.external_id,
        description=spec.description,
        deny_statements=spec.deny_statements,
    )
