"""``provisioner demo``: the whole product end to end on a local multi-account AWS (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioner.paths import REPO_ROOT, STATE_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="deploy everything to a local emulated multi-account AWS, run the deployed pipelines, verify, stop",
        description=(
            "Start the local AWS (moto), create the state bucket, cdktf deploy the devops and bootstrap stacks, run "
            "the deployed release pipeline twice (the second release plans no changes) and the pull-request pipeline "
            "once through the local pipeline runner (with your workloads/ code), show provisioner status, check that "
            "every resource is in its account, that a second plan finds nothing to change and that drift is found, "
            "then stop the emulator. About 8 minutes; nothing of your cdktf.out/ is touched."
        ),
    )
    parser.add_argument(
        "--environments", type=Path, default=REPO_ROOT / "demo" / "environments", help="configuration to deploy (default: %(default)s)"
    )
    parser.add_argument("--workspace", type=Path, default=STATE_DIR / "demo", help="output, logs and local state (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from provisioner.local_aws.demo_run import run_demo

    run_demo(args.environments, args.workspace)
    return 0
