"""The delivery pipeline's shape, from the configuration: which stages, actions and artifacts.

Pure data (``modules.pipeline_blueprint``); the devops stack turns it into resources.

    Source -> Synth -> one stage per ``order`` (ascending), each holding, per environment:
        Plan-<env> (run order 1) -> Approve-<env> (2, when required) -> Apply-<env> (2, or 3 after an approval)

Environments with the same ``order`` share a stage, so their actions run in parallel.
"""

from __future__ import annotations

from modules.pipeline_blueprint import SOURCE_ARTIFACT, ApprovalAction, BuildAction, Source, Stage, source_revision
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig

SYNTH_ARTIFACT = "synth"
SYNTH_PROJECT_STEP = "synth"


def plan_artifact(environment: EnvironmentConfig) -> str:
    return f"plan_{environment.name.replace('-', '_')}"


def plan_namespace(environment: EnvironmentConfig) -> str:
    return f"Plan-{environment.name}"


def stage_name(wave: tuple[EnvironmentConfig, ...]) -> str:
    if len(wave) == 1:
        return f"Deploy-{wave[0].name}"
    return f"Deploy-order-{wave[0].order}"


def synth_stage(project: ProjectConfig) -> Stage:
    """Check, synthesize and run the policy gate; the repository with cdktf.out/ becomes ``synth``."""
    action = BuildAction(
        name="Synth",
        project_name=project.naming.build_project(SYNTH_PROJECT_STEP),
        inputs=[SOURCE_ARTIFACT],
        outputs=[SYNTH_ARTIFACT],
    )
    return Stage(name="Synth", actions=[action])


def delivery_stages(project: ProjectConfig, source: Source, notification_topic_arn: str) -> list[Stage]:
    """Every stage after Source, in order."""
    stages = [synth_stage(project)]
    for wave in project.waves():
        actions: list = []
        for env in wave:
            actions.extend(environment_actions(project, env, source, notification_topic_arn))
        # A rejected approval is a failed action: retrying it automatically would ask again, so stages
        # with an approval leave retries to a person.
        stages.append(Stage(name=stage_name(wave), actions=actions, retry_failed_actions=not any(e.requires_approval for e in wave)))
    return stages


def environment_actions(project: ProjectConfig, env: EnvironmentConfig, source: Source, notification_topic_arn: str) -> list:
    naming = project.naming
    namespace = plan_namespace(env)
    actions: list = [
        BuildAction(
            name=f"Plan-{env.name}",
            project_name=naming.build_project("plan", env.name),
            inputs=[SYNTH_ARTIFACT],
            outputs=[plan_artifact(env)],
            run_order=1,
            namespace=namespace,
        )
    ]
    apply_order = 2
    if env.requires_approval:
        actions.append(
            ApprovalAction(
                name=f"Approve-{env.name}",
                run_order=2,
                notification_topic_arn=notification_topic_arn,
                message=(
                    f"{env.workload_stack} at revision {source_revision(source)}: #{{{namespace}.PLAN_HEADLINE}}. "
                    "Read the plan summary (link) before approving; Apply applies exactly that saved plan."
                ),
                review_url=f"#{{{namespace}.PLAN_BUILD_URL}}",
            )
        )
        apply_order = 3
    actions.append(
        BuildAction(
            name=f"Apply-{env.name}",
            project_name=naming.build_project("apply", env.name),
            inputs=[plan_artifact(env)],
            run_order=apply_order,
        )
    )
    return actions


PR_SYNTH_PROJECT_STEP = "pr-synth"
PR_PLAN_PROJECT_STEP = "pr-plan"
PR_COMMENT_PROJECT_STEP = "pr-comment"
PR_PLAN_ARTIFACT = "pr_plan"


def pull_request_stages(project: ProjectConfig, *, comment: bool) -> list[Stage]:
    """The pull-request pipeline: synth and policy gate, one read-only plan of every workload stack,
    then (``comment``) the summary posted on the pull request by a build that runs no pull-request code.

    Every build here has its own project and role, kept away from the release pipeline's artifacts.
    """
    naming = project.naming
    synth = BuildAction(
        name="Synth",
        project_name=naming.build_project(PR_SYNTH_PROJECT_STEP),
        inputs=[SOURCE_ARTIFACT],
        outputs=[SYNTH_ARTIFACT],
    )
    plan = BuildAction(
        name="Plan-all-environments",
        project_name=naming.build_project(PR_PLAN_PROJECT_STEP),
        inputs=[SYNTH_ARTIFACT],
        outputs=[PR_PLAN_ARTIFACT],
    )
    stages = [Stage(name="Synth", actions=[synth]), Stage(name="Plan", actions=[plan])]
    if comment:
        post = BuildAction(name="Comment", project_name=naming.build_project(PR_COMMENT_PROJECT_STEP), inputs=[PR_PLAN_ARTIFACT])
        stages.append(Stage(name="Comment", actions=[post]))
    return stages
