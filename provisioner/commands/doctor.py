"""``provisioner doctor``: check credentials, state bucket, pipeline and deployment roles; print the fixes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import IO

from provisioner.colour import GREEN, RED, YELLOW, paint
from provisioner.configuration.settings import AWS_REGIONS, load
from provisioner.configuration.target import target_from_environment
from provisioner.errors import UserError
from provisioner.operations import aws, health
from provisioner.operations.health import FAIL, PASS, SKIP, Diagnosis
from provisioner.paths import ENVIRONMENTS_DIR
from provisioner.tables import MAX_WIDTH, table

EPILOG = """\
checks: credentials (the DevOps account of devops.hcl), state bucket (exists, versioning,
SSE-KMS), pipeline (exists, V2), and per environment: stack bootstrap-<env> (its state names
the deployment role) and deployment role <env> (assumed, with the external id; tried only
when the caller is a role it trusts, skipped otherwise).

exit codes: 0 no check failed (some may be skipped), 1 a check failed, 2 bad configuration
or arguments (one line on stderr)"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check credentials, state bucket, pipeline and deployment roles against AWS",
        description=(
            "Check, with your AWS credentials, that the DevOps account, its state bucket and pipeline and each "
            "environment's deployment role are as environments/ says, and print the fix for every failure."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--region", metavar="R", help="region of the DevOps account's API calls (default: region in devops.hcl)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = load(args.environments)
    if args.region is not None and args.region not in AWS_REGIONS:
        raise UserError(f"--region {args.region!r}: not an AWS region code")
    diagnosis = health.diagnose(project, aws.client_factory(target_from_environment(os.environ)), args.region)
    print(json.dumps(diagnosis_json(diagnosis), indent=2) if args.json else diagnosis_text(diagnosis, sys.stdout))
    return 0 if diagnosis.ok else 1


STATUS_COLOURS = {PASS: GREEN, FAIL: RED, SKIP: YELLOW}
FIX_INDENT = " " * 6
"""Under the check column: the fix reads as part of its row."""


def diagnosis_text(diagnosis: Diagnosis, stream: IO[str]) -> str:
    """The report as printed on ``stream`` (in colour on a terminal): a row per check, its fix on the lines below.

    Fixes are sentences: as a column they would squeeze the targets and results, which are names and ARNs.
    """
    lines = [f"provisioner doctor: DevOps account {diagnosis.account_id}, region {diagnosis.region}", ""]
    header, *body = table([("", "check", "target", "result"), *((c.status.upper(), c.check, c.target, c.result) for c in diagnosis.checks)])
    lines.append(header)
    for check, (first, *rest) in zip(diagnosis.checks, _rows(body)):
        # Painted after the table is laid out: escape codes would count as width. Every status word is 4 letters.
        lines += [paint(first[:4], STATUS_COLOURS[check.status], stream) + first[4:], *rest]
        if check.fix:
            lines += textwrap.wrap(
                f"fix: {check.fix}", MAX_WIDTH, initial_indent=FIX_INDENT, subsequent_indent=FIX_INDENT + " " * len("fix: "),
                break_long_words=False, break_on_hyphens=False,
            )  # fmt: skip
    counts = ", ".join(f"{diagnosis.count(status)} {word}" for status, word in ((PASS, "passed"), (FAIL, "failed"), (SKIP, "skipped")))
    verdict = "all checks that could run passed" if diagnosis.ok else "fix failures from the top: later checks may depend on earlier ones"
    lines += ["", f"{counts}: {verdict}"]
    return "\n".join(lines)


def _rows(lines: list[str]) -> list[list[str]]:
    """Table lines grouped by row: a row's first line starts with its status word, its further lines blank."""
    rows: list[list[str]] = []
    for line in lines:
        if line.startswith(" "):
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def diagnosis_json(diagnosis: Diagnosis) -> dict:
    return {
        "account_id": diagnosis.account_id,
        "region": diagnosis.region,
        "caller": diagnosis.caller,
        "ok": diagnosis.ok,
        "passed": diagnosis.count(PASS),
        "failed": diagnosis.count(FAIL),
        "skipped": diagnosis.count(SKIP),
        "checks": [
            {"check": c.check, "target": c.target, "status": c.status, "result": c.result, "fix": c.fix} for c in diagnosis.checks
        ],
    }
