"""Where the app's entry point (``main.py``) reports configuration errors, so that each is shown once.

The cdktf CLI runs the app with its output captured: it echoes every line the app writes to stderr
as it arrives, then prints the whole of it again when the app exits non-zero. Under the CLI the
errors therefore go to the CLI's own stderr, which nothing captures twice.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from typing import Iterator, Mapping, TextIO

UNDER_CDKTF_CLI = "CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS"
"""Set by the cdktf CLI for the app it synthesizes (and by nothing else that runs ``main.py``)."""
SHELLS_BETWEEN = 3
"""The CLI runs the app command through ``sh -c``; a wrapper script or two may sit in between too."""


@contextlib.contextmanager
def error_stream(environ: Mapping[str, str]) -> Iterator[TextIO]:
    """The app's stderr, or under the cdktf CLI the CLI's own stderr when it is a terminal or a pipe.

    A stderr redirected to a file is left alone: a second writer would start at its own offset, and
    the CLI would overwrite the errors. Without ``/proc`` (macOS) the CLI shows the errors twice.
    """
    path = _capturing_process_stderr() if UNDER_CDKTF_CLI in environ else None
    try:
        stream = open(path, "w", encoding="utf-8") if path and not stat.S_ISREG(os.stat(path).st_mode) else None  # noqa: SIM115
    except OSError:
        stream = None
    if stream is None:
        yield sys.stderr
        return
    with stream:
        yield stream


def _capturing_process_stderr() -> str | None:
    """``/proc/<pid>/fd/2`` of the nearest ancestor whose stderr is not this process's: the one that reads ours."""
    try:
        own = os.readlink("/proc/self/fd/2")
        pid = os.getpid()
        for _ in range(1 + SHELLS_BETWEEN):
            pid = _parent_of(pid)
            if pid <= 1:
                return None
            if os.readlink(f"/proc/{pid}/fd/2") != own:
                return f"/proc/{pid}/fd/2"
    except (OSError, ValueError):
        return None
    return None


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat_file:
        # "<pid> (<command>) <state> <ppid> ...": the command may hold spaces and parentheses
        return int(stat_file.read().rsplit(")", 1)[1].split()[1])
