"""Process environment for the CDK framework and terraform: quiet, no telemetry, project CLI config."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from provisioner.paths import NODE_BIN, REPO_ROOT, STATE_DIR, TERRAFORM_RC

ENV_SCRIPT = STATE_DIR / "env.sh"


@functools.cache
def node_major_version() -> str | None:
    """Node.js's major version, asked once per process (every synth and tool run needs it)."""
    node = shutil.which("node")
    if node is None:
        return None
    result = subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def prepare_environment(env: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str] | os._Environ[str]:
    """Set what every run needs (before importing cdktf); the user's own jsii and telemetry settings win."""
    env.setdefault("CHECKPOINT_DISABLE", "1")
    if "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in env and (major := node_major_version()):
        # jsii prints a large end-of-life banner for old Node.js releases on every run.
        env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = major
    if TERRAFORM_RC.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(TERRAFORM_RC)  # the project's scripts never read ~/.terraformrc
    path = env.get("PATH", "")
    if not path.startswith(f"{NODE_BIN}{os.pathsep}"):
        env["PATH"] = os.pathsep.join([str(NODE_BIN), path])
    return env


def write_if_changed(target: Path, text: str) -> bool:
    """Replace ``target`` atomically with ``text``; False (and no write) when it already holds it."""
    if target.exists() and target.read_text() == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(".tmp")
    scratch.write_text(text)
    os.replace(scratch, target)
    return True


def write_env_script() -> bool:
    """``.provisioner/env.sh``: ``source`` it to run ``cdktf`` and ``terraform`` by hand as the scripts do."""
    major = node_major_version()
    lines = [
        "# Written by `make setup`. Usage: source .provisioner/env.sh",
        f'export TF_CLI_CONFIG_FILE="{TERRAFORM_RC}"',
        "export CHECKPOINT_DISABLE=1",
        *([f"export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION={major}"] if major else []),
        f'export PATH="{NODE_BIN}:{REPO_ROOT / ".venv" / "bin"}:$PATH"',
    ]
    return write_if_changed(ENV_SCRIPT, "\n".join(lines) + "\n")


def exit_promptly(code: int) -> NoReturn:
    """End a finished run now: flush the output, run the exit handlers, and skip the interpreter's teardown.

    The exit handlers are what must happen (the jsii runtime stops its Node.js process, which removes its
    temporary folder, and deletes its own temporary files). The teardown that follows frees every object
    of every module one by one: with the provider's resource classes loaded, about 0.1 s after the last
    file is written, for a process that is ending anyway. Only for a whole run (``main.py``), never for a
    library call: nothing may run after it.
    """
    _flush_output()
    atexit._run_exitfuncs()  # what sys.exit would run, in the same order
    _flush_output()
    os._exit(code)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or the reader went away: nothing left to deliver
            pass
