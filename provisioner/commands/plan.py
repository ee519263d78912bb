"""``provisioner plan``: what a pull request will show, locally: synth + plan of every workload stack + one summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provisioner import plan_summary
from provisioner.config import load
from provisioner.errors import UserError
from provisioner.paths import CDKTF_OUT, ENVIRONMENTS_DIR
from provisioner.target import target_from_environment
from provisioner.terraform_runner import run_step


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="synthesize and plan every workload stack, then print one combined plan summary",
        description=(
            "Synthesize, then `terraform init` + `terraform plan -out tfplan` + `terraform show -json` for each "
            "workload-<env> stack (or those given with --environment), and print the same summary the pull-request "
            "pipeline posts. Plans assume each environment's read-only plan role (<prefix>-plan-<env>), so they need "
            "credentials for the DevOps account (to read state) listed in deployment_role.plan_trusted_role_arns. "
            "Never applies anything. "
            "Exit 0; 3 with --fail-on-destroy when a plan deletes or replaces; 1 when terraform fails; 2 on bad input."
        ),
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--environment", action="append", metavar="NAME", help="plan only this environment (repeatable)")
    parser.add_argument("--output", type=Path, help="also write the Markdown summary to this file")
    parser.add_argument("--fail-on-destroy", action="store_true", help="exit 3 when anything would be deleted or replaced")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from provisioner.app import synthesize

    project = load(args.environments)
    known = {env.name for env in project.environments}
    unknown = sorted(set(args.environment or ()) - known)
    if unknown:
        raise UserError(f"--environment {', '.join(unknown)}: no such environment (known: {', '.join(sorted(known))})")
    selected = [env for env in project.environments if not args.environment or env.name in args.environment]
    print("==> synthesize (loading the AWS provider bindings takes ~10 s)", file=sys.stderr, flush=True)
    synthesize(project, CDKTF_OUT, target_from_environment())
    plans = []
    for env in selected:
        stack_dir = CDKTF_OUT / "stacks" / env.workload_stack
        run_step(f"{env.workload_stack}: terraform init", ["terraform", "init", "-input=false", "-no-color"], stack_dir)
        # Read-only: the plan role can change nothing, and a plan that writes nothing needs no state lock.
        run_step(
            f"{env.workload_stack}: terraform plan (read-only role)",
            ["terraform", "plan", "-input=false", "-no-color", "-lock=false", f"-var=deployment_role_arn={project.plan_role_arn(env)}", "-out=tfplan"],
            stack_dir,
        )
        shown = run_step(f"{env.workload_stack}: terraform show -json", ["terraform", "show", "-json", "tfplan"], stack_dir)
        (stack_dir / "plan.json").write_text(shown.stdout)
        plans.append(plan_summary.load_plan(stack_dir / "plan.json", env.workload_stack))
    markdown = plan_summary.render_markdown(plans)
    sys.stdout.write(markdown)
    if args.output:
        args.output.write_text(markdown)
    return 3 if args.fail_on_destroy and any(stack.destructive for stack in plans) else 0
