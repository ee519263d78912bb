"""What several commands share: the ``--environment`` selection, ``--jobs``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from provisioner.errors import UserError

if TYPE_CHECKING:
    from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig


def selected_environments(project: ProjectConfig, names: list[str] | None) -> list[EnvironmentConfig]:
    """The environments ``--environment`` names (all of them without it); a name that is none is bad input."""
    known = {env.name for env in project.environments}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        raise UserError(f"--environment {', '.join(unknown)}: no such environment (known: {', '.join(sorted(known))})")
    return [env for env in project.environments if not names or env.name in names]


MOST_PLANS_AT_ONCE = 4
"""Plans side by side, at most, unless told (``provisioner plan`` and ``drift``): each plan (terraform and its
AWS provider) takes about 550 MB of memory and a core."""


def default_jobs() -> int:
    """How many plans run side by side unless told: this machine's cores, at most ``MOST_PLANS_AT_ONCE``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MOST_PLANS_AT_ONCE, cores))


def add_jobs(parser: argparse.ArgumentParser) -> None:
    """``--jobs N``: how many stacks are planned side by side."""
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=default_jobs(),
        metavar="N",
        help=(
            "plan at most N stacks side by side (default: this machine's cores, at most "
            f"{MOST_PLANS_AT_ONCE}, here %(default)s); each plan (terraform and its AWS provider) takes about 550 MB of memory"
        ),
    )


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number of at least 1")
    return jobs
