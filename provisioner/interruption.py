"""SIGTERM stops a run as Ctrl-C does: as an exception raised where the program is.

Python's default for SIGTERM ends the process at once, so no ``finally`` runs: scratch folders and
child processes would be left behind. Raised as ``Terminated``, it unwinds through every cleanup first.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator

TERMINATED_EXIT_CODE = 128 + signal.SIGTERM


class Terminated(BaseException):
    """The process received SIGTERM (a ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` swallows it)."""


def _raise_terminated(signal_number: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
