"""Colour on a terminal: red for errors and failures, green for what passed or finished, yellow for skips.

Only when the stream is a terminal and ``NO_COLOR`` is unset or empty (https://no-color.org): output
that is piped, redirected, logged or read by CI stays plain text.
"""

from __future__ import annotations

import os
from typing import IO

RED = "31"
GREEN = "32"
YELLOW = "33"


def paint(text: str, colour: str, stream: IO[str]) -> str:
    """``text`` in ``colour`` when ``stream`` shows colour, else ``text`` unchanged."""
    if os.environ.get("NO_COLOR") or not stream.isatty():
        return text
    return f"\x1b[{colour}m{text}\x1b[0m"
