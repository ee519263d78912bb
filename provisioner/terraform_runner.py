"""Run terraform (and other tools) as one named step: progress on start, the output's tail on failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from provisioner.errors import UserError
from provisioner.runtime import prepare_environment

TAIL_LINES = 25


class StepFailed(UserError):
    """A tool failed; the message names the step and ends with the tail of its output."""

    def __init__(self, step: str, returncode: int, output: str) -> None:
        tail = "\n".join(output.strip().splitlines()[-TAIL_LINES:])
        super().__init__(f"step '{step}' failed (exit {returncode}); last lines of its output:\n{tail}", exit_code=1)
        self.step = step
        self.returncode = returncode


def run_step(step: str, command: Sequence[str], cwd: Path, *, env: dict[str, str] | None = None, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd``, printing ``step`` and its duration; raise StepFailed otherwise."""
    environment = dict(prepare_environment(dict(os.environ if env is None else env)))
    environment.setdefault("TF_IN_AUTOMATION", "1")
    print(f"==> {step}", file=sys.stderr, flush=True)
    started = time.monotonic()
    result = subprocess.run(list(command), cwd=cwd, env=environment, capture_output=True, text=True, check=False)
    if result.returncode not in ok_codes:
        raise StepFailed(step, result.returncode, result.stdout + result.stderr)
    print(f"    done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return result
