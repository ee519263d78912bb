"""``provisioner scan``: the policy gate over the synthesized stacks (``make scan`` runs it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioner.policy_gate import gate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="policy gate: checkov and the project's own rules over cdktf.out/ (make scan)",
        description=(
            "Run checkov (offline, from .venv-checkov) and the project's own policy rules over every "
            "synthesized stack, apply the waivers of policy/skips.yaml, print one line per finding and "
            "write a JUnit report. Exit 0 when clean, 1 on any failed check, parsing error, or when "
            "checkov ran no checks, 2 on a usage problem (no stacks, no checkov, a bad skips file)."
        ),
    )
    parser.add_argument("--stacks", type=Path, default=gate.STACKS_DIR, help="folder of stack folders (default: %(default)s)")
    parser.add_argument("--checkov", type=Path, default=gate.CHECKOV, help="checkov executable (default: %(default)s)")
    parser.add_argument("--skips", type=Path, default=gate.SKIPS_FILE, help="waivers (default: %(default)s)")
    parser.add_argument("--reports", type=Path, default=gate.REPORTS_DIR, help="report folder (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = gate.scan(args.stacks, args.checkov, args.skips, args.reports)
    for line in gate.finding_lines(report):
        print(line)
    for line in gate.summary_lines(report, _shown(args.reports / gate.JUNIT_REPORT), args.skips):
        print(line)
    return 0 if report.ok else 1


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it is inside it (``reports/policy-gate.xml``)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
