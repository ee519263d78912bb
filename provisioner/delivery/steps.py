"""A pipeline step is one object: its action, the CodeBuild project and buildspec it runs, and its identity.

CDK Pipelines' ``CodeBuildStep`` is the model. ``BuildStep`` says everything about one build:

- its name: ``kind`` (``synth``, ``devops-plan``, ``devops-apply``, ``plan``, ``apply``, ``pr-synth``, ``pr-plan``,
  ``pr-comment``, ``drift``, or ``team``
  for a team's own step), its environment, the pipeline action's name and run order;
- what it runs: ``spec``, the buildspec (``provisioner.delivery.buildspecs``), whose terraform commands
  come from ``provisioner.delivery.terraform``;
- who it runs as: ``role_id``, the construct id of its role; ``provisioner.app.access.build_role`` gives
  that role's trust and statements for the step;
- its inputs and outputs (artifact names), and the variables namespace it exports.

The devops stack makes one CodeBuild project and one role per step, the pipelines place the steps'
actions (``provisioner.delivery.pipeline``), and ``make demo`` runs the plan and apply steps' commands.
A team adds steps around an environment's apply in its own ``environment.hcl`` (``step "<name>" {}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.pipeline_blueprint import SOURCE_ARTIFACT, BuildAction
from provisioner.configuration.naming import DEVOPS_STACK
from provisioner.delivery import buildspecs

if TYPE_CHECKING:
    from provisioner.configuration.naming import Naming
    from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig, StepConfig

SYNTH_ARTIFACT = "synth"
PR_PLAN_ARTIFACT = "pr_plan"
TEAM_STEP_PREFIX = "step-"
"""Team steps' projects are ``<prefix>-step-<name>-<env>``: apart from the product's own names."""


@dataclass(frozen=True)
class BuildStep:
    """One CodeBuild step of a pipeline."""

    kind: str
    """What the step is: synth, plan, apply, pr-synth, pr-plan, pr-comment, drift, or team (a team's own step)."""
    key: str
    """The project's name part: ``kind``, or ``step-<name>`` for a team step."""
    environment: str | None
    """The environment the step belongs to (None: the whole project)."""
    action_name: str
    role_id: str
    """Construct id of the role it runs as; ``provisioner.app.access.build_role`` declares the role."""
    spec: buildspecs.BuildSpec
    description: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    run_order: int = 1
    namespace: str | None = None
    cache: bool = False
    """Keep a CodeBuild cache (what the step downloads: packages, terraform, providers) between its builds,
    under its own prefix (``BuildStep.cache_prefix``) that only its role may write."""
    timeout_minutes: int | None = None
    """None: the ``build { timeout_minutes }`` of devops.hcl."""
    environment_variables: tuple[tuple[str, str], ...] = ()
    """Set by the pipeline action (pipeline variables such as ``#{codepipeline.PipelineExecutionId}``)."""

    @property
    def construct_id(self) -> str:
        return f"build-{self.key}" if self.environment is None else f"build-{self.key}-{self.environment}"

    def project_name(self, naming: Naming) -> str:
        return naming.build_project(self.key, self.environment)

    def cache_prefix(self, naming: Naming) -> str:
        """Where in the artifact bucket its cache lives: one prefix per project, so no build reads what another left."""
        return f"build-cache/{self.project_name(naming)}"

    @property
    def buildspec(self) -> str:
        return buildspecs.render(self.spec)

    def action(self, naming: Naming) -> BuildAction:
        return BuildAction(
            name=self.action_name,
            project_name=self.project_name(naming),
            inputs=list(self.inputs),
            outputs=list(self.outputs),
            run_order=self.run_order,
            namespace=self.namespace,
            environment=dict(self.environment_variables),
        )


_KIND_OF_KEY = {
    "synth": "synth", "devops-plan": "devops-plan", "devops-apply": "devops-apply", "drift-plan": "drift",
    "pr-synth": "pr-synth", "pr-plan": "pr-plan", "pr-comment": "pr-comment",
}  # fmt: skip
"""The steps of the whole project: their ``key`` and ``kind``."""
_KIND_OF_ENVIRONMENT_KEY = {"plan": "plan", "apply": "apply", TEAM_STEP_PREFIX.rstrip("-"): "team"}
"""The first word of the steps of one environment (``<key>-<environment>``, a team step ``step-<name>-<environment>``)."""


def kind_of_construct_id(construct_id: str) -> str | None:
    """The ``kind`` of the step whose project has ``construct_id`` (``BuildStep.construct_id``, which the
    synthesized project carries in its metadata); None for a project no step makes."""
    key = construct_id.removeprefix("build-")
    if key == construct_id:
        return None
    if key in _KIND_OF_KEY:
        return _KIND_OF_KEY[key]
    first, _, rest = key.partition("-")
    return _KIND_OF_ENVIRONMENT_KEY.get(first) if rest else None


def plan_artifact(environment: EnvironmentConfig) -> str:
    return f"plan_{environment.name.replace('-', '_')}"


def plan_namespace(environment: EnvironmentConfig) -> str:
    return f"Plan-{environment.name}"


def synth_step() -> BuildStep:
    return BuildStep(
        kind="synth", key="synth", environment=None, action_name="Synth", role_id="synth-build-role",
        spec=buildspecs.synth_spec(buildspecs.POLICY_GATE_COMMAND), description="Synthesizes every stack and runs the policy gate",
        inputs=(SOURCE_ARTIFACT,), outputs=(SYNTH_ARTIFACT,), cache=True,
    )  # fmt: skip


DEVOPS_PLAN_ARTIFACT = "devops_plan"
DEVOPS_PLAN_NAMESPACE = "Plan-devops"


def self_update_steps(project: ProjectConfig) -> list[BuildStep]:
    """The devops stack's own plan and apply in the release (none when ``self_update = false``)."""
    if not project.devops.self_update:
        return []
    naming = project.naming
    revision_type = "S3_OBJECT_VERSION_ID" if project.devops.source.type == "s3" else "COMMIT_ID"
    return [
        BuildStep(
            kind="devops-plan", key="devops-plan", environment=None, action_name="Plan-devops", role_id="devops-plan-build-role",
            spec=buildspecs.devops_plan_spec(DEVOPS_STACK),
            description="Plans the devops stack (the pipeline itself) read-only, without the lock; says whether it changes",
            inputs=(SYNTH_ARTIFACT,), outputs=(DEVOPS_PLAN_ARTIFACT,), namespace=DEVOPS_PLAN_NAMESPACE, cache=True,
        ),
        BuildStep(
            kind="devops-apply", key="devops-apply", environment=None, action_name="Apply-devops", role_id="devops-apply-build-role",
            spec=buildspecs.devops_apply_spec(DEVOPS_STACK, naming.pipeline, revision_type),
            description="Applies the reviewed plan of the devops stack (delivery resources only), then restarts the release",
            inputs=(DEVOPS_PLAN_ARTIFACT,), run_order=2, environment_variables=(("PIPELINE_EXECUTION_ID", "#{codepipeline.PipelineExecutionId}"),),
            cache=True,
        ),
    ]  # fmt: skip


def drift_step(project: ProjectConfig) -> BuildStep:
    """The drift pipeline's plan of every workload stack, read-only, reporting to the notifications topic."""
    return BuildStep(
        kind="drift", key="drift-plan", environment=None, action_name="Detect-drift", role_id="drift-build-role",
        spec=buildspecs.drift_spec(project.naming.notifications_topic_arn),
        description="Plans every workload stack through its read-only plan role and reports drift; never applies, never locks",
        inputs=(SYNTH_ARTIFACT,), cache=True,
    )  # fmt: skip


def drift_steps(project: ProjectConfig) -> list[BuildStep]:
    """The drift pipeline's builds (none when ``drift_schedule`` is off): the release's Synth, then the plans."""
    return [synth_step(), drift_step(project)] if project.devops.drift_schedule else []


def plan_step(project: ProjectConfig, environment: EnvironmentConfig) -> BuildStep:
    stack = environment.workload_stack
    return BuildStep(
        kind="plan", key="plan", environment=environment.name, action_name=f"Plan-{environment.name}",
        role_id=f"plan-build-role-{environment.name}",
        spec=buildspecs.plan_spec(stack, project.plan_role_arn(environment), environment.deployment_role.external_id, environment.bootstrap_stack),
        description=f"Plans {stack} through its read-only plan role to a saved plan file and summarizes it",
        inputs=(SYNTH_ARTIFACT,), outputs=(plan_artifact(environment),), run_order=1, namespace=plan_namespace(environment), cache=True,
    )  # fmt: skip


def apply_step(project: ProjectConfig, environment: EnvironmentConfig, run_order: int) -> BuildStep:
    stack = environment.workload_stack
    return BuildStep(
        kind="apply", key="apply", environment=environment.name, action_name=f"Apply-{environment.name}",
        role_id=f"apply-build-role-{environment.name}", spec=buildspecs.apply_spec(stack, project.deployment_role_arn(environment)),
        description=f"Applies the reviewed saved plan of {stack} through its deployment role",
        inputs=(plan_artifact(environment),), run_order=run_order, cache=True,
    )  # fmt: skip


def team_step(project: ProjectConfig, environment: EnvironmentConfig, step: StepConfig, run_order: int) -> BuildStep:
    """A team's own step: its commands in a checkout of the release, read-only in the workload account."""
    return BuildStep(
        kind="team", key=f"{TEAM_STEP_PREFIX}{step.name}", environment=environment.name,
        action_name=f"{step.name}-{environment.name}", role_id=f"step-role-{environment.name}-{step.name}",
        spec=buildspecs.team_spec(
            environment.name, environment.workload_stack, environment.region, project.plan_role_arn(environment),
            environment.deployment_role.external_id, step.commands,
        ),
        description=f"{environment.name}: the team's step {step.name} ({step.when}); reads the workload account through the plan role",
        inputs=(SYNTH_ARTIFACT,), run_order=run_order, timeout_minutes=step.timeout_minutes,
    )  # fmt: skip


def environment_steps(project: ProjectConfig, environment: EnvironmentConfig) -> list[BuildStep]:
    """Plan (run order 1), [the approval], the team's before-apply steps, Apply, the team's after-apply steps."""
    steps = [plan_step(project, environment)]
    order = 3 if environment.requires_approval else 2
    before = [s for s in environment.steps if s.when == "before-apply"]
    after = [s for s in environment.steps if s.when == "after-apply"]
    if before:
        steps += [team_step(project, environment, s, order) for s in before]
        order += 1
    steps.append(apply_step(project, environment, order))
    steps += [team_step(project, environment, s, order + 1) for s in after]
    return steps


def steps_of(steps: list[BuildStep], when: str) -> list[BuildStep]:
    """The team's steps among ``steps`` that run ``when`` (``before-apply``, ``after-apply``) the apply."""
    apply_order = next(step.run_order for step in steps if step.kind == "apply")
    before = when == "before-apply"
    return [step for step in steps if step.kind == "team" and (step.run_order < apply_order) == before]


def release_steps(project: ProjectConfig) -> list[BuildStep]:
    """Every build of the release pipeline, in pipeline order."""
    steps = [synth_step(), *self_update_steps(project)]
    for wave in project.waves():
        for environment in wave:
            steps += environment_steps(project, environment)
    return steps


def pull_request_steps(project: ProjectConfig, *, comment: bool) -> list[BuildStep]:
    """The pull-request pipeline's builds: synth and policy gate, one read-only plan of every workload
    stack, then (``comment``) the summary posted by a build that runs no pull-request code."""
    plan_roles = {env.name: project.plan_role_arn(env) for env in project.environments}
    steps = [
        BuildStep(
            kind="pr-synth", key="pr-synth", environment=None, action_name="Synth", role_id="pr-synth-build-role",
            spec=buildspecs.synth_spec(buildspecs.POLICY_GATE_COMMAND), description="Synthesizes a pull request and runs the policy gate",
            inputs=(SOURCE_ARTIFACT,), outputs=(SYNTH_ARTIFACT,),
        ),
        BuildStep(
            kind="pr-plan", key="pr-plan", environment=None, action_name="Plan-all-environments", role_id="pr-plan-build-role",
            spec=buildspecs.pr_plan_spec(plan_roles),
            description="Plans every workload stack of a pull request through read-only roles; never applies",
            inputs=(SYNTH_ARTIFACT,), outputs=(PR_PLAN_ARTIFACT,),
        ),
    ]  # fmt: skip
    if comment:
        devops = project.devops
        steps.append(
            BuildStep(
                kind="pr-comment", key="pr-comment", environment=None, action_name="Comment", role_id="pr-comment-build-role",
                spec=buildspecs.pr_comment_spec(devops.source.repository, devops.github_token_secret or ""),
                description="Posts or updates the pull request's plan summary comment", inputs=(PR_PLAN_ARTIFACT,),
            )
        )  # fmt: skip
    return steps
