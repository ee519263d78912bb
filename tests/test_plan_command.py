"""``provisioner plan`` (``make plan``): which role and which locking its terraform plans use.

Terraform is not run: ``Progress.run`` is replaced by a recorder, synthesis by a no-op, so the test sees
exactly the commands the CLI would run. The integration tests run the real command against the emulator.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from provisioner.commands import plan as plan_command
from provisioner.errors import UserError
from provisioner.progress import Progress, Result

REPO_ENVIRONMENTS = Path(__file__).resolve().parent.parent / "examples" / "environments"
EMPTY_PLAN = {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": []}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[list[str], Path]]:
    calls: list[tuple[list[str], Path]] = []

    def fake_run(self, title: str, command, *, cwd: Path, env, stdout_path: Path | None = None, **_: object) -> Result:
        calls.append((list(command), cwd))
        if stdout_path is not None:
            stdout_path.write_text(json.dumps(EMPTY_PLAN))
        return Result(0, "", 0.0)

    without_tools(monkeypatch, tmp_path, fake_run)
    return calls


def without_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_tool) -> None:
    """``Progress.run`` replaced by ``run_tool``, synthesis by empty stack folders; logs and output under ``tmp_path``."""

    def fake_synthesize(project, outdir: Path, target=None) -> list[str]:
        for env in project.environments:
            (outdir / "stacks" / env.workload_stack).mkdir(parents=True, exist_ok=True)
        return []

    monkeypatch.setattr(Progress, "run", run_tool)
    monkeypatch.setattr(plan_command, "STATE_DIR", tmp_path / "state")
    monkeypatch.setattr("provisioner.app.synthesis.synthesize", fake_synthesize)
    monkeypatch.delenv("PROVISIONER_TARGET", raising=False)
    OUTDIR[:] = [tmp_path / "cdktf.out"]


OUTDIR: list[Path] = []


def run(*environments: str, target: list[str] | None = None, var: list[str] | None = None, jobs: int = 1) -> int:
    args = argparse.Namespace(
        environments=REPO_ENVIRONMENTS, environment=list(environments) or None, output=None, fail_on_destroy=False, outdir=OUTDIR[0],
        target=target, var=var, jobs=jobs,
    )  # fmt: skip
    return plan_command.run(args)


def test_local_plans_assume_each_environments_read_only_plan_role_without_a_lock(recorded, capsys) -> None:
    assert run() == 0
    plans = [(command, cwd.name) for command, cwd in recorded if command[:2] == ["terraform", "plan"]]
    assert plans == [
        (
            ["terraform", "plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan", f"-var=workload_role_arn=arn:aws:iam::{account}:role/acme-platform-plan-{env}"],
            f"workload-{env}",
        )
        for env, account in (("dev", "222222222222"), ("staging", "333333333333"), ("prod", "444444444444"))
    ]
    assert not [command for command, _ in recorded if "apply" in command]
    assert not any("acme-platform-deploy-" in " ".join(command) for command, _ in recorded), "never the deployment role"


def test_one_environment_plans_with_its_own_plan_role_only(recorded, capsys) -> None:
    assert run("prod") == 0
    (plan,) = [command for command, _ in recorded if command[:2] == ["terraform", "plan"]]
    assert "-var=workload_role_arn=arn:aws:iam::444444444444:role/acme-platform-plan-prod" in plan
    assert "-lock=false" in plan and not any(a.startswith("-lock-timeout") for a in plan)



def test_targets_and_variables_go_through_to_terraform_plan(recorded, capsys) -> None:
    assert run("dev", target=["aws_s3_bucket.data", "module.app"], var=["image_tag=v1.2", "note=a=b"]) == 0
    (plan,) = [command for command, _ in recorded if command[:2] == ["terraform", "plan"]]
    assert plan[-4:] == ["-target=aws_s3_bucket.data", "-target=module.app", "-var=image_tag=v1.2", "-var=note=a=b"]
    assert "-var=workload_role_arn=arn:aws:iam::222222222222:role/acme-platform-plan-dev" in plan


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"var": ["image_tag"]}, "--var image_tag: must be NAME=VALUE"),
        ({"var": ["workload_role_arn=arn:aws:iam::222222222222:role/acme-platform-deploy-dev"]},
         "--var workload_role_arn: plan sets it to each environment's read-only plan role"),
        ({"target": [""]}, "--target '': must be a resource address"),
    ],
)  # fmt: skip
def test_bad_targets_and_variables_are_refused_before_anything_runs(recorded, option, message) -> None:
    with pytest.raises(UserError, match=message):
        run("dev", **option)
    assert recorded == []


def test_stacks_are_planned_side_by_side_and_summarized_in_the_environments_order(monkeypatch, tmp_path, capsys) -> None:
    """Three environments, --jobs 3: the three plans overlap; each stack's init, plan and show stay in order."""
    import threading
    import time

    running, most, calls = set(), [0], []
    lock = threading.Lock()

    def slow_run(self, title: str, command, *, cwd: Path, env, stdout_path: Path | None = None, **_: object) -> Result:
        with lock:
            running.add(cwd.name)
            most[0] = max(most[0], len(running))
            calls.append((cwd.name, command[1]))
        time.sleep(0.2)
        if stdout_path is not None:
            stack = {**EMPTY_PLAN, "resource_changes": [{"address": f"aws_s3_bucket.{cwd.name}", "mode": "managed", "type": "aws_s3_bucket",
                     "name": cwd.name, "change": {"actions": ["create"], "before": None, "after": {}}}]}  # fmt: skip
            stdout_path.write_text(json.dumps(stack))
        with lock:
            running.discard(cwd.name)
        return Result(0, "", 0.2)

    without_tools(monkeypatch, tmp_path, slow_run)
    assert run(jobs=3) == 0
    assert most[0] == 3
    stacks = ["workload-dev", "workload-staging", "workload-prod"]
    for stack in stacks:
        assert [step for name, step in calls if name == stack] == ["init", "plan", "show"]
    shown = capsys.readouterr()
    assert [shown.out.index(f"**{stack}**") for stack in stacks] == sorted(shown.out.index(f"**{stack}**") for stack in stacks)
    assert "==> plan 3 workload stacks, 3 at a time, each through its read-only role acme-platform-plan-<env>" in shown.err


