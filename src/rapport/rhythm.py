"""A regular customer's rhythm, from their purchases: usual item, usual days, usual gap.

Pure functions on plain values, so the call sheet, profiles and the rules that notice a
broken rhythm all agree on what "usual" means.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: A weekday is "usual" when at least this share of visits fell on it.
USUAL_DAY_SHARE = 0.3


@dataclass(frozen=True)
class Visit:
    """One purchase, as far as the rhythm cares: when, and what."""

    day: dt.date
    item: str | None


@dataclass(frozen=True)
class Rhythm:
    """How a customer usually buys; every field is None when there is too little history."""

    visits: int
    usual_item: str | None
    usual_weekdays: tuple[int, ...]  # Monday = 0
    median_gap_days: float | None


def rhythm_of(visits: Sequence[Visit], *, min_visits: int = 3) -> Rhythm:
    """The rhythm of these visits (any order).

    The usual item is the most frequent description (the latest wins a tie); usual
    weekdays are those with at least 30% of the visits; the gap is the median number of
    days between consecutive visiting days. Fewer than ``min_visits`` visits say nothing.
    """
    ordered = sorted(visits, key=lambda v: v.day)
    if len(ordered) < min_visits:
        return Rhythm(len(ordered), None, (), None)
    items = Counter(v.item for v in ordered if v.item)
    usual_item = None
    if items:
        top = max(items.values())
        usual_item = next(v.item for v in reversed(ordered) if v.item and items[v.item] == top)
    weekdays = Counter(v.day.weekday() for v in ordered)
    usual_days = tuple(
        sorted(day for day, n in weekdays.items() if n / len(ordered) >= USUAL_DAY_SHARE)
    )
    return Rhythm(
        visits=len(ordered),
        usual_item=usual_item,
        usual_weekdays=usual_days,
        median_gap_days=median_gap(ordered),
    )


def median_gap(visits: Sequence[Visit]) -> float | None:
    """The median number of days between consecutive visiting days, or None for fewer
    than two visiting days."""
    days = sorted({v.day for v in visits})
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    return float(statistics.median(gaps)) if gaps else None


#: Purchases in this many days up to a regular's last one make their rhythm.
RHYTHM_WINDOW_DAYS = 730
#: A lapse this long after the last purchase is no longer a broken rhythm.
LONGEST_LAPSE_DAYS = 365


def overdue_after(median_gap: float) -> int:
    """Days without a purchase after which a regular is overdue: more than
    max(2 x the usual gap, the usual gap + 14)."""
    return math.floor(max(2 * median_gap, median_gap + 14))


def rhythm_window(visits: Sequence[Visit]) -> list[Visit]:
    """The visits of the two years up to the last one.

    Anchored on the last visit, not on today: a lapse does not wear a regular's history
    away, and the rhythm only changes when a purchase is written — so it can be kept as
    a rollup on the customer.
    """
    if not visits:
        return []
    start = max(v.day for v in visits) - dt.timedelta(days=RHYTHM_WINDOW_DAYS)
    return [v for v in visits if v.day >= start]


def lapse(visits: Sequence[Visit]) -> tuple[int, dt.date | None]:
    """(visits in the rhythm window, the day the regular becomes overdue).

    The day is the last visiting day + :func:`overdue_after` the median gap + 1; None
    when there is no gap yet or the lapse would take a year or more.
    """
    window = rhythm_window(visits)
    gap = median_gap(window)
    if gap is None:
        return len(window), None
    wait = overdue_after(gap) + 1
    if wait >= LONGEST_LAPSE_DAYS:
        return len(window), None
    return len(window), max(v.day for v in window) + dt.timedelta(days=wait)
