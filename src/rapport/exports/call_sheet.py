"""The printable call sheet and card-writing list (HTML).

First a one-line-per-task list (a box to tick, who, how to reach them, why), then one
section per owner where each task shows the talking points and the draft message.
Self-contained: inline CSS, no external assets, so it works offline. Printed, it fits
several tasks a page on A4 and Letter (tests/test_printing.py prints it with Chromium).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import TextIO

from rapport.config import Settings
from rapport.exports import RULE_LABELS, OutreachRow
from rapport.exports._pages import page_environment

_ENV = page_environment()


def write_call_sheet(
    rows: Iterable[OutreachRow],
    out: TextIO,
    *,
    settings: Settings,
    as_of: dt.date,
    generated_at: dt.datetime,
    labels: Mapping[str, str] = RULE_LABELS,
) -> int:
    """Write the HTML sheet; returns how many tasks it lists. ``labels``: each rule's
    name for staff (see :func:`~rapport.exports.rule_labels`)."""
    count = 0
    owners = []
    for owner, tasks in groupby(rows, key=lambda row: row.owner):
        listed = list(tasks)
        count += len(listed)
        owners.append((owner, listed))
    template = _ENV.get_template("call_sheet.html.j2")
    for chunk in template.generate(
        business=settings.business.name,
        language=settings.business.language,
        as_of=as_of,
        printed_at=printed_at(generated_at, settings.business.timezone),
        owners=owners,
        labels=labels,
        total=count,
    ):
        out.write(chunk)
    return count


def printed_at(moment: dt.datetime, timezone: str) -> str:
    """When the sheet was made, on the business's clock (``2026-11-23 09:00 EET``)."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or timezone}"


def reach_label(row: OutreachRow) -> str:
    """What :func:`reach` gives for the task's channel: phone, address or email."""
    if row.channel in {"phone", "sms"}:
        return "Phone"
    if row.channel == "mail":
        return "Address"
    return "Email" if row.channel == "email" else ""


def reach(row: OutreachRow) -> str:
    """How to reach the customer on the task's channel, on one line ("—" if unknown)."""
    if row.channel in {"phone", "sms"}:
        return row.phone or "—"
    if row.channel == "mail":
        return ", ".join(row.address_lines) or "—"
    if row.channel == "email":
        return row.email or "—"
    return ""


_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def paragraphs(message: str) -> list[str]:
    """A draft's paragraphs (split at blank lines): printed with small gaps instead of
    whole empty lines, so a card's words take little paper."""
    return [part.strip("\n") for part in _BLANK_LINES.split(message) if part.strip()]


_ENV.globals.update(reach=reach, reach_label=reach_label, paragraphs=paragraphs)
