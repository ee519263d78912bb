"""Multi-step commands (``bootstrap-state``, the demo): one progress line per step, tool output in logs.

Each step prints ``==> <title>`` when it starts and ``    ok (<seconds> s)`` when it ends. The
output of the tools a step runs (terraform, cdktf) goes to a log file per step; the user sees the
lines that matter (terraform's plan and apply verdicts) and, during long silences, a heartbeat with
the latest line. A failing step prints the tail of its tool's output and raises ``StepFailed``,
whose one-line message names the step and the full log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as all_done
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator, Mapping, Sequence, TypeVar

from provisioner.colour import GREEN, RED, paint
from provisioner.errors import UserError
from provisioner.operations import state_lock
from provisioner.runtime import prepare_environment

TAIL_LINES = 25
HEARTBEAT_SECONDS = 30.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Terraform's verdicts: worth showing while the step runs.
# cdktf's periodic progress line says nothing a heartbeat should repeat.
NOT_NEWS = re.compile(r"^\d+ Stacks? deploying")
SHOWN = re.compile(r"(^|\s)(Plan: \d|No changes\.|Apply complete!|Error: )")
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def at_a_time(count: int, jobs: int, noun: str) -> str:
    """``3 workload stacks, 2 at a time`` (``1 workload stack``): what a side-by-side step works on."""
    return f"{count} {noun}s, {min(jobs, count)} at a time" if count != 1 else f"1 {noun}"


class StepFailed(UserError):
    """A step's tool failed; the message names the step, the exit code and the full log."""


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str
    """Standard output (and standard error, unless standard output went to a file)."""
    seconds: float


def tool_environment(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """Environment for terraform and cdktf: the project's CLI config, no telemetry, no prompts, a shared
    provider cache (the one cdktf uses), so each stack folder links the 600 MB provider instead of copying it."""
    env = prepare_environment(dict(os.environ if base is None else base))
    env.update(overrides)
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    cache = Path(env.setdefault("TF_PLUGIN_CACHE_DIR", str(Path.home() / ".terraform.d" / "plugin-cache")))
    cache.mkdir(parents=True, exist_ok=True)
    return env


class Progress:
    """Prints steps and runs their tools, logging each tool's output under ``log_dir``."""

    def __init__(self, log_dir: Path, out: IO[str] | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.out = out or sys.stdout
        self.count = 0
        self._lock = threading.Lock()
        """Guards the output (a line is said whole), the tools running and the interruption."""
        self._tools: set[subprocess.Popen] = set()
        self._interrupted = False
        """Set while an interrupted ``side_by_side`` winds down: no new tool starts."""

    def say(self, line: str = "") -> None:
        """Print ``line`` (one or more lines) whole: tools run side by side never split each other's lines."""
        with self._lock:
            self.out.write(f"{line}\n")
            self.out.flush()

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.count += 1
        self.say(f"==> {title}")
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self.say("    " + paint(f"FAILED after {time.monotonic() - started:.1f} s", RED, self.out))
            raise
        self.say("    " + paint(f"ok ({time.monotonic() - started:.1f} s)", GREEN, self.out))

    def run(
        self,
        title: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout_path: Path | None = None,
        accept: Sequence[int] = (0,),
        quiet: bool = False,
        label: str = "",
    ) -> Result:
        """Run ``argv`` as part of the current step; raise ``StepFailed`` unless its exit code is in ``accept``.

        ``quiet``: no verdict lines and no heartbeat. ``label``: what the verdict and heartbeat lines start
        with (``workload-dev: No changes.``), so that tools run side by side can still be told apart.
        """
        shown = f"    {label}: " if label else "    "
        if self._interrupted:
            raise StepFailed(f'step "{title}": not started, the run was interrupted')
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{self.count:02d}-{_slug(title)}.log"
        started = time.monotonic()
        with open(log, "w") as log_file:
            log_file.write(f"$ (cd {cwd} && {' '.join(argv)})\n")
            log_file.flush()
            stdout = open(stdout_path, "w") if stdout_path else None
            try:
                process = subprocess.Popen(
                    list(argv),
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=stdout or subprocess.PIPE,
                    stderr=subprocess.PIPE if stdout else subprocess.STDOUT,
                    text=True,
                    errors="replace",
                )
            except FileNotFoundError:
                if stdout:
                    stdout.close()
                raise StepFailed(f'step "{title}": {argv[0]} not found; run `make setup`') from None
            lines: list[str] = []
            stream = process.stderr if stdout else process.stdout
            reader = threading.Thread(target=self._read, args=(stream, log_file, lines, None if quiet else shown, label), daemon=True)
            reader.start()
            with self._lock:
                self._tools.add(process)
                if self._interrupted:  # interrupted while it started: it was not among the tools told to stop
                    process.send_signal(signal.SIGINT)
            try:
                last_beat = started
                while process.poll() is None:
                    reader.join(timeout=1.0)
                    now = time.monotonic()
                    if not quiet and now - last_beat >= HEARTBEAT_SECONDS:
                        last_beat = now
                        news = [line.strip() for line in lines if line.strip() and not NOT_NEWS.match(line.strip())]
                        latest = news[-1] if news else "(no output yet)"
                        self.say(f"{shown}... {now - started:.0f} s: {latest[:110]}")
                reader.join()
            finally:
                with self._lock:
                    self._tools.discard(process)
                if process.poll() is None:
                    process.kill()
                    process.wait()
                if stdout:
                    stdout.close()
        result = Result(process.returncode, "".join(lines), time.monotonic() - started)
        if result.returncode not in accept:
            tail = "\n".join(f"{shown}| {line}" for line in _tail(lines))
            self.say(f"{shown}{argv[0]} exited {result.returncode}; last lines of its output:\n{tail}")
            held = state_lock.lock_in_terraform_error(result.output)
            if held is not None:
                raise StepFailed(f'step "{title}" failed: {state_lock.recovery(held)}; full output: {log}')
            raise StepFailed(f'step "{title}" failed (exit {result.returncode}); full output: {log}')
        return result

    def side_by_side(self, work: Callable[[Item], Outcome], items: Sequence[Item], jobs: int) -> list[Outcome]:
        """``work(item)`` for each of ``items``, at most ``jobs`` at a time; the outcomes in the items' order.

        Every item runs to its end even when another fails (each failure is worth seeing, and the tools
        run here are plans that write nothing); then the first failure in the items' order is raised.
        Interrupted (Ctrl-C, SIGTERM raised as an exception), every tool still running is sent SIGINT, which
        terraform takes as "stop now and release what you hold", no further tool starts (an item's next
        step fails), and the interruption goes on once they ended.
        """
        pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(items))))
        futures = [pool.submit(work, item) for item in items]
        try:
            all_done(futures)
        except BaseException:
            with self._lock:
                self._interrupted = True
                running = list(self._tools)
            for process in running:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            with self._lock:
                self._interrupted = False
        return [future.result() for future in futures]

    def _read(self, stream: IO[str], log_file: IO[str], lines: list[str], shown: str | None, label: str) -> None:
        for raw in stream:
            line = ANSI.sub("", raw).replace("\r", "")
            log_file.write(line)
            log_file.flush()
            lines.append(line)
            text = line.strip()
            if shown is not None and SHOWN.search(text):
                # cdktf starts its lines with the stack's name: said once is enough.
                self.say(f"{shown}{text.removeprefix(label).lstrip() if label else text}")


def _tail(lines: list[str]) -> list[str]:
    meaningful = [line.rstrip() for line in lines if line.strip()]
    return meaningful[-TAIL_LINES:] or ["(no output)"]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "step"
