"""The outreach list as one JSON array, for another system."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from rapport.exports import CSV_COLUMNS, OutreachRow

_KEYS = set(CSV_COLUMNS)


def write_json(rows: Iterable[OutreachRow], out: TextIO) -> int:
    """Write a JSON array of objects with the CSV columns as keys (``talking_points`` as a
    list), streaming one object at a time; returns how many were written."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(row.model_dump(mode="json", include=_KEYS), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
