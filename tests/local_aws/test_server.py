"""``provisioner local-aws start|stop|status``: free and fixed ports, a busy port, stale records, no orphans.

Each test starts a real emulator process (about a second) with its record file in a temporary
folder, so the user's own ``.provisioner/local-aws.json`` is never touched.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.errors import UserError
from provisioner.local_aws import server
from provisioner.local_aws.pipeline_records import PipelineRecords, data_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


def process_gone(pid: int) -> bool:
    """No such process, or only its exit status left for its parent to collect (a zombie runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_record(record: Path, pid: int, port: int = 1) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"endpoint": f"http://127.0.0.1:{port}", "pid": pid, "port": port, "log": "x.log"}))


@pytest.fixture
def record(tmp_path: Path):
    path = tmp_path / ".provisioner" / "local-aws.json"
    yield path
    server.stop(path)


# --- the functions ----------------------------------------------------------------------------------
def test_start_picks_a_free_port_writes_the_record_and_answers(record: Path) -> None:
    emulator, started = server.start(record=record)
    assert started
    assert json.loads(record.read_text()) == {
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "pid": emulator.pid,
        "port": emulator.port,
        "log": str(record.with_suffix(".log")),
    }
    assert server.is_answering(emulator.endpoint)
    assert "compat: " in record.with_suffix(".log").read_text(), "the launcher lists the compatibility patches"
    status = server.status(record)
    assert status.running and status.answering and status.emulator == emulator


def test_start_again_finds_the_running_emulator(record: Path) -> None:
    first, _ = server.start(record=record)
    again, started = server.start(record=record)
    assert (again, started) == (first, False)
    with pytest.raises(UserError, match="already runs at"):
        server.start(port=server.free_port(), record=record)


def test_start_on_a_given_port(record: Path) -> None:
    port = server.free_port()
    emulator, _ = server.start(port=port, record=record)
    assert emulator.endpoint == f"http://127.0.0.1:{port}"


def test_a_busy_port_is_refused_with_one_clear_line(record: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError) as raised:
            server.start(port=port, record=record)
    assert str(raised.value) == (
        f"port {port} on 127.0.0.1 is in use: choose another with --port, or leave --port out to pick a free one"
    )
    assert not record.exists()


def test_stop_ends_the_process_and_removes_the_record(record: Path) -> None:
    emulator, _ = server.start(record=record)
    assert server.stop(record) == emulator
    assert not record.exists()
    assert process_gone(emulator.pid)
    assert server.stop(record) is None, "stopping twice is fine"


def test_the_emulator_serves_its_data_directory_which_a_fresh_start_empties(record: Path) -> None:
    folder = data_dir(record)
    left_over = PipelineRecords(folder, "123456789012", "us-east-1", "demo-delivery")
    left_over.request_start([], [], {"triggerType": "StartPipelineExecution", "triggerDetail": ""})
    emulator, _ = server.start(record=record)
    assert Path(f"/proc/{emulator.pid}/cmdline").read_bytes().split(b"\0")[-3:-1] == [b"--data-dir", str(folder).encode()]
    assert folder.is_dir() and not any(folder.iterdir()), "a new emulator has no executions"
    kept = PipelineRecords(folder, "123456789012", "us-east-1", "demo-delivery")
    execution_id = kept.request_start([], [], {"triggerType": "StartPipelineExecution", "triggerDetail": ""})
    assert server.start(record=record) == (emulator, False)
    server.stop(record)
    assert [start["pipelineExecutionId"] for start in kept.pending_starts()] == [execution_id], "stop and a second start keep the records"


def test_a_record_whose_process_is_gone_is_stale(record: Path) -> None:
    pid = dead_pid()
    write_record(record, pid)
    status = server.status(record)
    assert status.emulator is not None and status.emulator.pid == pid and not status.running
    emulator, started = server.start(record=record)
    assert started and emulator.pid != pid


def test_a_recycled_pid_is_never_signalled(record: Path) -> None:
    write_record(record, os.getpid())  # a live process that is not the emulator: this test run
    assert not server.status(record).running
    server.stop(record)
    assert not record.exists()  # and this process is still here to check it


def test_running_stops_the_emulator_however_the_block_ends(record: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with server.running(record=record) as emulator:
            assert server.is_answering(emulator.endpoint)
            raise KeyboardInterrupt
    assert process_gone(emulator.pid)
    assert not record.exists()


def test_an_unreadable_record_is_reported(record: Path) -> None:
    record.parent.mkdir(parents=True)
    record.write_text("not json")
    with pytest.raises(UserError, match="not written by `provisioner local-aws start`"):
        server.status(record)
    record.unlink()


# --- the command line -----------------------------------------------------------------------------
def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "local-aws", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PROVISIONER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_cli_start_status_stop(tmp_path: Path) -> None:
    record = tmp_path / ".provisioner" / "local-aws.json"
    try:
        started = cli(tmp_path, "start")
        assert started.returncode == 0, started.stderr
        emulator = server.read_record(record)
        assert emulator is not None
        assert started.stdout.startswith(f"local AWS started {emulator.endpoint} (pid {emulator.pid}")
        status = cli(tmp_path, "status")
        assert (status.returncode, status.stdout.split(" (")[0]) == (0, f"local AWS is running at {emulator.endpoint}")
        stopped = cli(tmp_path, "stop")
        assert (stopped.returncode, stopped.stdout) == (0, f"local AWS stopped (was {emulator.endpoint}, pid {emulator.pid})\n")
        assert process_gone(emulator.pid), "stop leaves no orphan"
        assert not record.exists()
        after = cli(tmp_path, "status")
        assert (after.returncode, after.stdout) == (1, "local AWS is not running\n")
    finally:
        server.stop(record)


def test_cli_busy_port_is_one_line_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(tmp_path, "start", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"provisioner: port {port} on 127.0.0.1 is in use: choose another with --port, or leave --port out to pick a free one\n"


def test_cli_status_removes_a_stale_record(tmp_path: Path) -> None:
    record = tmp_path / ".provisioner" / "local-aws.json"
    pid = dead_pid()
    write_record(record, pid)
    result = cli(tmp_path, "status")
    assert result.returncode == 1
    assert result.stdout == f"local AWS is not running: removed a stale {record} (its pid {pid} is gone)\n"
    assert not record.exists()
