"""Synthesis never damages earlier output, and bad configuration fails fast through main.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provisioner.app import synthesis as app_module
from provisioner.configuration.settings import load
from provisioner.paths import REPO_ROOT
from tests.conftest import EXAMPLE_ENVIRONMENTS, Synthesized
from tests.workloads.stalled import STALLED_MARKER


def _fingerprint(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_synthesis_leaves_earlier_output_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outdir = tmp_path / "cdktf.out"
    _earlier_output(outdir)
    before = _fingerprint(outdir)

    def broken_app(*args, **kwargs):
        raise RuntimeError("synthesis blew up")

    monkeypatch.setattr(app_module, "build_app", broken_app)
    with pytest.raises(RuntimeError, match="blew up"):
        app_module.synthesize(load(EXAMPLE_ENVIRONMENTS), outdir)
    assert _fingerprint(outdir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"], "scratch folders must be cleaned up"


def test_resynthesis_keeps_terraform_working_files(example_synth: Synthesized, tmp_path: Path) -> None:
    """A new synth swaps cdk.tf.json but keeps .terraform/ and saved plans, so no re-init is needed."""
    outdir = tmp_path / "cdktf.out"
    stack = outdir / "stacks" / "workload-dev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    (outdir / "manifest.json").write_text('{"version": "0.21.0", "stacks": {"workload-dev": {}}}')
    (stack / ".terraform").mkdir()
    (stack / ".terraform" / "marker").write_text("kept")
    (stack / "tfplan").write_text("saved plan")
    (outdir / "stacks" / "removed-stack").mkdir()

    app_module.synthesize(example_synth.project, outdir)

    assert (stack / ".terraform" / "marker").read_text() == "kept"
    assert (stack / "tfplan").read_text() == "saved plan"
    assert (stack / "cdk.tf.json").read_text() != "{}"
    assert not (outdir / "stacks" / "removed-stack").exists()
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == sorted(example_synth.stacks)


def _run_main(environments: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(environments), CDKTF_OUTDIR=str(outdir))
    return subprocess.run([sys.executable, str(REPO_ROOT / "main.py")], env=env, capture_output=True, text=True, check=False)


def test_main_rejects_bad_config_with_one_line_errors_and_keeps_output(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    (environments / "dev").mkdir(parents=True)
    (environments / "devops.hcl").write_text((EXAMPLE_ENVIRONMENTS / "devops.hcl").read_text())
    (environments / "dev" / "environment.hcl").write_text('account_id = "12"\nregion = "eu-west-1"\nrequires_aproval = true\nbootstrap {\n  profile = "a"\n}\n')
    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("earlier output")

    result = _run_main(environments, outdir)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert all(line.startswith("provisioner: environments/dev/environment.hcl:") for line in lines), lines
    assert 'provisioner: environments/dev/environment.hcl:1: account_id "12" must be 12 digits' in lines
    assert any('unknown field requires_aproval (did you mean "requires_approval"?)' in line for line in lines)
    assert (outdir / "keep.txt").read_text() == "earlier output"


def test_main_ends_with_its_output_delivered_and_nothing_left_running_or_behind(tmp_path: Path) -> None:
    """main.py skips the interpreter's teardown, not the exit handlers: the jsii runtime's Node.js process
    has ended and removed its temporary folder, jsii's own temporary files are gone, and what main.py
    printed reached the pipe."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(EXAMPLE_ENVIRONMENTS), CDKTF_OUTDIR=str(tmp_path / "out"), TMPDIR=str(scratch))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py")], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    stacks = sorted(path.name for path in (tmp_path / "out" / "stacks").iterdir())
    assert result.stdout.splitlines()[-1] == f"synthesized {len(stacks)} stacks: {', '.join(stacks)}"
    assert list(scratch.iterdir()) == []


def test_main_reports_a_workload_that_cannot_be_imported_on_one_line(tmp_path: Path) -> None:
    workload = tmp_path / "workload.hcl"
    workload.write_text('entry = "tests.workloads.missing_dependency:define"\n')
    environments = tmp_path / "environments"
    shutil.copytree(EXAMPLE_ENVIRONMENTS, environments)
    for inputs in environments.glob("*/environment.hcl"):  # the example's inputs are not declared here
        inputs.write_text(re.sub(r"(?ms)^inputs = \{.*?^\}\n", "", inputs.read_text()))
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(environments), PROVISIONER_WORKLOAD=str(workload), CDKTF_OUTDIR=str(tmp_path / "out"))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py")], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f'provisioner: {workload}: entry "tests.workloads.missing_dependency:define": cannot import '
        "tests.workloads.missing_dependency: No module named 'a_package_nobody_installed'\n"
    )


