"""Plain-text tables for command output: columns padded to their widest cell, no trailing spaces."""

from __future__ import annotations

from typing import Sequence


def table(rows: Sequence[Sequence[object]], indent: str = "") -> list[str]:
    """``rows[0]`` is the header; every row has the same number of cells."""
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]))]
    return [(indent + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths))).rstrip() for row in rows]
