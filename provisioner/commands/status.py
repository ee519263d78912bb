"""``provisioner status``: the delivery pipeline's stages, actions and last executions."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path

from provisioner.configuration.settings import load
from provisioner.configuration.target import target_from_environment
from provisioner.errors import UserError
from provisioner.operations import aws
from provisioner.operations.pipeline_state import PipelineStatus, format_duration, read_status
from provisioner.paths import ENVIRONMENTS_DIR
from provisioner.tables import table

DEFAULT_EXECUTIONS = "5"
MAX_EXECUTIONS = 1000
"""Ten pages of ListPipelineExecutions: more is a history to export, not a status to read."""
DETAIL_WIDTH = 100
NOT_RUN = "-"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the pipeline's stages and actions with their latest status, and its last executions",
        description=(
            "Show the delivery pipeline of environments/devops.hcl: each stage and action with its latest "
            "status, and the last N executions with status, trigger, start time and duration (times in UTC)."
        ),
        epilog="exit codes: 0 shown, 2 bad configuration, no credentials or no pipeline (one line on stderr)",
    )
    parser.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="folder to read (default: %(default)s)")
    parser.add_argument(
        "--executions", default=DEFAULT_EXECUTIONS, metavar="N", help=f"how many executions to list, 1 to {MAX_EXECUTIONS} (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    count = _execution_count(args.executions)
    project = load(args.environments)
    status = read_status(project, count, aws.client_factory(target_from_environment(os.environ)))
    print(json.dumps(status_json(status), indent=2) if args.json else status_text(status))
    return 0


def _execution_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise UserError(f"--executions {value!r}: must be a whole number from 1 to {MAX_EXECUTIONS}") from None
    if not 1 <= count <= MAX_EXECUTIONS:
        raise UserError(f"--executions {value}: must be from 1 to {MAX_EXECUTIONS}")
    return count


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _shorten(text: str) -> str:
    return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 3] + "..."


def status_text(status: PipelineStatus) -> str:
    version = f", version {status.version}" if status.version is not None else ""
    lines = [f"Pipeline {status.name} ({status.pipeline_type}{version}) in account {status.account_id}, {status.region}", ""]
    rows: list[tuple[str, ...]] = [("stage / action", "status", "last change (UTC)", "details")]
    for stage in status.stages:
        disabled = f"transition into this stage disabled: {stage.transition_disabled}" if stage.transition_disabled else ""
        rows.append((stage.name, stage.status or NOT_RUN, "", _shorten(disabled)))
        for action in stage.actions:
            rows.append((f"  {action.name}", action.status or NOT_RUN, _time(action.last_change), _shorten(action.detail)))
    lines += table(rows) if status.stages else ["no stages"]
    lines += ["", f"Last {len(status.executions)} execution(s), newest first:" if status.executions else "No executions yet."]
    if status.executions:
        execution_rows: list[tuple[str, ...]] = [("execution", "status", "trigger", "started (UTC)", "duration", "revision")]
        for execution in status.executions:
            duration = format_duration(execution.duration(status.read_at))
            execution_rows.append(
                (
                    execution.execution_id,
                    execution.status,
                    execution.trigger,
                    _time(execution.start),
                    f"{duration} so far" if execution.running else duration,
                    execution.revision[:12],
                )
            )
        lines += table(execution_rows, keep_whole=(0, 5))  # the ids a reader copies
    return "\n".join(lines)


def status_json(status: PipelineStatus) -> dict:
    return {
        "pipeline": status.name,
        "account_id": status.account_id,
        "region": status.region,
        "pipeline_type": status.pipeline_type,
        "version": status.version,
        "read_at": status.read_at.isoformat(),
        "stages": [
            {
                "name": stage.name,
                "status": stage.status,
                "transition_disabled": stage.transition_disabled,
                "actions": [
                    {
                        "name": action.name,
                        "status": action.status,
                        "last_change": action.last_change.isoformat() if action.last_change else None,
                        "detail": action.detail,
                        "url": action.url,
                    }
                    for action in stage.actions
                ],
            }
            for stage in status.stages
        ],
        "executions": [
            {
                "id": execution.execution_id,
                "status": execution.status,
                "trigger": execution.trigger,
                "trigger_detail": execution.trigger_detail,
                "start": execution.start.isoformat(),
                "last_update": execution.last_update.isoformat(),
                "duration_seconds": int(execution.duration(status.read_at).total_seconds()),
                "running": execution.running,
                "revision": execution.revision,
                "summary": execution.summary,
            }
            for execution in status.executions
        ],
    }
