"""``provisioner plan-summary``: summarize terraform plans for a PR comment or a pipeline gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provisioner.errors import UserError
from provisioner.plan_review import summary

EXIT_DESTRUCTIVE = 3

EPILOG = f"""\
exit codes:
  0  summary printed
  2  a plan file is missing, unreadable or not `terraform show -json` output of a plan
     (one line on stderr names the file and what is wrong), or bad arguments
  {EXIT_DESTRUCTIVE}  --fail-on-destroy was given and a plan deletes or replaces a resource
     (the summary is still printed)

The stack name comes from the file name (workload-dev.plan.json -> workload-dev) or, for a generic
name such as plan.json, from its folder (cdktf.out/stacks/workload-dev/plan.json -> workload-dev);
standard input (-) is named after the current folder.
Attribute values are never printed, so sensitive variables and attributes cannot leak.

example:
  terraform -chdir=cdktf.out/stacks/workload-dev plan -out=plan.tfplan
  terraform -chdir=cdktf.out/stacks/workload-dev show -json plan.tfplan > cdktf.out/stacks/workload-dev/plan.json
  provisioner plan-summary --fail-on-destroy cdktf.out/stacks/*/plan.json > comment.md
  terraform show -json plan.tfplan | provisioner plan-summary --name workload-dev -
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan-summary",
        help="summarize `terraform show -json` plans as a PR comment (Markdown) or JSON",
        description=(
            "Summarize one `terraform show -json <planfile>` file per stack: terraform's own Plan line (or "
            "No changes. / Planning failed.) and what it leaves out (moves, forgets, reads during apply, outputs, "
            "drift); a warning when anything is deleted or replaced; destructive and security-sensitive changes; "
            "output changes and drift; and the per-resource list with the attributes each update changes."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "plans",
        nargs="+",
        type=Path,
        metavar="PLAN_JSON",
        help="output of `terraform show -json <planfile>`, one file per stack; - reads one from standard input",
    )
    parser.add_argument(
        "--format",
        choices=("markdown", "json", "headline"),
        default="markdown",
        help="markdown: a GitHub PR comment; json: {\"stacks\": [{name, counts, destructive, security, ...}]}; "
        "headline: one verdict line per stack (for approval messages) (default: %(default)s)",
    )
    parser.add_argument(
        "--max-chars",
        type=_positive_int,
        default=summary.DEFAULT_MAX_CHARS,
        metavar="N",
        help="longest Markdown to print; past it the per-resource details are cut first, the summary always "
        "stays and the cut is stated (default: %(default)s, under GitHub's 65,536-character comment limit)",
    )
    parser.add_argument(
        "--fail-on-destroy",
        action="store_true",
        help=f"exit {EXIT_DESTRUCTIVE} when any plan deletes or replaces a resource (forget, which leaves it "
        "running, does not count)",
    )
    parser.add_argument(
        "--name",
        action="append",
        metavar="NAME",
        help="stack name of a plan file instead of the one derived from its path; give it once per file, in order",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.plans.count(summary.STDIN) > 1:
        raise UserError(f"{summary.STDIN} is given twice: standard input can be read once")
    names = summary.stack_names(args.plans, args.name)
    stacks = [summary.load_plan(path, name) for path, name in zip(args.plans, names)]
    if args.format == "json":
        sys.stdout.write(summary.render_json(stacks))
    elif args.format == "headline":
        sys.stdout.write("".join(summary.verdict(stack) + "\n" for stack in stacks))
    else:
        sys.stdout.write(summary.render_markdown(stacks, args.max_chars))
    destroys = any(stack.destructive for stack in stacks)
    return EXIT_DESTRUCTIVE if args.fail_on_destroy and destroys else 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value
