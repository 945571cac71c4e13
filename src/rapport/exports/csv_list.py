"""The outreach list as CSV, for mail merges and spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from rapport.exports import CSV_COLUMNS, OutreachRow

#: A spreadsheet would run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    text = str(getattr(value, "value", value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
