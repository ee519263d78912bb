"""The command output README.md and docs/ show is what the commands print: each sample sits between
``<!-- output:<name>:start -->`` and ``<!-- output:<name>:end -->`` and is regenerated here by running
its command on the examples or the test fixtures. ``UPDATE_SNAPSHOTS=1 make test`` rewrites the
samples after a deliberate change to what a command prints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from provisioner import cli
from provisioner.commands.status import status_text
from provisioner.operations.pipeline_state import read_status
from provisioner.paths import REPO_ROOT
from tests.aws_fixtures import (  # noqa: F401 (fixtures)
    OPERATOR_ROLE_ARN,
    REGION,
    aws_env,
    create_pipeline,
    create_state_bucket,
    healthy,
    make_project,
    moto_aws,
    project,
    put_bootstrap_state,
    run_cli,
)
from tests.conftest import EXAMPLE_ENVIRONMENTS, Synthesized
from tests.test_status import READ_AT, stubbed_clients

SAMPLE = re.compile(r"<!-- output:(?P<name>[\w-]+):start -->\n(?P<body>.*?)<!-- output:(?P=name):end -->", re.S)
DOCUMENTS = [REPO_ROOT / "README.md", REPO_ROOT / "modules" / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
NOT_YET_GENERATED = ("<!-- pipeline-provisioner:plan-summary -->",)
"""The first line of README.md's plan-summary sample: its format is being rewritten, and its test with it."""


def shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def compare(path: Path, name: str, output: str) -> None:
    """The ``name`` sample of ``path`` is ``output``, as one fenced block; rewritten under UPDATE_SNAPSHOTS=1."""
    text = path.read_text()
    samples = {match["name"]: match for match in SAMPLE.finditer(text)}
    assert name in samples, f"{shown(path)} lost its output:{name} sample"
    expected = f"```\n{output.rstrip()}\n```\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        match = samples[name]
        path.write_text(text[: match.start("body")] + expected + text[match.end("body") :])
        return
    assert samples[name]["body"] == expected, f"{shown(path)}'s {name} sample is not what the command prints: UPDATE_SNAPSHOTS=1 make test rewrites it"


def fenced_blocks(text: str) -> list[tuple[int, str]]:
    """(offset, content) of every fenced code block."""
    return [(match.start(), match.group(1)) for match in re.finditer(r"^```[a-z]*\n(.*?)^```$", text, re.S | re.M)]


def test_every_sample_of_command_output_is_generated() -> None:
    """A block that shows a command's output (a ``$ `` command line, or ``provisioner:`` errors) is between markers."""
    for path in DOCUMENTS:
        text = path.read_text()
        generated = [(match.start(), match.end()) for match in SAMPLE.finditer(text)]
        for offset, block in fenced_blocks(text):
            if block.startswith(NOT_YET_GENERATED) or not (block.startswith("$ ") or re.search(r"^provisioner: ", block, re.M)):
                continue
            assert any(start < offset < end for start, end in generated), f"{shown(path)}: a sample of command output outside output markers:\n{block}"


# --- README.md ---------------------------------------------------------------------------------


def test_the_configuration_errors_sample_is_what_synthesis_prints(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    shutil.copytree(EXAMPLE_ENVIRONMENTS, environments)
    prod = environments / "prod" / "environment.hcl"
    prod.write_text(prod.read_text().replace('"444444444444"', '"4444"', 1).replace("requires_approval", "requires_aproval"))
    (environments / "qa").mkdir()
    (environments / "qa" / "environment.hcl").write_text('account_id = "555555555555"\nregion     = "eu-west-1"\norder =\n')
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(environments), CDKTF_OUTDIR=str(tmp_path / "cdktf.out"))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py")], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    compare(REPO_ROOT / "README.md", "config-errors", result.stderr)


def test_the_cost_estimate_sample_is_what_the_command_prints_for_the_examples(
    example_synth: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(example_synth.outdir / "stacks", tmp_path / "cdktf.out" / "stacks")
    monkeypatch.chdir(tmp_path)  # the estimate names each stack file as found from the working folder
    command = ["cost", "estimate", "--releases-per-month", "20", "--minutes-per-action", "3"]
    assert cli.main([*command, "--stacks-dir", "cdktf.out/stacks"]) == 0
    compare(REPO_ROOT / "README.md", "cost-estimate", f"$ provisioner {' '.join(command)}\n{capsys.readouterr().out}")


# --- provisioner doctor (README.md, docs/operations.md) ----------------------------------------
STATE_KEY_ARNS = {
    "healthy": "arn:aws:kms:us-east-1:123456789012:key/e2883ff0-9a26-4050-8d41-d72899853362",
    "three-problems": "arn:aws:kms:us-east-1:123456789012:key/f28e688d-daf0-4379-aaf0-4c6b2dac5334",
}
"""moto makes up a new key id on every run; the samples keep one."""


def encrypt_state_with(project, key_arn: str) -> None:
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}
    boto3.client("s3", region_name=REGION).put_bucket_encryption(
        Bucket=project.naming.state_bucket, ServerSideEncryptionConfiguration={"Rules": [rule]}
    )


def doctor_output(folder: Path, capsys: pytest.CaptureFixture[str], exit_code: int) -> str:
    assert cli.main(["doctor", "--environments", str(folder)]) == exit_code
    return f"$ provisioner doctor\n{capsys.readouterr().out}"


