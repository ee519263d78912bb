"""Start, stop and inspect the local emulated AWS (a moto server on 127.0.0.1).

The running emulator is described by a record file (default ``.provisioner/local-aws.json``, which
``provisioner.configuration.target`` reads): ``{"endpoint": "http://127.0.0.1:PORT", "pid": ..., "port": ...,
"log": ...}``. Whoever starts the emulator writes the record before waiting for it to answer, so
``stop`` can always find the process; ``stop`` ends exactly that process (checked to be the
launcher, never a recycled pid) and removes the record. A record whose process is gone is stale:
``status`` and ``start`` say so and remove it.

Beside the record, the emulator's data directory (``pipeline_records.data_dir(record)``) holds the
local pipeline executions it serves. A freshly started emulator has none: ``start`` empties the
directory when it starts a new process; ``stop`` leaves it alone, so the records of the last run can
still be read.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from provisioner.configuration.target import LOCAL_AWS_FILE
from provisioner.errors import UserError
from provisioner.local_aws.pipeline_records import data_dir
from provisioner.paths import REPO_ROOT

HOST = "127.0.0.1"
LAUNCHER_MODULE = "provisioner.local_aws.launcher"
HEALTH_PATH = "/moto-api/"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Emulator:
    """A started emulator, as its record file describes it."""

    endpoint: str
    pid: int
    port: int
    log: str

    def describe(self) -> str:
        return f"{self.endpoint} (pid {self.pid}, log {self.log})"


@dataclass(frozen=True)
class Status:
    """What ``status`` found: a running emulator, a stale record, or nothing."""

    emulator: Emulator | None
    running: bool
    answering: bool = False


# --------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------
def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------------------------
# The record file
# --------------------------------------------------------------------------------------------
def read_record(record: Path = LOCAL_AWS_FILE) -> Emulator | None:
    """The emulator the record describes, or None when there is no (readable) record."""
    try:
        data = json.loads(Path(record).read_text())
        return Emulator(endpoint=data["endpoint"], pid=int(data["pid"]), port=int(data["port"]), log=str(data.get("log", "")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{record}: not written by `provisioner local-aws start`; delete it and start again") from None


def _write_record(record: Path, emulator: Emulator) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    scratch = record.with_name(record.name + ".tmp")
    scratch.write_text(json.dumps(asdict(emulator), indent=2) + "\n")
    os.replace(scratch, record)


# --------------------------------------------------------------------------------------------
# The process
# --------------------------------------------------------------------------------------------
def is_alive(pid: int) -> bool:
    """True while ``pid`` is a running emulator launcher (not a zombie, not a recycled pid)."""
    try:
        # Reaps the process if it is our own child that has exited, so it does not linger as a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: the pid was recycled
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return LAUNCHER_MODULE in cmdline.read_bytes().decode(errors="replace")
        except OSError:
            return False
    return True


def is_answering(endpoint: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def status(record: Path = LOCAL_AWS_FILE) -> Status:
    emulator = read_record(record)
    if emulator is None:
        return Status(None, running=False)
    if not is_alive(emulator.pid):
        return Status(emulator, running=False)
    return Status(emulator, running=True, answering=is_answering(emulator.endpoint))


def start(port: int | None = None, record: Path = LOCAL_AWS_FILE, timeout: float = START_TIMEOUT_SECONDS) -> tuple[Emulator, bool]:
    """Start the emulator (or find the running one); returns it and whether this call started it.

    Raises ``UserError`` when ``port`` is busy, when another emulator of this record runs on another
    port, or when the emulator does not answer within ``timeout`` (it is then stopped again).
    """
    record = Path(record)
    current = status(record)
    if current.running:
        assert current.emulator is not None
        if port is not None and port != current.emulator.port:
            raise UserError(
                f"the local AWS already runs at {current.emulator.endpoint}; stop it first (`provisioner local-aws stop`)"
            )
        return current.emulator, False
    if current.emulator is not None:
        record.unlink(missing_ok=True)  # stale: its process is gone
    if port is not None and not port_is_free(port):
        raise UserError(f"port {port} on {HOST} is in use: choose another with --port, or leave --port out to pick a free one")
    chosen = port if port is not None else free_port()
    log = record.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    data = data_dir(record)
    shutil.rmtree(data, ignore_errors=True)  # a new emulator has no pipelines, so no executions
    data.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("MOTO_ACCOUNT_ID", None)
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", LAUNCHER_MODULE, "--host", HOST, "--port", str(chosen), "--data-dir", str(data)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the user's terminal is for the provisioner, which stops it
        )
    emulator = Emulator(endpoint=f"http://{HOST}:{chosen}", pid=process.pid, port=chosen, log=str(log))
    _write_record(record, emulator)
    deadline = time.monotonic() + timeout
    while not is_answering(emulator.endpoint, timeout=1.0):
        if process.poll() is not None:
            record.unlink(missing_ok=True)
            raise UserError(f"the local AWS exited during start-up (exit {process.returncode}): {_tail(log)}")
        if time.monotonic() > deadline:
            stop(record)
            raise UserError(f"the local AWS did not answer at {emulator.endpoint} within {timeout:.0f} s; log: {log}")
        time.sleep(0.2)
    return emulator, True


EXIT_GRACE_SECONDS = 5.0


def stop(record: Path = LOCAL_AWS_FILE, timeout: float = STOP_TIMEOUT_SECONDS) -> Emulator | None:
    """Stop the emulator of ``record`` and remove the record; returns what was stopped (None: nothing ran)."""
    record = Path(record)
    emulator = read_record(record)
    if emulator is None:
        return None
    if is_alive(emulator.pid):
        _signal_group(emulator.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while is_alive(emulator.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if is_alive(emulator.pid):
            _signal_group(emulator.pid, signal.SIGKILL)
            while is_alive(emulator.pid):
                time.sleep(0.05)
        _until_exited(emulator.pid, deadline=time.monotonic() + EXIT_GRACE_SECONDS)
    record.unlink(missing_ok=True)
    return emulator


def _until_exited(pid: int, deadline: float) -> None:
    """Wait until ``pid`` has finished exiting: an exiting process already shows an empty command line
    (so ``is_alive`` says no) but may still hold its port for a moment."""
    stat = Path(f"/proc/{pid}/stat")
    while time.monotonic() < deadline:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        is_alive(pid)  # reaps it when it is our own child
        time.sleep(0.02)


@contextmanager
def running(port: int | None = None, record: Path = LOCAL_AWS_FILE) -> Iterator[Emulator]:
    """A fresh emulator (no resources, no executions) for the duration of the block, stopped however the block ends (Ctrl-C included)."""
    if status(record).running:
        stop(record)
    try:
        emulator, _ = start(port, record)
        yield emulator
    finally:
        stop(record)


def _signal_group(pid: int, signum: int) -> None:
    # The launcher leads its own session (start_new_session), so its group holds only it and its threads.
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"see {log}"
    return " | ".join(text[-lines:]) or f"no output (see {log})"
