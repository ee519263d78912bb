"""Drift detection: plan every synthesized workload stack read-only and report the ones that would change.

A workload stack drifts when something changed it outside terraform (a console edit), or when its
configuration and its state disagree (a change merged but never released). Either way a plan of the
released configuration would change something: terraform's ``-detailed-exitcode`` says so (exit 2).

Each plan runs through the stack's read-only plan role (the default of its ``workload_role_arn``
variable), never takes the state lock and is never applied. The same code runs from a laptop
(``provisioner drift``) and in the drift pipeline's build, on its schedule; both can publish one
message per drifted environment to the pipeline's SNS topic. Standard library only (boto3 when
publishing): the build runs it from the released checkout.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from provisioner.configuration.naming import WORKLOAD_STACK_PREFIX
from provisioner.delivery import terraform
from provisioner.errors import UserError
from provisioner.progress import Progress, StepFailed, at_a_time

SUBJECT = "Drift in {environment}"
MESSAGE = "DRIFT: environment {environment} ({stack}) differs from its released configuration. {headline} Plan: {link}"
FAILED_MESSAGE = "DRIFT RUN FAILED: environment {environment} ({stack}) could not be planned: {error}. Log: {link}"


@dataclass(frozen=True)
class Finding:
    """What the drift run found for one workload stack."""

    stack: str
    drifted: bool
    headline: str
    """The plan summary's verdict line; the error when the plan failed."""
    failed: bool = False

    @property
    def environment(self) -> str:
        return self.stack.removeprefix(WORKLOAD_STACK_PREFIX)

    def message(self, link: str) -> tuple[str, str]:
        """The notification's subject and text (never a value from the plan: only its counts)."""
        subject = SUBJECT.format(environment=self.environment)
        if self.failed:
            return subject, FAILED_MESSAGE.format(environment=self.environment, stack=self.stack, error=self.headline, link=link)
        return subject, MESSAGE.format(environment=self.environment, stack=self.stack, headline=self.headline, link=link)


def workload_stacks(outdir: Path, environments: list[str] | None = None) -> list[str]:
    """The synthesized workload stacks in ``outdir`` (those of ``environments`` when given), by name."""
    found = sorted(path.parent.name for path in (outdir / "stacks").glob(f"{WORKLOAD_STACK_PREFIX}*/cdk.tf.json"))
    if environments:
        wanted = {f"{WORKLOAD_STACK_PREFIX}{name}" for name in environments}
        missing = sorted(wanted - set(found))
        if missing:
            raise UserError(f"{outdir}: no synthesized stack {', '.join(missing)} (synthesize first, or check --environment)")
        found = [stack for stack in found if stack in wanted]
    if not found:
        raise UserError(f"{outdir}: holds no synthesized workload stack; synthesize first (`provisioner synth`)")
    return found


def detect(outdir: Path, stacks: list[str], progress: Progress, env: dict[str, str], jobs: int = 1) -> list[Finding]:
    """Plan each stack read-only, ``jobs`` side by side; a stack whose plan fails is a failed finding, and the
    others still run."""
    planned = at_a_time(len(stacks), jobs, "workload stack")
    with progress.step(f"plan {planned} read-only, through their plan roles, without the state lock"):
        return progress.side_by_side(lambda stack: _detect(outdir, stack, progress, env), stacks, jobs)


def _detect(outdir: Path, stack: str, progress: Progress, env: dict[str, str]) -> Finding:
    from provisioner.plan_review import summary

    stack_dir = outdir / "stacks" / stack
    started = time.monotonic()
    try:
        progress.run(f"{stack} init", terraform.INIT, cwd=stack_dir, env=env, label=stack)
        planned = progress.run(f"{stack} plan", terraform.PLAN_DRIFT, cwd=stack_dir, env=env, accept=(0, terraform.DRIFT_EXIT_CODE), label=stack)
        plan_json = stack_dir / terraform.PLAN_JSON
        progress.run(f"{stack} show", terraform.SHOW_PLAN, cwd=stack_dir, env=env, stdout_path=plan_json, label=stack)
    except StepFailed as failed:
        progress.say(f"    {stack}: FAILED after {time.monotonic() - started:.1f} s")
        return Finding(stack, drifted=False, headline=str(failed), failed=True)
    try:
        headline = summary.verdict(summary.load_plan(plan_json, stack))
    finally:
        plan_json.unlink()  # it repeats variable values in clear text
    drifted = planned.returncode == terraform.DRIFT_EXIT_CODE
    progress.say(f"    {'DRIFTED' if drifted else 'no drift'}: {headline} ({time.monotonic() - started:.1f} s)")
    return Finding(stack, drifted=drifted, headline=headline)


def publisher(topic_arn: str, client_factory: Callable[[str, str], object]) -> Callable[[str, str], None]:
    """Publishes one message to ``topic_arn`` (``client_factory(service, region)`` gives the SNS client)."""
    region = topic_arn.split(":")[3]
    sns = client_factory("sns", region)

    def publish(subject: str, message: str) -> None:
        sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)

    return publish


def report(findings: list[Finding], link: str, publish: Callable[[str, str], None] | None) -> list[str]:
    """One line per finding; with ``publish``, one message per drifted or failed environment."""
    lines = []
    for finding in findings:
        state = "FAILED" if finding.failed else ("DRIFTED" if finding.drifted else "no drift")
        lines.append(f"{finding.environment}: {state}: {finding.headline.splitlines()[0]}")
        if publish is not None and (finding.drifted or finding.failed):
            publish(*finding.message(link))
    return lines


def summary_json(findings: list[Finding]) -> str:
    return json.dumps(
        [{"environment": f.environment, "stack": f.stack, "drifted": f.drifted, "failed": f.failed, "headline": f.headline} for f in findings],
        indent=2,
    )
