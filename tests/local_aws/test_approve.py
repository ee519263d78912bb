"""``provisioner local-aws approve``: answers the approval that waits, through the running emulator, in one line.

One emulator process serves the module (started like ``provisioner local-aws start``, its record in a
temporary folder); each test deploys its own pipeline to it and writes the runner's records by hand.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import boto3
import pytest

from provisioner.local_aws import DEVOPS_ACCOUNT_ID, server
from provisioner.local_aws.pipeline_records import PipelineRecords, data_dir
from tests.aws_fixtures import make_project
from tests.local_aws.pipeline_fixtures import APPROVAL, WAITING, create_delivery_pipeline, detail, execution, write_three_executions

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
_names = itertools.count()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("approve")
    record = root / ".provisioner" / "local-aws.json"
    started, _ = server.start(record=record)
    try:
        yield root, started.endpoint
    finally:
        server.stop(record)


@pytest.fixture
def pipeline(emulator: tuple[Path, str]) -> PipelineRecords:
    """A pipeline of its own in the emulator, with three executions recorded: the newest waits for Approve-dev."""
    root, endpoint = emulator
    name = f"acme-delivery-{next(_names)}"

    def client(service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test")

    create_delivery_pipeline(client, name, role_name=f"{name}-role")
    records = PipelineRecords(data_dir(root / ".provisioner" / "local-aws.json"), DEVOPS_ACCOUNT_ID, REGION, name)
    return write_three_executions(records)


def approve(root: Path, *args: str, environments: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PROVISIONER_"))}
    env["PROVISIONER_ROOT"] = str(root)
    if environments is not None:
        env["PROVISIONER_ENVIRONMENTS"] = str(environments)
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "local-aws", "approve", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=90
    )


def test_the_waiting_approval_is_approved_in_one_line(emulator: tuple[Path, str], pipeline: PipelineRecords) -> None:
    root, _ = emulator
    result = approve(root, pipeline.pipeline, "Deploy-dev", "--comment", "plan reviewed", "--region", REGION)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"approved Approve-dev in Deploy-dev of {pipeline.pipeline} (execution {WAITING})\n"
    answer = pipeline.approval(WAITING, "Deploy-dev", "Approve-dev")
    assert (answer["status"], answer["summary"]) == ("Approved", "plan reviewed")
    again = approve(root, pipeline.pipeline, "Deploy-dev", "--region", REGION)
    assert (again.returncode, again.stderr) == (2, f"provisioner: nothing waits for an approval in stage Deploy-dev of {pipeline.pipeline}\n")


def test_a_rejection_with_the_region_of_devops_hcl(emulator: tuple[Path, str], pipeline: PipelineRecords, tmp_path: Path) -> None:
    root, _ = emulator
    folder, project = make_project(tmp_path)
    assert project.devops.region == REGION
    result = approve(root, pipeline.pipeline, "Deploy-dev", "--action", "Approve-dev", "--reject", environments=folder)
    assert (result.returncode, result.stdout) == (0, f"rejected Approve-dev in Deploy-dev of {pipeline.pipeline} (execution {WAITING})\n")
    assert pipeline.approval(WAITING, "Deploy-dev", "Approve-dev")["status"] == "Rejected"


def test_several_waiting_approvals_need_action(emulator: tuple[Path, str], pipeline: PipelineRecords) -> None:
    root, _ = emulator
    record = pipeline.execution(WAITING)
    record["actions"].append({**detail(WAITING, "Deploy-dev", "Apply-dev", "InProgress", 3300, 3300, APPROVAL), "token": "second-token"})
    pipeline.write_execution(record)
    several = approve(root, pipeline.pipeline, "Deploy-dev", "--region", REGION)
    assert several.returncode == 2
    assert several.stderr == f"provisioner: several approvals wait in Deploy-dev of {pipeline.pipeline} (Approve-dev, Apply-dev): name one with --action\n"
    assert pipeline.approval(WAITING, "Deploy-dev", "Approve-dev") is None, "nothing answered"
    chosen = approve(root, pipeline.pipeline, "Deploy-dev", "--action", "Apply-dev", "--region", REGION)
    assert (chosen.returncode, chosen.stdout) == (0, f"approved Apply-dev in Deploy-dev of {pipeline.pipeline} (execution {WAITING})\n")
    assert pipeline.approval(WAITING, "Deploy-dev", "Apply-dev")["status"] == "Approved"
    assert pipeline.approval(WAITING, "Deploy-dev", "Approve-dev") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("acme-nothing", "Deploy-dev"), f"pipeline acme-nothing does not exist in the local AWS (account {DEVOPS_ACCOUNT_ID}, {REGION}): "
                                         "deploy the devops stack to it, or name the region with --region"),
        (("{pipeline}", "Deploy-qa"), "pipeline {pipeline} has no stage Deploy-qa (its stages: Source, Synth, Deploy-dev, Deploy-prod)"),
        (("{pipeline}", "Deploy-dev", "--action", "Approve-qa"),
         "stage Deploy-dev of {pipeline} has no action Approve-qa (its actions: Plan-dev, Approve-dev, Apply-dev)"),
        (("{pipeline}", "Deploy-dev", "--action", "Plan-dev"), "nothing waits for an approval in Plan-dev in Deploy-dev of {pipeline}"),
        (("{pipeline}", "Deploy-prod"), "nothing waits for an approval in stage Deploy-prod of {pipeline}"),
        (("{pipeline}", "Deploy-dev", "--region", "moon-1"), "--region 'moon-1': not an AWS region code"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(emulator: tuple[Path, str], pipeline: PipelineRecords, args: tuple[str, ...], message: str) -> None:
    root, _ = emulator
    args = tuple(arg.format(pipeline=pipeline.pipeline) for arg in args)
    region = () if "--region" in args else ("--region", REGION)
    result = approve(root, *args, *region)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"provisioner: {message.format(pipeline=pipeline.pipeline)}\n"
    assert not (pipeline.folder / "approvals").exists()


def test_without_an_emulator_it_says_how_to_start_one(tmp_path: Path) -> None:
    result = approve(tmp_path, "acme-delivery", "Deploy-dev", "--region", REGION)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "provisioner: the local AWS is not running: start it with `provisioner local-aws start`\n"


def test_help_explains_what_it_answers_and_how() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "provisioner", "local-aws", "approve", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for words in ("PIPELINE STAGE", "--action NAME", "--reject", "--comment TEXT", "GetPipelineState", "PutApprovalResult", "exit codes"):
        assert words in result.stdout