def test_the_doctor_samples_of_a_healthy_installation(moto_aws, tmp_path, monkeypatch, capsys) -> None:
    folder, project = make_project(tmp_path)
    healthy(project)
    encrypt_state_with(project, STATE_KEY_ARNS["healthy"])
    credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=OPERATOR_ROLE_ARN, RoleSessionName="alice")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    output = doctor_output(folder, capsys, 0)
    compare(REPO_ROOT / "docs" / "operations.md", "doctor-healthy", output)
    compare(REPO_ROOT / "README.md", "doctor-healthy", output)


def test_the_doctor_sample_with_three_problems(moto_aws, tmp_path, capsys) -> None:
    folder, project = make_project(tmp_path)
    create_state_bucket(project, versioning=False)
    encrypt_state_with(project, STATE_KEY_ARNS["three-problems"])
    create_pipeline(project, "V1")
    put_bootstrap_state(project, "prod", project.deployment_role_arn(project.environments[1]))
    compare(REPO_ROOT / "docs" / "operations.md", "doctor-three-problems", doctor_output(folder, capsys, 1))


# --- provisioner status (docs/operations.md) ---------------------------------------------------


def test_the_status_sample_is_what_the_command_prints_for_the_fixture(project) -> None:
    clients, _ = stubbed_clients(executions=2)
    output = status_text(read_status(project, 2, clients, now=READ_AT))
    compare(REPO_ROOT / "docs" / "operations.md", "status", f"$ provisioner status --executions 2\n{output}")


def test_the_status_error_samples_are_what_the_command_prints(moto_aws, tmp_path, capsys) -> None:
    folder, _ = make_project(tmp_path)
    assert cli.main(["status", "--environments", str(folder)]) == 2
    without_credentials = run_cli("status", "--environments", str(folder))  # a process of its own: moto is not there
    assert without_credentials.returncode == 2
    compare(REPO_ROOT / "docs" / "operations.md", "status-errors", capsys.readouterr().err + without_credentials.stderr)


@pytest.mark.parametrize("command", ["doctor", "status"])
def test_the_synopses_are_the_commands_usage(command: str) -> None:
    """docs/operations.md's ``provisioner <command> [...]`` lines are argparse's usage, ``-h`` aside."""
    parser = cli.build_parser()
    (subparsers,) = [action for action in parser._actions if action.dest == "command"]
    usage = " ".join(subparsers.choices[command].format_usage().removeprefix("usage: ").replace("[-h] ", "").split())
    assert f"```\n{usage}\n```" in (REPO_ROOT / "docs" / "operations.md").read_text()


# --- provisioner local-aws approve (README.md) ---------------------------------------------------


def test_the_approve_sample_is_what_the_command_prints(moto_aws, tmp_path) -> None:
    """The command prints ``answer(...).describe()``; here against moto in-process with the emulator's patches."""
    from provisioner.local_aws import approvals, compat
    from provisioner.local_aws.pipeline_records import PipelineRecords
    from tests.local_aws.pipeline_fixtures import create_delivery_pipeline, write_three_executions

    with compat.patched(tmp_path):
        create_delivery_pipeline(lambda service: boto3.client(service, region_name=REGION), "acme-delivery")
        records = write_three_executions(PipelineRecords(tmp_path, "123456789012", REGION, "acme-delivery"))
        codepipeline = boto3.client("codepipeline", region_name=REGION)
        answered = approvals.answer(codepipeline, "acme-delivery", "Deploy-dev", None, approved=True, comment="plan reviewed")
        assert records.approval(answered.execution_id, "Deploy-dev", "Approve-dev")["summary"] == "plan reviewed"
    command = '$ provisioner local-aws approve acme-delivery Deploy-dev --comment "plan reviewed"'
    compare(REPO_ROOT / "README.md", "local-aws-approve", f"{command}\n{answered.describe()}")


# --- an interrupted apply (README.md) ------------------------------------------------------------
LEFT_BEHIND = {
    "ID": "9d3e1f52-7c1a-4b0e-8a55-2f6c9e0b7d41", "Operation": "OperationTypeApply", "Info": "", "Who": "root@ip-10-0-1-23",
    "Version": "1.11.4", "Created": "2026-12-04T21:14:05.123456789Z",
}  # fmt: skip
"""The lock a killed Apply build leaves (terraform writes a new id and time on every run; the samples keep one)."""


def test_the_interrupted_apply_samples_are_what_the_builds_and_unlock_print(moto_aws, tmp_path, capsys) -> None:
    """The builds' line is ``recovery`` of the lock terraform reports (tests/test_state_lock.py shows the builds'
    command prints exactly it for terraform's own error); ``provisioner unlock`` runs as a team runs it."""
    from provisioner.configuration.naming import Naming
    from provisioner.operations import state_lock

    folder, project = make_project(tmp_path)
    create_state_bucket(project)
    stack, bucket = "workload-dev", project.naming.state_bucket
    body = {**LEFT_BEHIND, "Path": f"{bucket}/{Naming.state_key(stack)}"}
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=Naming.state_lock_key(stack), Body=json.dumps(body))
    held = state_lock.read_lock(boto3.client("s3", region_name=REGION), bucket, stack)
    assert held is not None
    compare(REPO_ROOT / "README.md", "state-locked", f"provisioner: {state_lock.recovery(held)}")

    assert cli.main(["unlock", stack, "--environments", str(folder)]) == 2
    refused = capsys.readouterr()
    assert cli.main(["unlock", stack, "--environments", str(folder), "--lock-id", LEFT_BEHIND["ID"]]) == 0
    released = capsys.readouterr()
    assert released.err == ""
    compare(
        REPO_ROOT / "README.md",
        "unlock",
        f"$ provisioner unlock {stack}\n{refused.out}{refused.err}$ provisioner unlock {stack} --lock-id {LEFT_BEHIND['ID']}\n{released.out}",
    )
