"""Plain-text tables for command output: columns padded to their widest cell, no trailing spaces."""

from __future__ import annotations

from typing import Sequence


def table(rows: Sequence[Sequence[object]], indent: str = "", *, right_align_numbers: bool = False) -> list[str]:
    """``rows[0]`` is the header; every row has the same number of cells.

    ``right_align_numbers``: columns whose body cells are all ints or dollar amounts align right.
    """
    columns = range(len(rows[0]))
    widths = [max(len(str(row[column])) for row in rows) for column in columns]
    right = [
        right_align_numbers and all(isinstance(row[column], int) or str(row[column]).startswith("$") for row in rows[1:])
        for column in columns
    ]
    return [
        (indent + "  ".join(str(cell).rjust(w) if r else str(cell).ljust(w) for cell, w, r in zip(row, widths, right))).rstrip()
        for row in rows
    ]
