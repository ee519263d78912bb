"""``workload-<env>``: the environment's own infrastructure, planned and applied by the pipeline."""

from __future__ import annotations

from modules.framework import Construct, TerraformStack, TerraformVariable
from provisioner.app.stacks.common import Target, aws_provider, use_remote_state
from provisioner.app.workloads import Define, environment_of
from provisioner.configuration.naming import WORKLOAD_ROLE_VARIABLE, standard_tags
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig


class WorkloadStack(TerraformStack):
    """The team's workload code (``define``, from ``workloads/workload.hcl``) in the environment's account.

    The provider assumes the role named by the ephemeral variable ``workload_role_arn``: plans pass the
    read-only plan role, the apply of the reviewed saved plan passes the deployment role. An ephemeral
    variable is not stored in the saved plan, so the two may differ; the default is the plan role, so
    a plan or apply that names no role can change nothing.
    """

    def __init__(
        self, scope: Construct, project: ProjectConfig, environment: EnvironmentConfig, target: Target, define: Define | None
    ) -> None:
        super().__init__(scope, environment.workload_stack)
        use_remote_state(self, project, environment.workload_stack, target)
        role = TerraformVariable(
            self,
            WORKLOAD_ROLE_VARIABLE,
            type="string",
            default=project.plan_role_arn(environment),
            description=(
                "Role terraform assumes in the workload account: the read-only plan role (the default) for plans, "
                "the deployment role for applying a reviewed saved plan. Ephemeral: never stored in a saved plan."
            ),
        )
        role.add_override("ephemeral", True)
        aws_provider(
            self,
            account_id=environment.account_id,
            region=environment.region,
            tags=standard_tags(project.devops.name_prefix, environment.name, dict(environment.tags)),
            target=target,
            assume_role_arn=role.string_value,
            external_id=environment.deployment_role.external_id,
            session_name=f"deploy-{environment.name}",
        )
        if define is not None:
            define(self, environment_of(project, environment))
