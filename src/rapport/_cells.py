"""CSV cells a spreadsheet will not run, and files that are replaced whole.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. rapport writes such a cell with a leading apostrophe (which
spreadsheets show as "text"), and an import reads the apostrophe away again: what
:func:`defuse` writes, :func:`undefuse` reads back exactly, so a file rapport wrote can
be imported as it is. One apostrophe is read away only before apostrophes and a formula
start, so a cell that really begins with an apostrophe and a formula start (``'=x``) is
written with one more (``''=x``) and still comes back as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

#: A spreadsheet would run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_STARTS = "[" + re.escape("".join(FORMULA_STARTS)) + "]"
_WOULD_RUN = re.compile("'*" + _STARTS)
_DEFUSED = re.compile("'+" + _STARTS)


def defuse(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it (or when an
    import would read an apostrophe of its own away)."""
    return "'" + text if _WOULD_RUN.match(text) else text


def undefuse(text: str) -> str:
    """The cell :func:`defuse` was given: one leading apostrophe before apostrophes and a
    formula start is read away; any other cell is returned as it is."""
    return text[1:] if _DEFUSED.match(text) else text


@contextmanager
def replaced_whole(path: Path, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """A text file that replaces ``path`` only when the ``with`` block ends without an
    error: the text goes to a hidden file beside it (``.NAME.partial``), renamed over
    ``path`` at the end. A run that fails or is killed half-way leaves what was there."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding=encoding, newline="") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
