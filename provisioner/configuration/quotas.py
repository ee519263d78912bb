"""The AWS quotas a configuration must fit, measured before anything is synthesized.

AWS counts an IAM policy document without whitespace; the product writes its documents that way, and
measures them from the same specs the stacks are built from (``provisioner.app.access``), with ARNs only
AWS knows (KMS key ids) replaced by stand-ins of the same length. A configuration that would exceed a
quota is bad input: ``provisioner check`` (and every synth) reports it, naming the quota, instead of
``terraform apply`` failing half-way through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from modules import policy
from modules.pipeline_blueprint import BuildAction
from provisioner.app import access
from provisioner.delivery import buildspecs
from provisioner.delivery.pipeline import delivery_stages, stage_name
from provisioner.delivery.steps import pull_request_steps, release_steps

if TYPE_CHECKING:
    from provisioner.configuration.settings import ProjectConfig


@dataclass(frozen=True)
class Quota:
    name: str
    limit: int
    hint: str
    """What to change when it is exceeded."""


TRUST_POLICY = Quota(
    "IAM role trust policy", 2048,
    "trust fewer roles (extra_trusted_role_arns, plan_trusted_role_arns) or ask AWS to raise the quota to at most 4,096",
)  # fmt: skip
INLINE_POLICIES = Quota("IAM inline policies per role", 10240, "plan fewer environments in one installation")
MANAGED_POLICIES_PER_ROLE = Quota(
    "IAM managed policies per role", 10, "combine policies into fewer managed policies, or ask AWS to raise the quota (to 20 at most)"
)
ROLE_NAME = Quota("IAM role name", 64, "use a shorter name_prefix, environment name or step name")
PIPELINE_STAGES = Quota("CodePipeline stages per pipeline", 50, "give environments fewer distinct orders (equal orders share a stage)")
ACTIONS_PER_STAGE = Quota("CodePipeline actions per stage", 50, "give some of these environments another order")
ACTION_CONFIGURATION = Quota("CodePipeline action configuration value", 1000, "use shorter names")
BUILDSPEC = Quota("CodeBuild inline buildspec", buildspecs.MAX_BUILDSPEC_CHARS, "plan fewer environments in one installation")
"""Not in CodeBuild's documented quotas, but CreateProject refuses a longer inline buildspec."""
QUOTAS = (TRUST_POLICY, INLINE_POLICIES, MANAGED_POLICIES_PER_ROLE, ROLE_NAME, PIPELINE_STAGES, ACTIONS_PER_STAGE, ACTION_CONFIGURATION, BUILDSPEC)
"""Every quota measured, in the order docs/configuration-rules.md lists them."""


@dataclass(frozen=True)
class Measure:
    """One measured thing: what, which quota, its size, and the environment it belongs to (None: devops.hcl)."""

    what: str
    quota: Quota
    size: int
    environment: str | None = None
    field: str | None = None
    """The field of the environment's file that sets the size, when one does."""

    @property
    def exceeded(self) -> bool:
        return self.size > self.quota.limit

    def problem(self) -> str:
        unit = "" if self.quota in (MANAGED_POLICIES_PER_ROLE, PIPELINE_STAGES, ACTIONS_PER_STAGE) else " characters"
        return (
            f"{self.what} would be {self.size:,}{unit}, over the {self.quota.name} quota of "
            f"{self.quota.limit:,}{unit}: {self.quota.hint}"
        )


def measures(project: ProjectConfig) -> Iterator[Measure]:
    """Every quota-bound size of what the configuration declares."""
    resources = access.placeholders(project)
    for spec in access.devops_roles(project, resources):
        inline = [policy.document(spec.statements), *([policy.document(spec.deny_statements)] if spec.deny_statements else [])]
        yield from _role(spec, spec.environment, inline, len(spec.managed_policy_arns))
    for env in project.environments:
        for spec in access.environment_roles(project, env):
            inline = [policy.document(spec.deny_statements)] if spec.deny_statements else []
            yield from _role(spec, env.name, inline, len(spec.managed_policy_arns))
    yield from _pipeline(project, resources)
    yield from _buildspecs(project)


def problems(project: ProjectConfig) -> list[tuple[str | None, str | None, str]]:
    """(environment or None for devops.hcl, field or None, one-line problem) for every quota the configuration exceeds."""
    return [(measure.environment, measure.field, measure.problem()) for measure in measures(project) if measure.exceeded]


def _role(spec: access.ServiceRoleSpec | access.WorkloadRoleSpec, environment: str | None, inline: list[str], managed: int) -> Iterator[Measure]:
    where = f"role {spec.name} (account {spec.account_id})"
    yield Measure(f"{where}: its name", ROLE_NAME, len(spec.name), environment)
    yield Measure(f"{where}: its trust policy", TRUST_POLICY, len(policy.document([spec.trust()])), environment)
    yield Measure(f"{where}: its inline policies", INLINE_POLICIES, sum(len(document) for document in inline), environment)
    # Only the deployment role's policies are the user's to choose (managed_policy_arns).
    field = "deployment_role.managed_policy_arns" if isinstance(spec, access.WorkloadRoleSpec) and spec.id == "deployment-role" else None
    yield Measure(f"{where}: its managed policies", MANAGED_POLICIES_PER_ROLE, managed, environment, field)


def _pipeline(project: ProjectConfig, resources: access.Resources) -> Iterator[Measure]:
    naming = project.naming
    stages = delivery_stages(project, resources.source, naming.notifications_topic_arn)
    yield Measure(f"pipeline {naming.pipeline}: its stages (Source and {len(stages)} more)", PIPELINE_STAGES, 1 + len(stages))
    waves = {stage_name(wave): wave for wave in project.waves()}
    for stage in stages:
        wave = waves.get(stage.name, ())
        owner = wave[0].name if wave else None
        who = f" (environments {', '.join(env.name for env in wave)})" if len(wave) > 1 else ""
        yield Measure(f"pipeline stage {stage.name}{who}: its actions", ACTIONS_PER_STAGE, len(stage.actions), owner)
        for action in stage.actions:
            for key, value in _configuration(action).items():
                yield Measure(f"pipeline action {action.name}: its {key}", ACTION_CONFIGURATION, len(value), owner)


def _configuration(action: object) -> dict[str, str]:
    """The configuration values of ``action`` that grow with names (CodePipeline counts each one)."""
    if isinstance(action, BuildAction):
        return {"ProjectName": action.project_name}
    return {"CustomData": action.message, "ExternalEntityLink": action.review_url or ""}  # type: ignore[attr-defined]


def _buildspecs(project: ProjectConfig) -> Iterator[Measure]:
    """Every step's buildspec: the pull-request plan's grows with the environments, a team step's with its commands."""
    naming = project.naming
    steps = release_steps(project)
    if access.plans_pull_requests(project):
        steps += pull_request_steps(project, comment=access.comments_on_pull_requests(project))
    for step in steps:
        yield Measure(f"CodeBuild project {step.project_name(naming)}: its buildspec", BUILDSPEC, len(step.buildspec), step.environment)
