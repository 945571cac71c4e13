"""The metrics report as a self-contained HTML page with simple inline SVG charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TextIO

from rapport.exports import RULE_LABELS
from rapport.exports._pages import page_environment
from rapport.exports.call_sheet import printed_at
from rapport.metrics import OutreachReport

_ENV = page_environment()


def write_report_page(
    report: OutreachReport,
    out: TextIO,
    *,
    business: str,
    generated_at: dt.datetime,
    timezone: str = "UTC",
    labels: Mapping[str, str] = RULE_LABELS,
) -> None:
    """Write the page: a bar per rule (done, late, missed), then the service metrics.
    ``generated_at`` shows on the business's clock (``timezone``)."""
    largest = max([m.tasks for m in report.rules.values()] or [1]) or 1
    for chunk in _ENV.get_template("report.html.j2").generate(
        report=report,
        business=business,
        generated_at=printed_at(generated_at, timezone),
        labels=labels,
        largest=largest,
    ):
        out.write(chunk)
