"""The staff's load as a self-contained HTML page a manager reads at a glance: a grid of
people by days, each cell a bar per kind of task filled in proportion to the day's
capacity, and the backlog waiting for room below it.

:func:`kind_loads` is shared with the ``rapport staff`` table, so both say the same
thing about a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

from rapport.exports import RULE_LABELS
from rapport.exports._pages import page_environment
from rapport.exports.call_sheet import printed_at
from rapport.staffing import DayLoad, StaffLoad

_ENV = page_environment()

#: How full a kind is on a day: room left, exactly full, or past capacity.
Fill = Literal["", "full", "over"]
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class KindLoad:
    """One kind of task on one person's day: how many are due against the limit."""

    kind: str
    due: int
    #: None: the person has no limit for this kind.
    capacity: int | None

    @property
    def fill(self) -> Fill:
        if self.capacity is None:
            return ""
        if self.due > self.capacity:
            return "over"
        return "full" if self.due == self.capacity and self.capacity > 0 else ""

    @property
    def percent(self) -> int:
        """The bar's length: the share of the capacity taken, at most 100."""
        if self.capacity is None:
            return 0
        if self.capacity == 0:
            return 100 if self.due else 0
        return min(100, round(100 * self.due / self.capacity))

    def __str__(self) -> str:
        """``call 7/10``, or ``note 3`` for a kind without a limit."""
        limit = "" if self.capacity is None else f"/{self.capacity}"
        return f"{self.kind} {self.due}{limit}"


def kind_loads(day: DayLoad) -> list[KindLoad]:
    """The kinds worth showing on ``day``: on a working day each kind the person has a
    room for (``call 0/2`` says there is room), then kinds due without a limit; on a day
    off only what is due anyway (service tasks may fall on it)."""
    shown = [
        KindLoad(kind, day.due.get(kind, 0), limit)
        for kind, limit in day.capacity.items()
        if day.due.get(kind, 0) or (day.working and limit > 0)
    ]
    shown += [
        KindLoad(kind, count, None)
        for kind, count in sorted(day.due.items())
        if kind not in day.capacity and count
    ]
    return shown


def day_fill(kinds: list[KindLoad]) -> Fill:
    """The day's flag: over when any kind is past capacity, else full when any is full."""
    fills = {kind.fill for kind in kinds}
    return "over" if "over" in fills else "full" if "full" in fills else ""


def weekday_name(day: dt.date) -> str:
    """``Mon``: the names are written here, so the page does not depend on the locale."""
    return _WEEKDAY_NAMES[day.weekday()]


@dataclass(frozen=True, slots=True)
class _Cell:
    day: dt.date
    working: bool
    kinds: list[KindLoad]
    fill: Fill


def write_staff_page(
    load: StaffLoad,
    out: TextIO,
    *,
    business: str,
    generated_at: dt.datetime,
    timezone: str = "UTC",
    labels: Mapping[str, str] = RULE_LABELS,
) -> None:
    """Write the page: a grid per seven days (people down, days across), then the
    backlog per rule and the tasks due to nobody on staff. ``generated_at`` shows on the
    business's clock (``timezone``)."""
    days = [load.start + dt.timedelta(days=n) for n in range(load.days)]
    rows = []
    for person in load.staff:
        cells = []
        for day in person.days:
            kinds = kind_loads(day)
            cells.append(_Cell(day.day, day.working, kinds, day_fill(kinds)))
        rows.append((person, cells))
    # Seven days to a table, so a long range wraps instead of running off the page.
    weeks = [
        (days[first : first + 7], [(person, cells[first : first + 7]) for person, cells in rows])
        for first in range(0, len(days), 7)
    ]
    fills = [cell.fill for _, cells in rows for cell in cells]
    largest = max(load.waiting.values(), default=0) or 1
    for chunk in _ENV.get_template("staff.html.j2").generate(
        load=load,
        last=days[-1],
        weeks=weeks,
        full_days=fills.count("full"),
        over_days=fills.count("over"),
        waiting_total=sum(load.waiting.values()),
        largest=largest,
        business=business,
        generated_at=printed_at(generated_at, timezone),
        labels=labels,
        weekday_name=weekday_name,
    ):
        out.write(chunk)
