"""``provisioner bootstrap-state``: create the remote state bucket once, before the first ``cdktf deploy``."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from provisioner.configuration.settings import load
from provisioner.configuration.target import TARGET_ENV, target_from_environment
from provisioner.paths import CDKTF_OUT, ENVIRONMENTS_DIR, STATE_DIR

EPILOG = f"""\
steps (one progress line each; a failed step shows the tail of its tool's output and keeps the
local state file, so running again resumes):
  1. check the credentials and whether the state bucket exists (it does: say so, exit 0)
  2. synthesize with the devops state in a local file (--state-file)
  3. terraform init + terraform apply -target=<each resource of the state key and bucket>
  4. synthesize with the S3 backend into the same stack folder
  5. terraform init -migrate-state -force-copy: the local state moves into the bucket

then deploy the rest:  cdktf deploy devops
{TARGET_ENV}=local runs it against `provisioner local-aws start`.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap-state",
        help="create the remote state bucket and key (once, before the first cdktf deploy)",
        description=(
            "Create the DevOps account's state bucket and KMS key with a local state file, then move that state "
            "into the bucket, so that every stack, devops included, keeps its state in S3."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=CDKTF_OUT, help="synthesis output folder (default: %(default)s)")
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="local state file used until the bucket exists (default: .provisioner/bootstrap/devops.tfstate)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from provisioner.operations.state_bootstrap import DEFAULT_LOCAL_STATE, bootstrap_state
    from provisioner.progress import Progress, tool_environment

    project = load(args.environments)
    target = target_from_environment(os.environ)
    started = time.monotonic()
    progress = Progress(STATE_DIR / "logs" / "bootstrap-state")
    created = bootstrap_state(
        project,
        outdir=args.output.resolve(),
        progress=progress,
        env=tool_environment(),
        target=target,
        local_state=args.state_file or DEFAULT_LOCAL_STATE,
    )
    if created:
        progress.say(f"state bucket {project.naming.state_bucket} ready in {time.monotonic() - started:.0f} s; next: cdktf deploy devops")
    return 0
