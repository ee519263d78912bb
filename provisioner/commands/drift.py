"""``provisioner drift``: which environments changed outside terraform (or were never released), read-only."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from provisioner.commands.options import add_jobs, selected_environments
from provisioner.errors import UserError
from provisioner.paths import CDKTF_OUT, ENVIRONMENTS_DIR, STATE_DIR

EXIT_DRIFTED = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="plan every workload stack read-only and report those that differ from their configuration",
        description=(
            "Synthesize (unless --skip-synth), then plan the workload-<env> stacks, side by side (--jobs), each through its "
            "read-only plan role (<prefix>-plan-<env>) with `terraform plan -detailed-exitcode -lock=false`: an environment drifted when "
            "the plan would change anything, because someone changed it outside terraform or because its "
            "configuration was never released. Never applies, never takes the state lock. With --notify, publishes "
            "one message per drifted (or unplannable) environment to the pipeline's SNS topic, as the scheduled "
            "drift run does. Needs credentials that may assume the plan roles (deployment_role.plan_trusted_role_arns). "
            "Tool output goes to .provisioner/drift-logs/."
        ),
        epilog="exit codes: 0 no drift (or drift without --fail-on-drift), 3 drift with --fail-on-drift, 1 a plan failed, 2 bad input",
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--environment", action="append", metavar="NAME", help="check only this environment (repeatable)")
    parser.add_argument("--outdir", type=Path, default=CDKTF_OUT, help="synthesized output folder (default: %(default)s)")
    parser.add_argument(
        "--skip-synth", action="store_true", help="plan the stacks already in --outdir (the drift pipeline's build, after its Synth)"
    )
    parser.add_argument(
        "--notify",
        nargs="?",
        const="",
        metavar="TOPIC_ARN",
        help="publish one message per drifted environment to this SNS topic (default: the pipeline's notifications topic)",
    )
    parser.add_argument("--link", default="", help="the link the messages carry (the drift build's URL); default: this host")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON instead of text")
    parser.add_argument("--fail-on-drift", action="store_true", help=f"exit {EXIT_DRIFTED} when an environment drifted")
    add_jobs(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: every `provisioner` command parses all sub-commands at start-up.
    from provisioner.operations import drift_detection as drift
    from provisioner.progress import Progress, tool_environment

    topic = args.notify
    if args.skip_synth:
        if topic == "":
            raise UserError("--notify needs the topic's ARN with --skip-synth (the configuration is not read)")
    else:
        topic = _synthesize(args, topic)
    stacks = drift.workload_stacks(args.outdir, args.environment)
    progress = Progress(STATE_DIR / "drift-logs", out=sys.stderr)
    env = tool_environment()
    findings = drift.detect(args.outdir, stacks, progress, env, jobs=args.jobs)
    publish = None
    if topic:
        from provisioner.configuration.target import target_from_environment
        from provisioner.operations import aws

        publish = drift.publisher(topic, aws.client_factory(target_from_environment(os.environ)))
    link = args.link or f"run `provisioner drift` on {socket.gethostname()} for the plan"
    lines = drift.report(findings, link, publish)
    print(drift.summary_json(findings) if args.json else "\n".join(lines))
    if topic:
        notified = sum(finding.drifted or finding.failed for finding in findings)
        print(f"published {notified} message(s) to {topic}", file=sys.stderr)
    if any(finding.failed for finding in findings):
        return 1
    return EXIT_DRIFTED if args.fail_on_drift and any(finding.drifted for finding in findings) else 0


def _synthesize(args: argparse.Namespace, topic: str | None) -> str | None:
    """Synthesize the configuration; the pipeline's topic when ``--notify`` names none."""
    from provisioner.app.synthesis import synthesize
    from provisioner.configuration.settings import load
    from provisioner.configuration.target import target_from_environment

    project = load(args.environments)
    selected_environments(project, args.environment)
    print("==> synthesize", file=sys.stderr)
    synthesize(project, args.outdir, target_from_environment(os.environ))
    return project.naming.notifications_topic_arn if topic == "" else topic
