"""What makes an occasion happen, shared by the built-in rules and ``[[custom_rules]]``.

A trigger owns two things: the SQL that selects its candidates and the pure date logic
that dates each one. The kinds: a yearly date (:class:`YearlyDate`), an event such as a
purchase or a complaint opened (:class:`Event`), an open record due at an instant such
as a promise (:class:`DueDate`), a quiet spell since the last contact
(:class:`Inactivity`) and a calendar rule (:class:`Calendar`). The occasion key is
defined here once, for Python and for SQL, so a rule's query can recognise the occasions
it already planned without sending keys back and forth.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, or_, true, tuple_

from rapport.dates import (
    Feb29Policy,
    latest_yearly_on_or_before,
    month_days_between,
    yearly_date,
)
from rapport.models.enums import PurchaseStatus
from rapport.models.tables import Customer, Purchase
from rapport.rules.base import PlanContext, planned_for_anchor

#: Between the parts of an occasion key: ``birthday_card:42:2027``.
KEY_SEPARATOR = ":"


def occasion_key(rule: str, *parts: str | int) -> str:
    """The key of one occasion: the rule's name and what makes the occasion unique
    (a customer or record id, a year, a day), so each is planned at most once."""
    return KEY_SEPARATOR.join(map(str, (rule, *parts)))


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


def day_ranges(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The (month, day) pairs as runs of consecutive days: (month, first day, last day).

    A window of days is one or two runs per month; as ranges on the (month, day) index
    they are a few index seeks, where a list of pairs made the database read the whole
    index (SQLite does not seek on a row-value ``IN``)."""
    runs: list[tuple[int, int, int]] = []
    for month, day in sorted(set(pairs)):
        if runs and runs[-1][0] == month and runs[-1][2] == day - 1:
            runs[-1] = (month, runs[-1][1], day)
        else:
            runs.append((month, day, day))
    return runs


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
        """SQL: the stored (month, day) falls in the span, as day ranges per month (index
        seeks on an index that starts with the month and the day)."""
        pairs = self.month_days(ctx)
        if len(pairs) >= 366:
            return and_(month.is_not(None), day.is_not(None))
        if not pairs:
            return ~true()
        return or_(
            *(
                and_(month == on_month, day == first if first == last else day.between(first, last))
                for on_month, first, last in day_ranges(pairs)
            )
        )

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

    def next_after(self, month: int, day: int, ctx: PlanContext) -> dt.date:
        """The first occurrence after the plan's span (its occasion is due after it)."""
        last = self.span(ctx)[1]
        on = yearly_date(month, day, last.year, self.feb29)
        return on if on > last else yearly_date(month, day, last.year + 1, self.feb29)


@dataclass(frozen=True)
class Event:
    """Something that happened at an instant — a purchase, an interaction — with its
    occasion ``offset_days`` after the business's calendar day of it.

    Only events recorded by the end of the plan's day count (history as of ``as_of``).
    """

    offset_days: int

    def where(self, occurred_at: Any, ctx: PlanContext) -> ColumnElement[bool]:
        """SQL: the event's occasion falls due in the plan's window (a range on the
        instant, so the (customer, occurred_at) indexes serve it)."""
        return and_(
            _due_in_window(occurred_at, self.offset_days, ctx), ctx.history.before(occurred_at)
        )

    def happened_on(self, occurred_at: dt.datetime, ctx: PlanContext) -> dt.date:
        return ctx.local_date(occurred_at)

    def due_on(self, happened_on: dt.date) -> dt.date:
        return happened_on + dt.timedelta(days=self.offset_days)


def _due_in_window(instant: Any, offset_days: int, ctx: PlanContext) -> ColumnElement[bool]:
    """SQL: the business day of ``instant``, moved by ``offset_days``, is in the window."""
    offset = dt.timedelta(days=offset_days)
    since = ctx.day_start(ctx.first_due - offset)
    until = ctx.day_start(ctx.last_due - offset + dt.timedelta(days=1))
    return and_(instant >= since, instant < until)


