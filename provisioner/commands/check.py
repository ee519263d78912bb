"""``provisioner check``: validate environments/ and workloads/workload.hcl without loading the provider bindings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from provisioner.configuration.settings import Examination, ProjectConfig, examine
from provisioner.errors import ConfigErrors
from provisioner.paths import ENVIRONMENTS_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate environments/ and workloads/workload.hcl (fast: no synthesis)",
        description=(
            "Read environments/devops.hcl, every environments/<name>/environment.hcl and workloads/workload.hcl "
            "(PROVISIONER_WORKLOAD names another) and report every problem at once, one line each (file:line and field), "
            "including what AWS would refuse (quotas, name lengths, formats). Exit 0 when valid, 2 otherwise."
        ),
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="json: one JSON object on stdout, {ok, errors, warnings, ...}, each problem with file, line, field and message",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = examine(args.environments)
    if args.format == "json":
        print(json.dumps(_report(found), indent=2))
        return 0 if found.project else ConfigErrors.exit_code
    for warning in found.warnings:
        print(f"provisioner: warning: {warning}", file=sys.stderr)
    if found.project is None:
        raise ConfigErrors(list(found.errors))
    _summary(args.environments, found.project)
    return 0


def _report(found: Examination) -> dict[str, object]:
    """The machine-readable result: the same problems as the text lines, and what a valid configuration declares."""
    report: dict[str, object] = {
        "ok": found.project is not None,
        "errors": [problem.as_json() for problem in found.errors],
        "warnings": [problem.as_json() for problem in found.warnings],
    }
    if found.project is not None:
        devops = found.project.devops
        report["devops"] = {"account_id": devops.account_id, "region": devops.region, "name_prefix": devops.name_prefix}
        report["environments"] = [
            {"name": env.name, "account_id": env.account_id, "region": env.region, "order": env.order, "requires_approval": env.requires_approval}
            for env in found.project.environments
        ]
    return report


def _summary(environments: Path, project: ProjectConfig) -> None:
    print(f"{environments}: DevOps account {project.devops.account_id} ({project.devops.region}), prefix {project.devops.name_prefix}")
    for wave, members in enumerate(project.waves(), start=1):
        for env in members:
            approval = ", approval required" if env.requires_approval else ""
            steps = "".join(f", step {step.name} ({step.when})" for step in env.steps)
            print(f"  wave {wave} (order {env.order}): {env.name} -> account {env.account_id} {env.region}{approval}{steps}")
    workload = project.workload
    if workload.entry is None:
        print(f"  workload: none declared ({workload.file or 'workloads/workload.hcl'} is missing): the workload stacks hold no resources")
    else:
        inputs = ", ".join(spec.name for spec in workload.inputs) or "none"
        print(f"  workload: {workload.entry} ({workload.file}), inputs: {inputs}")
    devops = project.devops
    update = "plans, approves and applies its own changes" if devops.self_update else "changes only by cdktf deploy devops (self_update = false)"
    drift = f"drift run {devops.drift_schedule}" if devops.drift_schedule else "no drift run"
    vpc = f", builds in {devops.build.vpc.vpc_id}" if devops.build.vpc else ""
    print(f"  pipeline: {update}; {drift}{vpc}")