def test_plan_and_drift_take_a_number_of_jobs_of_at_least_one(capsys) -> None:
    from provisioner.cli import build_parser

    assert build_parser().parse_args(["plan", "--jobs", "2"]).jobs == 2
    assert build_parser().parse_args(["drift"]).jobs >= 1
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(["drift", "--jobs", bad])
        assert exited.value.code == 2
        assert f"--jobs: '{bad}': must be a whole number of at least 1" in capsys.readouterr().err


def test_plan_cli_takes_target_and_var_options() -> None:
    from provisioner.cli import build_parser

    args = build_parser().parse_args(["plan", "--target", "aws_s3_bucket.data", "--var", "a=1", "--var", "b=2"])
    assert (args.target, args.var) == (["aws_s3_bucket.data"], ["a=1", "b=2"])


# --- real terraform: switching between the local emulator and AWS -----------------------------------


def _backend_switching_synth(backend: dict[str, Path]):
    """A workload stack as small as terraform allows (no provider to install), on the backend in ``backend["path"]``:
    what a synth for the other target does to a stack folder is change its backend."""

    def synthesize(project, outdir: Path, target=None) -> list[str]:
        stack = outdir / "stacks" / "workload-dev"
        stack.mkdir(parents=True, exist_ok=True)
        document = {
            "terraform": {"backend": {"local": {"path": str(backend["path"])}}},
            "variable": {"workload_role_arn": {"type": "string"}},
            "resource": {"terraform_data": {"marker": {"input": "kept"}}},
        }
        (stack / "cdk.tf.json").write_text(json.dumps(document))
        return ["workload-dev"]

    return synthesize


def test_plan_reinitializes_a_stack_whose_backend_changed_and_keeps_each_state(monkeypatch, tmp_path, terraform_env, capsys) -> None:
    from tests.conftest import run_terraform

    backend = {"path": tmp_path / "aws.tfstate"}
    monkeypatch.setattr("provisioner.app.synthesis.synthesize", _backend_switching_synth(backend))
    monkeypatch.setattr(plan_command, "STATE_DIR", tmp_path / "state")
    monkeypatch.delenv("PROVISIONER_TARGET", raising=False)
    OUTDIR[:] = [tmp_path / "cdktf.out"]
    stack = OUTDIR[0] / "stacks" / "workload-dev"
    _backend_switching_synth(backend)(None, OUTDIR[0])
    run_terraform(["init", "-input=false"], stack, terraform_env)
    run_terraform(["apply", "-auto-approve", "-input=false", "-var=workload_role_arn=x"], stack, terraform_env)
    applied = backend["path"].read_bytes()

    backend["path"] = tmp_path / "local.tfstate"
    assert run("dev") == 0
    assert "Plan: 1 to add" in capsys.readouterr().out, "the other backend's state is its own, empty here"
    assert (tmp_path / "aws.tfstate").read_bytes() == applied

    backend["path"] = tmp_path / "aws.tfstate"
    assert run("dev") == 0
    assert "workload-dev**: No changes." in capsys.readouterr().out, "back on the first backend, its state is intact"
    assert (tmp_path / "aws.tfstate").read_bytes() == applied
