"""What makes an occasion happen, shared by the rules built on it.

A trigger owns two things: the SQL that selects its candidates and the pure date logic
that dates each one. The occasion key is defined here once, for Python and for SQL, so
a rule's query can recognise the occasions it already planned without sending keys back
and forth.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, literal, true, tuple_

from rapport.dates import Feb29Policy, latest_yearly_on_or_before, month_days_between
from rapport.rules.base import PlanContext

#: Between the parts of an occasion key: ``birthday_card:42:2027``.
KEY_SEPARATOR = ":"


def occasion_key(rule: str, *parts: str | int) -> str:
    """The key of one occasion: the rule's name and what makes the occasion unique
    (a customer or record id, a year, a day), so each is planned at most once."""
    return KEY_SEPARATOR.join([rule, *(str(part) for part in parts)])


def occasion_key_sql(rule: str, *parts: Any) -> ColumnElement[str]:
    """:func:`occasion_key` computed in the database: ``parts`` are columns or SQL
    expressions (integers print the same in SQL as in Python) or plain values."""
    key: ColumnElement[str] = literal(rule)
    for part in parts:
        piece = literal(str(part)) if isinstance(part, str | int) else cast(part, String)
        key = key + literal(KEY_SEPARATOR) + piece
    return key


def _yearly_year(
    month: Any,
    day: Any,
    pairs: Iterable[tuple[int, int]],
    latest: dt.date,
    feb29: Feb29Policy,
) -> Any:
    """SQL: the year of a yearly (month, day)'s last occurrence on or before ``latest``,
    for the ``pairs`` a rule selects. The years come from the rule's own date logic in
    Python (so 29 February follows the same policy), as a CASE over the pairs."""
    by_year: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pair in pairs:
        by_year[latest_yearly_on_or_before(*pair, latest, feb29).year].append(pair)
    if len(by_year) == 1:
        return literal(next(iter(by_year)))
    return case(*[(tuple_(month, day).in_(sorted(pairs)), year) for year, pairs in by_year.items()])


@lru_cache(maxsize=64)  # the rules of one plan ask for the same few spans
def _month_days(first: dt.date, last: dt.date, feb29: Feb29Policy) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(month_days_between(first, last, feb29)))


@dataclass(frozen=True)
class YearlyDate:
    """A date that comes back every year — a birthday, an anniversary, an important date
    — stored as a month and a day, with an occasion ``offset_days`` from it (negative:
    before, as a card is posted ahead of the birthday).

    ``feb29`` says where 29 February falls in common years. Each year's date is computed
    from the month and day, never from the previous one, and only the latest occurrence
    is offered, so a long outage never brings back last year's occasion.
    """

    offset_days: int
    feb29: Feb29Policy

    def span(self, ctx: PlanContext) -> tuple[dt.date, dt.date]:
        """The first and last dates whose occasion is due in the plan's window."""
        offset = dt.timedelta(days=self.offset_days)
        return ctx.first_due - offset, ctx.last_due - offset

    def month_days(self, ctx: PlanContext) -> tuple[tuple[int, int], ...]:
        return _month_days(*self.span(ctx), self.feb29)

    def where(self, month: Any, day: Any, ctx: PlanContext) -> ColumnElement[bool]:
        """SQL: the stored (month, day) falls in the span (through their index)."""
        pairs = self.month_days(ctx)
        if len(pairs) >= 366:
            return month.is_not(None)  # type: ignore[no-any-return]
        return tuple_(month, day).in_(pairs) if pairs else ~true()

    def year_sql(self, month: Any, day: Any, ctx: PlanContext) -> Any:
        """SQL: the year of the occurrence :meth:`occurs` gives, for the occasion key."""
        return _yearly_year(month, day, self.month_days(ctx), self.span(ctx)[1], self.feb29)

    def occurs(self, month: int, day: int, ctx: PlanContext) -> dt.date | None:
        """The occurrence whose occasion is due in the plan's window, or None."""
        first, last = self.span(ctx)
        on = latest_yearly_on_or_before(month, day, last, self.feb29)
        return on if on >= first else None

    def due_on(self, occurs: dt.date) -> dt.date:
        return occurs + dt.timedelta(days=self.offset_days)