CDKTF = REPO_ROOT / "node_modules" / ".bin" / "cdktf"


@pytest.mark.skipif(not CDKTF.exists(), reason="cdktf-cli is installed by make setup")
def test_cdktf_synth_shows_each_config_error_once_with_the_prefix(tmp_path: Path) -> None:
    """The cdktf CLI captures the app's output, echoes it as it comes and prints it again when the app fails."""
    environments = tmp_path / "environments"
    shutil.copytree(EXAMPLE_ENVIRONMENTS, environments)
    prod = environments / "prod" / "environment.hcl"
    prod.write_text(prod.read_text().replace('"444444444444"', '"4444"'))
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(environments), CI="1")
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(tmp_path / "cdktf.out")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # the CLI's own code for any failed app
    output = result.stdout + result.stderr
    problem = 'environments/prod/environment.hcl:3: account_id "4444" must be 12 digits'
    assert output.count(problem) == 1, output
    assert f"provisioner: {problem}\n" in result.stderr
    assert not (tmp_path / "cdktf.out" / "manifest.json").exists()


@pytest.mark.skipif(not CDKTF.exists(), reason="cdktf-cli is installed by make setup")
def test_a_cdktf_synth_that_succeeds_shows_no_error_line(tmp_path: Path) -> None:
    """The cdktf CLI labels whatever the app writes to standard error "[ERROR]": a synth that succeeds writes nothing there."""
    env = dict(os.environ, PROVISIONER_ENVIRONMENTS=str(EXAMPLE_ENVIRONMENTS), CI="1")
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(tmp_path / "cdktf.out")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr
    assert "Generated Terraform code for the stacks: " in result.stdout


# --- the output folder: only ever an earlier synth output is replaced ---------------------------------


