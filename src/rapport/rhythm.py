"""A regular customer's rhythm, from their purchases: usual item, usual days, usual gap.

Pure functions on plain values, so the call sheet, profiles and the rules that notice a
broken rhythm all agree on what "usual" means.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
    days = sorted({v.day for v in ordered})
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    return Rhythm(
        visits=len(ordered),
        usual_item=usual_item,
        usual_weekdays=usual_days,
        median_gap_days=float(statistics.median(gaps)) if gaps else None,
    )
