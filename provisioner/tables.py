"""Plain-text tables for command output: columns padded to their widest cell, no trailing spaces.

A table fits ``MAX_WIDTH`` columns, so it reads in a usual terminal and in a CI log without lines
running off or wrapping mid-column: when it would be wider, the widest text columns are narrowed and
their cells continue on the next lines (never cut: a fix or an ARN is read whole).
"""

from __future__ import annotations

import re
import textwrap
from typing import Sequence

MAX_WIDTH = 100
MIN_WRAPPED_WIDTH = 8
"""Narrower than this, a column would hold a word or two a line: the table runs wider instead."""
GAP = "  "
_WORD_PIECES = re.compile(r"[^/:]*[/:]+|[^/:]+")


def table(
    rows: Sequence[Sequence[object]], indent: str = "", *, right_align_numbers: bool = False, keep_whole: Sequence[int] = ()
) -> list[str]:
    """``rows[0]`` is the header; every row has the same number of cells.

    ``right_align_numbers``: columns whose body cells are all ints or dollar amounts align right (and never wrap).
    ``keep_whole``: columns never wrapped, such as identifiers a reader copies.
    """
    cells = [[str(cell) for cell in row] for row in rows]
    columns = range(len(rows[0]))
    widths = [max(len(row[column]) for row in cells) for column in columns]
    right = [
        right_align_numbers and all(isinstance(row[column], int) or str(row[column]).startswith("$") for row in rows[1:])
        for column in columns
    ]
    longest_words = [max(len(word) for row in cells for word in row[column].split() or [""]) for column in columns]
    room = MAX_WIDTH - len(indent) - len(GAP) * (len(widths) - 1)
    # Narrow the widest column first: down to its longest word, so words stay whole; then, if that is not
    # enough, further (long words break after their / and :).
    for floor in (lambda column: max(longest_words[column], MIN_WRAPPED_WIDTH), lambda column: MIN_WRAPPED_WIDTH):
        while sum(widths) > room:
            narrowable = [column for column in columns if not right[column] and column not in keep_whole and widths[column] > floor(column)]
            if not narrowable:
                break
            widths[max(narrowable, key=lambda column: widths[column])] -= 1
    lines = []
    for row in cells:
        wrapped = [_wrap(cell, width) for cell, width in zip(row, widths)]
        for index in range(max(len(parts) for parts in wrapped)):
            parts = [part[index] if index < len(part) else "" for part in wrapped]
            padded = (part.rjust(width) if r else part.ljust(width) for part, width, r in zip(parts, widths, right))
            lines.append((indent + GAP.join(padded)).rstrip())
    return lines


def _wrap(cell: str, width: int) -> list[str]:
    """``cell`` in lines of at most ``width``: at spaces, and a word longer than a line (an ARN, a path)
    after its ``/`` and ``:``, else anywhere."""
    if len(cell) <= width:
        return [cell]
    lines = [""]
    for word in cell.split():
        pieces = [word]
        if len(word) > width:
            pieces = [chunk for piece in _WORD_PIECES.findall(word) for chunk in textwrap.wrap(piece, width, break_long_words=True)]
        for number, piece in enumerate(pieces):
            separator = " " if number == 0 and lines[-1] else ""  # the pieces of one word join without a space
            if len(lines[-1]) + len(separator) + len(piece) <= width:
                lines[-1] += separator + piece
            else:
                lines.append(piece)
    return lines
