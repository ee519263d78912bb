"""``provisioner synth``: environments/ -> cdktf.out/ (the same as ``python main.py`` and ``cdktf synth``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from provisioner.configuration.settings import load
from provisioner.configuration.target import target_from_environment
from provisioner.paths import CDKTF_OUT, ENVIRONMENTS_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="synthesize every stack into cdktf.out/",
        description=(
            "Validate environments/, then synthesize devops, bootstrap-<env> and workload-<env> into the output "
            "folder. Output is written to a scratch folder and swapped in only on success, so a failed run "
            "leaves the previous output untouched. The output folder is replaced whole: a file, the working folder "
            "or a non-empty folder that is not an earlier output is refused. "
            "PROVISIONER_TARGET=local synthesizes for the local emulator."
        ),
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=CDKTF_OUT, help="output folder (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from provisioner.app.synthesis import synthesize

    project = load(args.environments)
    target = target_from_environment(os.environ)
    started = time.monotonic()
    print(f"synthesizing {1 + 2 * len(project.environments)} stacks...", file=sys.stderr)
    stacks = synthesize(project, args.output, target)
    print(f"synthesized {len(stacks)} stacks into {args.output} in {time.monotonic() - started:.1f} s: {', '.join(stacks)}")
    return 0
