"""``provisioner check``: validate environments/ and workloads/workload.hcl without loading the provider bindings."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioner.configuration.settings import load
from provisioner.paths import ENVIRONMENTS_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate environments/ and workloads/workload.hcl (fast: no synthesis)",
        description=(
            "Read environments/devops.hcl, every environments/<name>/environment.hcl and workloads/workload.hcl "
            "(PROVISIONER_WORKLOAD names another) and report every problem at once, one line each (file and field), "
            "including what AWS would refuse (quotas, name lengths). Exit 0 when valid, 2 otherwise."
        ),
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = load(args.environments)
    print(f"{args.environments}: DevOps account {project.devops.account_id} ({project.devops.region}), prefix {project.devops.name_prefix}")
    for wave, environments in enumerate(project.waves(), start=1):
        for env in environments:
            approval = ", approval required" if env.requires_approval else ""
            steps = "".join(f", step {step.name} ({step.when})" for step in env.steps)
            print(f"  wave {wave} (order {env.order}): {env.name} -> account {env.account_id} {env.region}{approval}{steps}")
    workload = project.workload
    if workload.entry is None:
        print(f"  workload: none declared ({workload.file or 'workloads/workload.hcl'} is missing): the workload stacks hold no resources")
    else:
        inputs = ", ".join(spec.name for spec in workload.inputs) or "none"
        print(f"  workload: {workload.entry} ({workload.file}), inputs: {inputs}")
    return 0
