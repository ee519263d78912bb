"""The local pipeline runner's executions, and the requests it answers: files both sides of the emulator read.

The emulated AWS stores pipelines but executes none: ``provisioner local-aws run-pipeline`` does
(``provisioner.local_aws.pipeline_runner``). It records each execution here, and the emulator
(``provisioner.local_aws.compat``) answers CodePipeline's execution calls from these records, so
``provisioner status``, ``doctor`` and the AWS CLI see executions as they would on AWS. Calls that ask
the pipeline to do something (``StartPipelineExecution``, ``StopPipelineExecution``,
``PutApprovalResult``) are written here by the emulator as requests, which the runner takes up.

Layout, under the emulator's data directory (``data_dir(record)``, beside its record file)::

    <account>/<region>/<pipeline>/executions/<execution id>.json   the runner's record of one execution
    <account>/<region>/<pipeline>/starts/<execution id>.json       StartPipelineExecution, not yet taken up
    <account>/<region>/<pipeline>/stops/<execution id>.json        StopPipelineExecution
    <account>/<region>/<pipeline>/approvals/<execution id>/<stage>/<action>.json   PutApprovalResult

Each file has one writer and is replaced whole (written beside, then renamed), so a reader never sees
half a file. An execution record has the shape of CodePipeline's answers (epoch seconds for times)::

    {"pipelineName", "pipelineVersion", "pipelineExecutionId", "status", "statusSummary",
     "startTime", "lastUpdateTime", "trigger": {"triggerType", "triggerDetail"}, "executionMode",
     "sourceRevisions": [{"actionName", "revisionId", "revisionSummary"}],
     "variables": [{"name", "resolvedValue"}], "stopTrigger": {"reason"} (when stopped),
     "stages": [{"stageName", "status", "startTime", "lastUpdateTime"}]   (stages entered, in order),
     "actions": [ActionExecutionDetail, as ListActionExecutions returns it, plus "token" for an
                 approval that waits]}

Standard library only: the emulator process imports it next to moto.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

RUNNING = ("InProgress", "Stopping")
DEFAULT_EXECUTION_MODE = "SUPERSEDED"
"""CodePipeline's execution mode for a pipeline that names none."""


def new_execution(pipeline: dict[str, Any], execution_id: str, trigger: dict[str, str], started: float,
                  variables: list[dict[str, str]]) -> dict[str, Any]:  # fmt: skip
    """The record of an execution that has just started (``variables``: ``{"name", "resolvedValue"}`` each)."""
    return {
        "pipelineName": pipeline["name"], "pipelineVersion": pipeline.get("version", 1), "pipelineExecutionId": execution_id,
        "status": "InProgress", "startTime": started, "lastUpdateTime": started, "trigger": trigger,
        "executionMode": pipeline.get("executionMode", DEFAULT_EXECUTION_MODE), "sourceRevisions": [], "variables": variables,
        "stages": [], "actions": [],
    }  # fmt: skip


def data_dir(record: Path) -> Path:
    """The data directory of the emulator whose record file is ``record``."""
    record = Path(record)
    return record.with_name(f"{record.stem}-pipelines")


def write_json(path: Path, value: Any) -> None:
    """Replace ``path`` whole with ``value`` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")
    os.replace(scratch, path)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


class PipelineRecords:
    """The records of one pipeline (by account, region and name) under an emulator's data directory."""

    def __init__(self, root: Path, account: str, region: str, pipeline: str) -> None:
        self.folder = Path(root) / account / region / pipeline
        self.pipeline = pipeline

    # -- executions (the runner writes, the emulator reads) ----------------------------------------
    def write_execution(self, execution: dict[str, Any]) -> None:
        write_json(self.folder / "executions" / f"{execution['pipelineExecutionId']}.json", execution)

    def execution(self, execution_id: str) -> dict[str, Any] | None:
        return read_json(self.folder / "executions" / f"{execution_id}.json")

    def executions(self) -> list[dict[str, Any]]:
        """Every recorded execution, newest first."""
        found = [read_json(path) for path in self._files("executions")]
        return sorted((e for e in found if e), key=lambda e: e["startTime"], reverse=True)

    # -- start requests (the emulator writes, the runner takes them) ------------------------------
    def request_start(self, variables: list[dict[str, str]], source_revisions: list[dict[str, str]], trigger: dict[str, str]) -> str:
        execution_id = str(uuid.uuid4())
        write_json(
            self.folder / "starts" / f"{execution_id}.json",
            {"pipelineExecutionId": execution_id, "variables": variables, "sourceRevisions": source_revisions,
             "trigger": trigger, "requestedAt": time.time()},
        )  # fmt: skip
        return execution_id

    def pending_starts(self) -> list[dict[str, Any]]:
        """Start requests not yet taken up, oldest first."""
        found = [read_json(path) for path in self._files("starts")]
        return sorted((s for s in found if s), key=lambda s: s["requestedAt"])

    def take_start(self, execution_id: str) -> None:
        (self.folder / "starts" / f"{execution_id}.json").unlink(missing_ok=True)

    # -- stop requests ----------------------------------------------------------------------------
    def request_stop(self, execution_id: str, abandon: bool, reason: str) -> None:
        write_json(self.folder / "stops" / f"{execution_id}.json", {"abandon": abandon, "reason": reason, "requestedAt": time.time()})

    def stop_request(self, execution_id: str) -> dict[str, Any] | None:
        return read_json(self.folder / "stops" / f"{execution_id}.json")

    # -- approvals --------------------------------------------------------------------------------
    def put_approval(self, execution_id: str, stage: str, action: str, status: str, summary: str) -> None:
        """``status``: Approved or Rejected."""
        write_json(self._approval(execution_id, stage, action), {"status": status, "summary": summary, "answeredAt": time.time()})

    def approval(self, execution_id: str, stage: str, action: str) -> dict[str, Any] | None:
        return read_json(self._approval(execution_id, stage, action))

    def _approval(self, execution_id: str, stage: str, action: str) -> Path:
        return self.folder / "approvals" / execution_id / stage / f"{action}.json"

    def _files(self, kind: str) -> Iterator[Path]:
        folder = self.folder / kind
        if folder.is_dir():
            yield from (path for path in folder.iterdir() if path.suffix == ".json" and not path.name.startswith("."))