@dataclass(frozen=True)
class DueDate:
    """An open record due at an instant — a promise — with its occasion ``offset_days``
    from the business day it falls due (negative: a reminder ahead of it). The record
    must exist by the plan's day; its due instant may lie ahead."""

    offset_days: int

    def where(self, due_at: Any, created_at: Any, ctx: PlanContext) -> ColumnElement[bool]:
        """SQL: the record's occasion falls due in the plan's window, and the record
        was made by the end of the plan's day (history as of ``as_of``)."""
        return and_(_due_in_window(due_at, self.offset_days, ctx), ctx.history.before(created_at))

    def due_on(self, due_at: dt.datetime, ctx: PlanContext) -> dt.date:
        return ctx.local_date(due_at) + dt.timedelta(days=self.offset_days)


def completed_purchases(
    ctx: PlanContext, *, category: str | None = None, min_amount: Any = None
) -> list[ColumnElement[bool]]:
    """SQL: the purchases an event rule counts — completed, of a category, at least an
    amount in the business's currency (amounts in other currencies never compare)."""
    conditions: list[ColumnElement[bool]] = [Purchase.status == PurchaseStatus.COMPLETED]
    if category is not None:
        conditions.append(Purchase.category == category)
    if min_amount is not None:
        conditions.append(Purchase.currency == ctx.settings.business.currency)
        conditions.append(Purchase.amount >= min_amount)
    return conditions


@dataclass(frozen=True)
class Inactivity:
    """A quiet spell: no contact since the last one (or since the customer was added)
    for a number of days. The occasion is keyed by the day of that last contact, so a
    newer contact starts a new spell, and a task planned for this very spell is
    recognised in SQL by its anchor (see :func:`planned_for_anchor`)."""

    rule: str

    @staticmethod
    def anchor(ctx: PlanContext) -> ColumnElement[dt.datetime]:
        """SQL: when the quiet began, as of the plan's day."""
        return func.coalesce(ctx.history.last_contact_at, Customer.created_at)

    def where(self, ctx: PlanContext, days: int) -> ColumnElement[bool]:
        """SQL: quiet long enough for ``days`` to pass by the end of the plan's window."""
        return self.anchor(ctx) < ctx.day_start(ctx.last_due - dt.timedelta(days=days - 1))

    def planned(self, ctx: PlanContext) -> ColumnElement[bool]:
        """SQL: this spell's occasion is planned already."""
        return planned_for_anchor(self.rule, self.anchor(ctx))

    def key(self, customer_id: int, quiet_since: dt.date) -> str:
        return occasion_key(self.rule, customer_id, quiet_since.isoformat())

    @staticmethod
    def quiet_until(quiet_since: dt.date, days: int) -> dt.date:
        """The first day the spell has lasted ``days``."""
        return quiet_since + dt.timedelta(days=days)


@dataclass(frozen=True)
class Calendar:
    """A date from an RFC 5545 rule (``FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=1``), with its
    occasion ``offset_days`` from it. Only the latest date whose occasion is due in the
    plan's window is offered, so an outage never sends two at once."""

    rrule: str
    offset_days: int

    def latest(self, ctx: PlanContext) -> dt.date | None:
        """The latest date whose occasion falls due in the plan's window, or None."""
        offset = dt.timedelta(days=self.offset_days)
        first, last = ctx.first_due - offset, ctx.last_due - offset
        rule = rrulestr(self.rrule, dtstart=dt.datetime(first.year - 1, 1, 1))
        dates = rule.between(
            dt.datetime.combine(first, dt.time.min),
            dt.datetime.combine(last, dt.time.max),
            inc=True,
        )
        return dates[-1].date() if dates else None

    def due_on(self, occurs: dt.date) -> dt.date:
        return occurs + dt.timedelta(days=self.offset_days)
