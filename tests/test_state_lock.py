"""The state lock an interrupted run leaves: the line a team reads, and ``provisioner unlock``.

The lock comes from terraform itself: an apply against the S3 backend (moto in server mode, as
``provisioner local-aws`` runs it) is killed while it runs, exactly as a stopped build would be, and the
next plan fails with terraform's own "Error acquiring the state lock".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import datetime
from pathlib import Path

import boto3
import pytest

from provisioner import cli
from provisioner.configuration.naming import Naming
from provisioner.configuration.settings import ProjectConfig
from provisioner.delivery import buildspecs
from provisioner.operations import state_lock
from provisioner.runtime import prepare_environment
from tests.aws_fixtures import (  # noqa: F401 (fixtures)
    REGION,
    aws_env,
    create_state_bucket,
    make_project,
    moto_aws,
    moto_server,
)

STACK = "workload-dev"
PLAN_WITHOUT_WAITING = ("terraform", "plan", "-input=false", "-no-color", "-lock-timeout=1s")
"""The plan builds' command with a one-second lock timeout instead of five minutes."""


def unlock(project_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["unlock", "--environments", str(project_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- against terraform's own lock -------------------------------------------------------------------
@pytest.fixture
def killed_apply(moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ProjectConfig, dict[str, str], dict]:
    """A stack whose apply was killed (SIGKILL) while it ran: its lock object is left in the state bucket."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    folder, project = make_project(tmp_path)
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_server)
    create_state_bucket(project, client=lambda service: boto3.client(service, region_name=REGION, endpoint_url=moto_server))
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir()
    backend = {
        "bucket": project.naming.state_bucket, "key": Naming.state_key(STACK), "region": REGION, "use_lockfile": True,
        "use_path_style": True, "skip_credentials_validation": True, "skip_requesting_account_id": True,
        "skip_metadata_api_check": True, "endpoints": {"s3": moto_server},
    }  # fmt: skip
    slow = {"provisioner": [{"local-exec": {"command": "sleep 60"}}]}
    (stack_dir / "main.tf.json").write_text(json.dumps({"terraform": {"backend": {"s3": backend}}, "resource": {"terraform_data": {"slow": slow}}}))
    env = prepare_environment(dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION))
    subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=stack_dir, env=env, check=True, capture_output=True)
    apply = subprocess.Popen(
        ["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], cwd=stack_dir, env=env, stdout=subprocess.PIPE, text=True
    )
    assert apply.stdout is not None
    for line in apply.stdout:
        if "Provisioning with 'local-exec'" in line:
            break
    os.kill(apply.pid, signal.SIGKILL)
    apply.wait()
    recorded = json.loads(s3.get_object(Bucket=project.naming.state_bucket, Key=Naming.state_lock_key(STACK))["Body"].read())
    return folder, project, {**env, "STACK_DIR": str(stack_dir)}, recorded


def test_the_next_plan_names_the_lock_and_the_recovery_in_one_line(killed_apply) -> None:
    _, project, env, recorded = killed_apply
    stack_dir = env["STACK_DIR"]
    assert recorded["Operation"] == "OperationTypeApply" and recorded["Who"] and recorded["Created"]

    plan = subprocess.run(PLAN_WITHOUT_WAITING, cwd=stack_dir, env=env, capture_output=True, text=True, check=False)
    assert plan.returncode == 1 and state_lock.TERRAFORM_LOCK_ERROR in plan.stderr
    lock = state_lock.lock_in_terraform_error(plan.stderr)
    assert lock is not None
    assert (lock.id, lock.who, lock.stack, lock.action) == (recorded["ID"], recorded["Who"], STACK, "apply")
    line = state_lock.recovery(lock)
    taken = datetime.fromisoformat(recorded["Created"][:19]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert lock.since == taken
    assert f"lock {recorded['ID']}, taken by {recorded['Who']} for apply at {taken} (" in line
    assert f"s3://{project.naming.state_bucket}/{Naming.state_lock_key(STACK)})" in line
    assert f"provisioner unlock {STACK} --lock-id {recorded['ID']}" in line and "\n" not in line

    # The plan and apply builds' own command line: terraform's error as it is, then the same line.
    build = subprocess.run(["sh", "-c", buildspecs.naming_a_held_lock(PLAN_WITHOUT_WAITING)], cwd=stack_dir, env=env, capture_output=True, text=True, check=False)
    assert build.returncode != 0, "a held lock still fails the build"
    assert state_lock.TERRAFORM_LOCK_ERROR in build.stderr
    assert build.stderr.rstrip().splitlines()[-1] == f"provisioner: {line}"
    assert not (Path(stack_dir) / buildspecs.TERRAFORM_ERRORS).exists()


def test_unlock_refuses_without_the_id_then_releases_exactly_that_lock(killed_apply, capsys: pytest.CaptureFixture[str]) -> None:
    folder, project, env, recorded = killed_apply
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=os.environ["PROVISIONER_AWS_ENDPOINT"])
    lock_key = Naming.state_lock_key(STACK)

    code, out, err = unlock(folder, STACK, capsys=capsys)
    assert code == 2
    assert out.startswith(f"lock {recorded['ID']} on {STACK}: apply by {recorded['Who']} since ")
    assert err == f"provisioner: not released: make sure no plan or apply of {STACK} is running, then run provisioner unlock {STACK} --lock-id {recorded['ID']}\n"

    code, _, err = unlock(folder, STACK, "--lock-id", "not-the-lock", capsys=capsys)
    assert code == 2 and err.startswith(f"provisioner: --lock-id not-the-lock: the lock held on {STACK} is {recorded['ID']}")
    s3.head_object(Bucket=project.naming.state_bucket, Key=lock_key)  # still held

    code, out, err = unlock(folder, STACK, "--lock-id", recorded["ID"], capsys=capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"released lock {recorded['ID']} on {STACK}: the next plan or apply of {STACK} takes the lock again"
    with pytest.raises(s3.exceptions.ClientError, match="404"):
        s3.head_object(Bucket=project.naming.state_bucket, Key=lock_key)
    replan = subprocess.run(PLAN_WITHOUT_WAITING, cwd=env["STACK_DIR"], env=env, capture_output=True, text=True, check=False)
    assert replan.returncode == 0, replan.stderr[-2000:]


# --- unlock's refusals, in-process S3 --------------------------------------------------------------------
@pytest.fixture
def with_bucket(moto_aws: None, tmp_path: Path) -> tuple[Path, ProjectConfig]:
    folder, project = make_project(tmp_path)
    create_state_bucket(project)
    return folder, project


def put_lock(project: ProjectConfig, lock_id: str, who: str = "alice@laptop") -> None:
    body = {"ID": lock_id, "Operation": "OperationTypeApply", "Info": "", "Who": who, "Version": "1.11.4",
            "Created": "2026-12-04T22:36:51.237037449Z", "Path": f"{project.naming.state_bucket}/{Naming.state_key(STACK)}"}  # fmt: skip
    boto3.client("s3", region_name=REGION).put_object(Bucket=project.naming.state_bucket, Key=Naming.state_lock_key(STACK), Body=json.dumps(body))


def test_unlock_of_an_unknown_stack_or_without_a_lock_is_one_line_exit_2(with_bucket, capsys: pytest.CaptureFixture[str]) -> None:
    folder, project = with_bucket
    code, out, err = unlock(folder, "workload-qa", "--yes", capsys=capsys)
    assert (code, out) == (2, "")
    assert err == f"provisioner: {folder}: unknown stack 'workload-qa'; the stacks are devops, bootstrap-dev, bootstrap-prod, workload-dev, workload-prod\n"
    code, out, err = unlock(folder, STACK, "--yes", capsys=capsys)
    where = f"s3://{project.naming.state_bucket}/{Naming.state_lock_key(STACK)}"
    assert (code, out, err) == (2, "", f"provisioner: no lock is held on {STACK}: {where} does not exist; nothing to release\n")


def test_unlock_refuses_an_object_that_is_not_a_lock(with_bucket, capsys: pytest.CaptureFixture[str]) -> None:
    folder, project = with_bucket
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=project.naming.state_bucket, Key=Naming.state_lock_key(STACK), Body=b"not json")
    code, _, err = unlock(folder, STACK, "--yes", capsys=capsys)
    assert code == 2 and err.startswith(f"provisioner: s3://{project.naming.state_bucket}/{Naming.state_lock_key(STACK)}: not a terraform lock object")
    assert len(err.splitlines()) == 1
    s3.head_object(Bucket=project.naming.state_bucket, Key=Naming.state_lock_key(STACK))  # left alone


def test_unlock_with_yes_shows_and_releases_the_lock(with_bucket, capsys: pytest.CaptureFixture[str]) -> None:
    folder, project = with_bucket
    put_lock(project, "lock-a")
    code, out, err = unlock(folder, STACK, "--yes", capsys=capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"lock lock-a on {STACK}: apply by alice@laptop since 2026-12-04 22:36:51 UTC (terraform 1.11.4), "
        f"s3://{project.naming.state_bucket}/{Naming.state_lock_key(STACK)}"
    )
    assert state_lock.read_lock(boto3.client("s3", region_name=REGION), project.naming.state_bucket, STACK) is None


def test_a_lock_taken_after_the_one_read_is_never_released(with_bucket) -> None:
    _, project = with_bucket
    s3, bucket = boto3.client("s3", region_name=REGION), project.naming.state_bucket
    put_lock(project, "lock-a")
    read = state_lock.read_lock(s3, bucket, STACK)
    assert read is not None and read.id == "lock-a"
    # lock-a is released and a new run takes the lock before the release of lock-a reaches S3
    s3.delete_object(Bucket=bucket, Key=Naming.state_lock_key(STACK))
    put_lock(project, "lock-b", who="bob@build")
    with pytest.raises(state_lock.LockChanged):
        state_lock.release(s3, bucket, STACK, read)
    held = state_lock.read_lock(s3, bucket, STACK)
    assert held is not None and (held.id, held.who) == ("lock-b", "bob@build")


def test_the_lock_line_is_read_from_terraform_output_only() -> None:
    assert state_lock.lock_in_terraform_error("Error: Error acquiring the state lock\n\nError message: timeout\n") is None
    assert state_lock.lock_in_terraform_error("Error: Invalid provider configuration\n  ID:        x\n  Path:      b/k\n") is None


def test_unlock_help_explains_when_to_use_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["unlock", "--help"])
    shown = capsys.readouterr().out
    assert exited.value.code == 0
    assert "--lock-id ID" in shown and "Release it only when no plan or apply of that stack is running" in shown
    assert "exit codes: 0 released; 1 an AWS error" in shown and "s3:DeleteObject on the lock object" in shown


def test_what_unlock_says_it_needs_is_the_grant_the_permission_matrix_proves() -> None:
    """Every action of ``access.unlock_statements`` (the grant whose matrix cases pass) is named in the help and the
    access-denied hint, and nothing else is."""
    import re

    from provisioner.app import access
    from provisioner.commands import unlock as unlock_command
    from provisioner.configuration.naming import Naming

    naming = Naming(prefix="acme", devops_account_id="111111111111", devops_region="eu-west-1")
    granted = {action for statement in access.unlock_statements(naming, "arn:aws:kms:eu-west-1:111111111111:key/k")
               for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])}  # fmt: skip
    assert set(re.findall(r"\b(?:s3|kms):[A-Za-z]+", unlock_command.NEEDED)) == granted
    assert unlock_command.NEEDED in " ".join(unlock_command.EPILOG.split())


def test_plan_and_apply_builds_name_a_held_lock() -> None:
    plan = buildspecs.plan_spec("workload-dev", "arn:aws:iam::210987654321:role/acme-plan-dev")
    apply = buildspecs.apply_spec("workload-dev", "arn:aws:iam::210987654321:role/acme-deploy-dev")
    for spec, command in ((plan, buildspecs.terraform.PLAN), (apply, buildspecs.terraform.APPLY_PLAN)):
        guarded = [line for line in spec.build if line.startswith(buildspecs.terraform.shell(command))]
        assert guarded == [buildspecs.naming_a_held_lock(command)]
        assert len(buildspecs.render(spec)) < buildspecs.MAX_BUILDSPEC_CHARS
