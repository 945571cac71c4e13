"""The printable call sheet and card-writing list (HTML).

One section per owner; each task shows the customer's name, how to reach them, the
reason, the talking points and the draft message. Self-contained: inline CSS, no
external assets, so it works offline and prints cleanly on A4 and Letter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import TextIO

import jinja2

from rapport.config import Settings
from rapport.exports import RULE_LABELS, OutreachRow

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("rapport.exports", "."),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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
        as_of=as_of,
        generated_at=generated_at,
        owners=owners,
        labels=labels,
        total=count,
    ):
        out.write(chunk)
    return count
