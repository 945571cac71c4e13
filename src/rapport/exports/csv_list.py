"""The outreach list as CSV, for mail merges and spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from rapport._cells import defuse
from rapport.exports import CSV_COLUMNS, OutreachRow


def safe_cell(value: Any) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    return defuse(str(getattr(value, "value", value)))


def write_csv(rows: Iterable[OutreachRow], out: TextIO) -> int:
    """Write the rows with SPEC's columns; returns how many were written."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        values = row.csv_values()
        writer.writerow([safe_cell(values[column]) for column in CSV_COLUMNS])
        count += 1
    return count