class _QuickApp:
    """Stands in for the CDK app: writes what cdktf writes (manifest.json and stacks/), in milliseconds."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = Path(outdir)

    def synth(self) -> None:
        (self.outdir / "stacks" / "devops").mkdir(parents=True)
        (self.outdir / "stacks" / "devops" / "cdk.tf.json").write_text('{"new": true}')
        (self.outdir / "manifest.json").write_text('{"version": "0.21.0", "stacks": {"devops": {}}}')


@pytest.fixture
def quick_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "build_app", lambda project, outdir, target=None: _QuickApp(outdir))


def _synth_cli(output: str | Path) -> int:
    from provisioner import cli

    return cli.main(["synth", "--environments", str(EXAMPLE_ENVIRONMENTS), "--output", str(output)])


def _errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("provisioner:")]


def _earlier_output(outdir: Path) -> None:
    _QuickApp(outdir).synth()
    (outdir / "stacks" / "devops" / "cdk.tf.json").write_text('{"earlier": true}')


def test_synth_refuses_a_folder_that_is_not_an_earlier_output(tmp_path: Path, quick_app, capsys) -> None:
    folder = tmp_path / "d"
    folder.mkdir(mode=0o755)
    (folder / "notes.txt").write_text("important")
    assert _synth_cli(folder) == 2
    error = _errors(capsys)
    assert len(error) == 1 and str(folder) in error[0] and "not an earlier synth output" in error[0], error
    assert _fingerprint(folder) == {"notes.txt": b"important"}
    assert folder.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"], "no scratch folder left behind"


def test_synth_refuses_a_file(tmp_path: Path, quick_app, capsys) -> None:
    somefile = tmp_path / "somefile"
    somefile.write_text("important")
    assert _synth_cli(somefile) == 2
    error = _errors(capsys)
    assert len(error) == 1 and "is a file" in error[0], error
    assert somefile.read_text() == "important"


def test_synth_refuses_the_working_folder_even_when_empty(tmp_path: Path, quick_app, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert _synth_cli(".") == 2
    assert "working folder" in _errors(capsys)[0]
    assert list(tmp_path.iterdir()) == []


def test_synth_replaces_an_earlier_output_and_keeps_its_mode(tmp_path: Path, quick_app) -> None:
    outdir = tmp_path / "cdktf.out"
    outdir.mkdir(mode=0o750)
    outdir.chmod(0o750)
    _earlier_output(outdir)
    assert _synth_cli(outdir) == 0
    assert (outdir / "stacks" / "devops" / "cdk.tf.json").read_text() == '{"new": true}'
    assert outdir.stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_a_new_output_folder_gets_the_usual_mode(tmp_path: Path, quick_app) -> None:
    umask = os.umask(0o022)
    try:
        assert _synth_cli(tmp_path / "new" / "cdktf.out") == 0
    finally:
        os.umask(umask)
    assert (tmp_path / "new" / "cdktf.out").stat().st_mode & 0o777 == 0o755


def test_an_empty_folder_is_used(tmp_path: Path, quick_app) -> None:
    (tmp_path / "empty").mkdir()
    assert _synth_cli(tmp_path / "empty") == 0
    assert (tmp_path / "empty" / "manifest.json").is_file()


def test_a_swap_that_fails_leaves_the_earlier_output_and_its_terraform_files_whole(tmp_path: Path, quick_app, monkeypatch) -> None:
    outdir = tmp_path / "cdktf.out"
    _earlier_output(outdir)
    (outdir / "stacks" / "devops" / ".terraform").mkdir()
    (outdir / "stacks" / "devops" / ".terraform" / "terraform.tfstate").write_text("backend")
    (outdir / "stacks" / "devops" / "tfplan").write_text("saved plan")
    before = _fingerprint(outdir)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(app_module, "_exchange", interrupted)
    with pytest.raises(KeyboardInterrupt):
        app_module.synthesize(load(EXAMPLE_ENVIRONMENTS), outdir)
    assert _fingerprint(outdir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_the_swap_works_without_an_atomic_exchange_too(tmp_path: Path, quick_app, monkeypatch) -> None:
    """Where the system has no atomic exchange of two folders (macOS), two renames do it, signals held off."""
    outdir = tmp_path / "cdktf.out"
    _earlier_output(outdir)
    monkeypatch.setattr(app_module, "_RENAMEAT2", None)
    assert _synth_cli(outdir) == 0
    assert (outdir / "stacks" / "devops" / "cdk.tf.json").read_text() == '{"new": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_main_refuses_a_folder_that_is_not_an_earlier_output_on_one_line(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    (outdir / "notes.txt").write_text("important")
    result = _run_main(EXAMPLE_ENVIRONMENTS, outdir)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"provisioner: {outdir}: not empty and not an earlier synth output (no cdktf manifest.json and stacks/), and synthesis replaces its output folder whole: choose a new or empty folder"]
    assert (outdir / "notes.txt").read_text() == "important"


# --- scratch folders: an interrupted run removes its own; a later run removes those of runs killed outright ---


STALLED_WORKLOAD = REPO_ROOT / "tests" / "workloads" / "stalled.hcl"


def _scratch_folders(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".cdktf.out."))


@pytest.mark.parametrize(("signal_number", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_synth_removes_its_scratch_folder_and_keeps_the_earlier_output(tmp_path: Path, signal_number, exit_code) -> None:
    outdir = tmp_path / "cdktf.out"
    _earlier_output(outdir)
    before = _fingerprint(outdir)
    # The stalled workload writes the marker mid-synth and waits there: the signal finds the synth running.
    marker = tmp_path / "stalled"
    env = dict(os.environ, PROVISIONER_WORKLOAD=str(STALLED_WORKLOAD), **{STALLED_MARKER: str(marker)})
    process = subprocess.Popen(
        [sys.executable, "-m", "provisioner", "synth", "--environments", str(EXAMPLE_ENVIRONMENTS), "--output", str(outdir)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A test run started in the background inherits SIGINT ignored, and Python then keeps ignoring it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), f"the synth never reached the workload: {process.poll()=}"
    assert _scratch_folders(tmp_path), "the synth runs in its scratch folder"
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert _scratch_folders(tmp_path) == []
    assert _fingerprint(outdir) == before


def _gone_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_synth_removes_stale_scratch_folders_it_can_prove_are_its_own_and_unused(tmp_path: Path, quick_app) -> None:
    outdir = tmp_path / "cdktf.out"
    host = socket.gethostname()
    owners = {
        ".cdktf.out.killed": {"pid": _gone_pid(), "host": host},
        ".cdktf.out.running": {"pid": os.getpid(), "host": host},
        ".cdktf.out.elsewhere": {"pid": _gone_pid(), "host": host + "-another-machine"},
    }
    for name, owner in owners.items():
        (tmp_path / name / "output").mkdir(parents=True)
        (tmp_path / name / app_module.SCRATCH_OWNER).write_text(json.dumps(owner))
    (tmp_path / ".cdktf.out.unowned").mkdir()
    (tmp_path / ".cdktf.out.unowned" / "notes.txt").write_text("not the provisioner's")

    assert _synth_cli(outdir) == 0
    assert _scratch_folders(tmp_path) == [".cdktf.out.elsewhere", ".cdktf.out.running", ".cdktf.out.unowned"]
