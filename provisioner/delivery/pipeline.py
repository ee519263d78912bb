"""The delivery pipelines' shape, from the steps: which stages, and which actions in which order.

Pure data (``modules.pipeline_blueprint``); the devops stack turns it into resources.

    Source -> Synth -> UpdatePipeline (Plan-devops) -> UpdatePipeline-apply (Approve-devops, Apply-devops;
    skipped when the devops stack does not change) -> one stage per ``order`` (ascending), each holding,
    per environment:
        Plan-<env> (run order 1) -> Approve-<env> (2, when required) -> the team's before-apply steps
        -> Apply-<env> -> the team's after-apply steps

Environments with the same ``order`` share a stage, so their actions run in parallel.
"""

from __future__ import annotations

from modules.pipeline_blueprint import ApprovalAction, Source, Stage, source_revision
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig
from provisioner.delivery import buildspecs
from provisioner.delivery.steps import (
    DEVOPS_PLAN_NAMESPACE, drift_steps, environment_steps, plan_namespace, pull_request_steps, self_update_steps, synth_step,
)  # fmt: skip


def stage_name(wave: tuple[EnvironmentConfig, ...]) -> str:
    if len(wave) == 1:
        return f"Deploy-{wave[0].name}"
    return f"Deploy-order-{wave[0].order}"


def synth_stage(project: ProjectConfig) -> Stage:
    """Check, synthesize and run the policy gate; the repository with cdktf.out/ becomes ``synth``."""
    return Stage(name="Synth", actions=[synth_step().action(project.naming)])


def self_update_stages(project: ProjectConfig, source: Source, notification_topic_arn: str) -> list[Stage]:
    """Plan the devops stack; only when it changes, an approval (always: it changes who can reach
    production) and its apply, which restarts the release on the new definition. Otherwise the second
    stage is skipped: no approval, no wait."""
    steps = self_update_steps(project)
    if not steps:
        return []
    plan, apply = steps
    approval = ApprovalAction(
        name="Approve-devops",
        run_order=1,
        notification_topic_arn=notification_topic_arn,
        message=(
            f"The pipeline itself changes at revision {source_revision(source)}: #{{{DEVOPS_PLAN_NAMESPACE}.PLAN_HEADLINE}} "
            "Its roles decide who can reach production: read the plan summary (link) before approving."
        ),
        review_url=f"#{{{DEVOPS_PLAN_NAMESPACE}.PLAN_BUILD_URL}}",
    )
    changed = (f"#{{{DEVOPS_PLAN_NAMESPACE}.{buildspecs.DEVOPS_CHANGED}}}", "true")
    return [
        Stage(name="UpdatePipeline", actions=[plan.action(project.naming)]),
        Stage(name="UpdatePipeline-apply", actions=[approval, apply.action(project.naming)], retry_failed_actions=False, enter_when=changed),
    ]


def delivery_stages(project: ProjectConfig, source: Source, notification_topic_arn: str) -> list[Stage]:
    """Every stage after Source, in order."""
    stages = [synth_stage(project), *self_update_stages(project, source, notification_topic_arn)]
    for wave in project.waves():
        actions: list = []
        for env in wave:
            actions.extend(environment_actions(project, env, source, notification_topic_arn))
        # A rejected approval is a failed action: retrying it automatically would ask again, so stages
        # with an approval leave retries to a person.
        stages.append(Stage(name=stage_name(wave), actions=actions, retry_failed_actions=not any(e.requires_approval for e in wave)))
    return stages


def environment_actions(project: ProjectConfig, env: EnvironmentConfig, source: Source, notification_topic_arn: str) -> list:
    """The environment's steps as actions, with the approval (run order 2) after its plan when required."""
    actions: list = [step.action(project.naming) for step in environment_steps(project, env)]
    if env.requires_approval:
        namespace = plan_namespace(env)
        approval = ApprovalAction(
            name=f"Approve-{env.name}",
            run_order=2,
            notification_topic_arn=notification_topic_arn,
            message=(
                f"{env.workload_stack} at revision {source_revision(source)}: #{{{namespace}.PLAN_HEADLINE}} "
                "Read the plan summary (link) before approving; Apply applies exactly that saved plan."
            ),
            review_url=f"#{{{namespace}.PLAN_BUILD_URL}}",
        )
        actions.insert(1, approval)
    return actions


def pull_request_stages(project: ProjectConfig, *, comment: bool) -> list[Stage]:
    """The pull-request pipeline: synth and policy gate, one read-only plan of every workload stack,
    then (``comment``) the summary posted on the pull request by a build that runs no pull-request code.

    Every build here has its own project and role, kept away from the release pipeline's artifacts.
    """
    synth, plan, *post = pull_request_steps(project, comment=comment)
    stages = [Stage(name="Synth", actions=[synth.action(project.naming)]), Stage(name="Plan", actions=[plan.action(project.naming)])]
    if post:
        stages.append(Stage(name="Comment", actions=[post[0].action(project.naming)]))
    return stages


def drift_stages(project: ProjectConfig) -> list[Stage]:
    """The drift pipeline, on its schedule: the release's own Synth build, then the read-only plans."""
    synth, detect = drift_steps(project)
    return [Stage(name="Synth", actions=[synth.action(project.naming)]), Stage(name="Drift", actions=[detect.action(project.naming)])]
