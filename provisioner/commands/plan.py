"""``provisioner plan``: what a pull request will show, locally: synth + plan of every workload stack + one summary."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from provisioner.configuration.naming import WORKLOAD_ROLE_VARIABLE
from provisioner.configuration.settings import EnvironmentConfig, load
from provisioner.configuration.target import target_from_environment
from provisioner.commands.options import add_jobs, selected_environments
from provisioner.errors import UserError
from provisioner.paths import CDKTF_OUT, ENVIRONMENTS_DIR, STATE_DIR
from provisioner.plan_review import summary


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="synthesize and plan every workload stack, then print one combined plan summary",
        description=(
            "Synthesize, then `terraform init -reconfigure` (the backend follows PROVISIONER_TARGET; no state is moved) + "
            "`terraform plan -out tfplan` + `terraform show -json` for each "
            "workload-<env> stack (or those given with --environment), side by side (--jobs), and print the same summary the pull-request "
            "pipeline posts. Plans assume each environment's read-only plan role (<prefix>-plan-<env>), so they need "
            "credentials for the DevOps account (to read state) listed in deployment_role.plan_trusted_role_arns. "
            "--target and --var go through to terraform plan. Never applies anything. Tool output goes to .provisioner/plan-logs/. "
            "Exit 0; 3 with --fail-on-destroy when a plan deletes or replaces; 1 when terraform fails; 2 on bad input."
        ),
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--environment", action="append", metavar="NAME", help="plan only this environment (repeatable)")
    parser.add_argument("--output", type=Path, help="also write the Markdown summary to this file")
    parser.add_argument("--outdir", type=Path, default=CDKTF_OUT, help="synthesized output folder (default: %(default)s)")
    parser.add_argument("--fail-on-destroy", action="store_true", help="exit 3 when anything would be deleted or replaced")
    parser.add_argument(
        "--target", action="append", metavar="ADDRESS", help="plan only this resource or module, as terraform plan -target (repeatable)"
    )
    parser.add_argument(
        "--var", action="append", metavar="NAME=VALUE", help="set a variable of the workload stacks, as terraform plan -var (repeatable)"
    )
    add_jobs(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: every `provisioner` command parses all sub-commands at start-up.
    from provisioner.app.synthesis import synthesize
    from provisioner.delivery import terraform
    from provisioner.progress import Progress, at_a_time, tool_environment

    project = load(args.environments)
    target = target_from_environment(os.environ)
    selected = selected_environments(project, args.environment)
    passed_through = [*(f"-target={address}" for address in _targets(args.target)), *(f"-var={value}" for value in _variables(args.var))]
    progress = Progress(STATE_DIR / "plan-logs", out=sys.stderr)
    env = tool_environment()
    with progress.step("synthesize"):
        synthesize(project, args.outdir, target)

    def plan(environment: EnvironmentConfig) -> summary.StackPlan:
        stack = environment.workload_stack
        stack_dir = args.outdir / "stacks" / stack
        role = project.plan_role_arn(environment)
        started = time.monotonic()
        # A synth for the other target (PROVISIONER_TARGET local or aws) changes the backend under the
        # .terraform/ it carries over; -reconfigure points terraform at the new one and moves no state,
        # so the emulator's and AWS's states each stay where they are.
        progress.run(f"{stack} init", (*terraform.INIT, "-reconfigure"), cwd=stack_dir, env=env, label=stack)
        # The plan role can change nothing, and a plan that writes nothing needs no state lock.
        read_only_plan = [*terraform.PLAN_WITHOUT_LOCK, f"-var={WORKLOAD_ROLE_VARIABLE}={role}", *passed_through]
        progress.run(f"{stack} plan", read_only_plan, cwd=stack_dir, env=env, label=stack)
        plan_json = stack_dir / terraform.PLAN_JSON
        progress.run(f"{stack} show", terraform.SHOW_PLAN, cwd=stack_dir, env=env, stdout_path=plan_json, label=stack)
        progress.say(f"    {stack}: planned through the read-only role {role} ({time.monotonic() - started:.1f} s)")
        return summary.load_plan(plan_json, stack)

    stacks = at_a_time(len(selected), args.jobs, "workload stack")
    with progress.step(f"plan {stacks}, each through its read-only role {project.naming.prefix}-plan-<env>"):
        plans = progress.side_by_side(plan, selected, args.jobs)
    markdown = summary.render_markdown(plans)
    sys.stdout.write(markdown)
    if args.output:
        args.output.write_text(markdown)
    return 3 if args.fail_on_destroy and any(stack.destructive for stack in plans) else 0


def _targets(addresses: list[str] | None) -> list[str]:
    for address in addresses or ():
        if not address.strip() or address.startswith("-"):
            raise UserError(f"--target {address!r}: must be a resource address, e.g. aws_s3_bucket.data or module.app")
    return list(addresses or ())


def _variables(assignments: list[str] | None) -> list[str]:
    for assignment in assignments or ():
        name, equals, _ = assignment.partition("=")
        if not equals or not name.strip():
            raise UserError(f"--var {assignment}: must be NAME=VALUE")
        if name.strip() == WORKLOAD_ROLE_VARIABLE:
            # Another role here could be the deployment role: a local plan must never hold write access.
            raise UserError(f"--var {name}: plan sets it to each environment's read-only plan role; it cannot be given")
    return list(assignments or ())
