"""``workload-<env>``: the environment's own infrastructure, deployed through its deployment role."""

from __future__ import annotations

from modules.framework import Construct, TerraformStack, TerraformVariable
from provisioner.config import EnvironmentConfig, ProjectConfig
from provisioner.naming import standard_tags
from provisioner.stacks.common import Target, aws_provider, use_remote_state
from provisioner.workload import define_workload


ROLE_VARIABLE = "deployment_role_arn"


class WorkloadStack(TerraformStack):
    """Declares ``provisioner.workload.define_workload`` in the environment's account."""

    def __init__(self, scope: Construct, project: ProjectConfig, environment: EnvironmentConfig, target: Target) -> None:
        super().__init__(scope, environment.workload_stack)
        use_remote_state(self, project, environment.workload_stack, target)
        role = TerraformVariable(
            self,
            ROLE_VARIABLE,
            type="string",
            default=project.deployment_role_arn(environment),
            description=(
                "Role terraform assumes in the workload account. Releases use the deployment role (the default); "
                "plans of unreviewed code (pull requests, `make plan`) pass the read-only plan role."
            ),
        )
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
        define_workload(self, project, environment)
