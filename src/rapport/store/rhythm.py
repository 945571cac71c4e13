"""The rhythm rollups (``rhythm_visits``, ``rhythm_due_on``) computed in SQL.

:func:`rapport.rhythm.lapse` is the definition; doing it in Python means reading every
completed purchase into Python and converting each instant to a business day, per
customer. Here one ``UPDATE ... FROM`` per batch of customers gives the same answer
from aggregate SQL, on SQLite and PostgreSQL alike, and leaves rows that are already
right alone.

Business days come from Python's ``zoneinfo`` on both databases, not from the server's
time zone data (which may be older, or lack a zone): the offsets in force over the
batch's purchases are looked up in Python and written into the statement as
``CASE WHEN occurred_at < <change> THEN <offset> ... END``, so a purchase's day is
exactly ``occurred_at.astimezone(zone).date()``, as :class:`rapport.dates.LocalDays`
gives it. Days are whole numbers (days since 1970-01-01) inside the statement.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Interval,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from rapport.models._columns import RawTimestamp
from rapport.models.enums import PurchaseStatus
from rapport.models.tables import Customer, Purchase
from rapport.rhythm import LONGEST_LAPSE_DAYS, RHYTHM_WINDOW_DAYS

#: Customers per UPDATE.
BATCH = 2000
#: Customers per statement on PostgreSQL (well under its 65,535 parameters).
POSTGRES_BATCH = 10_000

_EPOCH = dt.date(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECONDS_PER_DAY = 86400
#: How far apart offsets are probed when looking for clock changes. tzdata's changes are
#: at least four days apart (the closest pair: Africa/Freetown, 1939), so none hides
#: between two probes a day apart.
_PROBE_SECONDS = _SECONDS_PER_DAY


def refresh_rhythm_rollups(
    session: Session, customer_ids: Iterable[int], timezone: str, *, batch: int | None = None
) -> None:
    """Set the rhythm rollups of these customers from their completed purchases, in
    business days of ``timezone`` (see :func:`rapport.rhythm.lapse`): customers without a
    completed purchase get 0 visits and no due day."""
    ids = sorted(set(customer_ids))
    if batch is None:
        # PostgreSQL does the rollups of 100,000 customers in 5.0 s in batches of 10,000
        # against 8.5 s in batches of 2,000; SQLite is no faster with larger batches.
        postgres = session.get_bind().dialect.name == "postgresql"
        batch = POSTGRES_BATCH if postgres else BATCH
    for start in range(0, len(ids), batch):
        id_batch = ids[start : start + batch]
        first, last = session.execute(
            select(func.min(Purchase.occurred_at), func.max(Purchase.occurred_at)).where(
                Purchase.customer_id.in_(id_batch)
            )
        ).one()
        # Without purchases any offset will do.
        offsets = _offsets(timezone, first, last) if first is not None else [(_EPOCH_UTC, 0)]
        dialect = session.get_bind().dialect.name
        session.execute(_rollup_update(id_batch, offsets, dialect))


# ---------------------------------------------------------------------------- offsets

#: (the UTC instant from which an offset is in force, the offset in seconds), in order:
#: the first is in force from the first purchase, each next one is a clock change.
Offsets = list[tuple[dt.datetime, int]]


def _offsets(timezone: str, first: dt.datetime, last: dt.datetime) -> Offsets:
    """The zone's UTC offsets from instant ``first`` to ``last`` (both included)."""
    zone = zoneinfo.ZoneInfo(timezone)
    offsets: Offsets = [(first, _offset_at(zone, _timestamp(first)))]
    for year in range(first.year, last.year + 1):
        for change, offset in _changes_in_year(timezone, year):
            if first < change <= last:
                offsets.append((change, offset))
    return offsets


@functools.lru_cache(maxsize=1024)
def _changes_in_year(timezone: str, year: int) -> tuple[tuple[dt.datetime, int], ...]:
    """Each change of the zone's offset in this UTC year, after its first instant:
    (the first UTC instant of the new offset, the new offset in seconds)."""
    zone = zoneinfo.ZoneInfo(timezone)
    start = _timestamp(dt.datetime(year, 1, 1, tzinfo=dt.UTC))
    end = _timestamp(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))
    changes: list[tuple[dt.datetime, int]] = []
    here, offset = start, _offset_at(zone, start)
    while here < end:
        probe = min(here + _PROBE_SECONDS, end)
        if _offset_at(zone, probe) == offset:
            here = probe
            continue
        # The offset changes in (here, probe]: find its first second (tzdata's changes
        # fall on whole seconds).
        before, after = here, probe
        while after - before > 1:
            middle = (before + after) // 2
            if _offset_at(zone, middle) == offset:
                before = middle
            else:
                after = middle
        here, offset = after, _offset_at(zone, after)
        changes.append((dt.datetime.fromtimestamp(after, dt.UTC), offset))
    return tuple(changes)


def _timestamp(instant: dt.datetime) -> int:
    """Whole seconds since 1970 (rounded down) of an aware instant."""
    return (instant - _EPOCH_UTC) // dt.timedelta(seconds=1)


def _offset_at(zone: zoneinfo.ZoneInfo, timestamp: int) -> int:
    offset = dt.datetime.fromtimestamp(timestamp, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


# ---------------------------------------------------------------------------- SQL


def _local_day(offsets: Offsets, dialect: str) -> ColumnElement[int]:
    """A purchase's business day, as days since 1970-01-01."""
    if dialect == "sqlite":
        # Naive UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]', which sorts as it reads; a change
        # is compared without fractions so that a purchase at its very second is after it.
        stored = type_coerce(Purchase.occurred_at, RawTimestamp())
        shifts = [f"{offset:+d} seconds" for _, offset in offsets]
        shift: ColumnElement[str] = literal(shifts[0])
        if len(offsets) > 1:
            shift = case(
                *(
                    (stored < change.replace(tzinfo=None).isoformat(" "), earlier)
                    for (change, _), earlier in zip(offsets[1:], shifts[:-1], strict=True)
                ),
                else_=shifts[-1],
            )
        # SQLite's date functions round to milliseconds, which would move 23:59:59.9999
        # to the next day: whole seconds only (days start on a whole second).
        seconds = func.strftime("%s", func.substr(stored, 1, 19), shift, "start of day")
        return cast(seconds, Integer) // _SECONDS_PER_DAY
    delta: ColumnElement[dt.timedelta] = literal(dt.timedelta(seconds=offsets[0][1]), Interval())
    if len(offsets) > 1:
        delta = case(
            *(
                (Purchase.occurred_at < change, literal(dt.timedelta(seconds=earlier), Interval()))
                for (change, _), (_, earlier) in zip(offsets[1:], offsets[:-1], strict=True)
            ),
            else_=literal(dt.timedelta(seconds=offsets[-1][1]), Interval()),
        )
    utc = func.timezone("UTC", Purchase.occurred_at)
    return type_coerce(cast(utc + delta, Date) - literal(_EPOCH, Date()), Integer())


def _date_of(day: ColumnElement[int], dialect: str) -> ColumnElement[dt.date]:
    """The calendar day of a day number."""
    if dialect == "sqlite":
        return type_coerce(func.date(day * _SECONDS_PER_DAY, "unixepoch"), Date())
    return type_coerce(literal(_EPOCH, Date()) + cast(day, Integer), Date())


def _rollup_update(id_batch: Sequence[int], offsets: Offsets, dialect: str) -> Update:
    """The UPDATE that sets the rollups of one batch of customers.

    Each customer's completed purchases as days (a customer without one keeps a single
    row with no day, so they get 0 visits); those in the window up to the last; the
    distinct days with their purchases; the gaps between consecutive days, ranked; then
    per customer the visits, the last day and twice the median gap (the middle gap
    twice, or the two middle ones), from which the due day follows without fractions.
    """
    table: Table = Customer.__table__  # type: ignore[assignment]
    purchases: Table = Purchase.__table__  # type: ignore[assignment]
    days = (
        select(
            table.c.id.label("customer_id"),
            _local_day(offsets, dialect).label("day"),
        )
        .select_from(
            table.outerjoin(
                purchases,
                and_(
                    Purchase.customer_id == table.c.id,
                    Purchase.status == PurchaseStatus.COMPLETED,
                ),
            )
        )
        .where(table.c.id.in_(id_batch))
        .subquery("days")
    )
    marked = select(
        days.c.customer_id,
        days.c.day,
        func.max(days.c.day).over(partition_by=days.c.customer_id).label("last"),
    ).subquery("marked")
    per_day = (
        select(
            marked.c.customer_id,
            marked.c.day,
            func.count(marked.c.day).label("purchases"),
        )
        .where(marked.c.day.is_(None) | (marked.c.day >= marked.c.last - RHYTHM_WINDOW_DAYS))
        .group_by(marked.c.customer_id, marked.c.day)
        .subquery("per_day")
    )
    gaps = select(
        per_day.c.customer_id,
        per_day.c.day,
        per_day.c.purchases,
        (
            per_day.c.day
            - func.lag(per_day.c.day).over(
                partition_by=per_day.c.customer_id, order_by=per_day.c.day
            )
        ).label("gap"),
    ).subquery("gaps")
    # The first day has no gap: ranked before every gap, the gaps are ranks 2..n + 1.
    ranked = select(
        gaps,
        func.row_number()
        .over(partition_by=gaps.c.customer_id, order_by=func.coalesce(gaps.c.gap, -1))
        .label("rank"),
        func.count(gaps.c.gap).over(partition_by=gaps.c.customer_id).label("n"),
    ).subquery("ranked")
    lower = (ranked.c.n + 1) // 2 + 1
    upper = (ranked.c.n + 2) // 2 + 1
    twice_median = func.sum(case((ranked.c.rank == lower, ranked.c.gap), else_=0)) + func.sum(
        case((ranked.c.rank == upper, ranked.c.gap), else_=0)
    )
    per_customer = (
        select(
            ranked.c.customer_id,
            func.sum(ranked.c.purchases).label("visits"),
            func.max(ranked.c.day).label("last"),
            func.max(ranked.c.n).label("n"),
            twice_median.label("twice_median"),
        )
        .group_by(ranked.c.customer_id)
        .subquery("per_customer")
    )
    # overdue_after(m) + 1 = floor(max(2m, m + 14)) + 1, with t = 2m a whole number.
    twice = per_customer.c.twice_median
    wait = case((twice >= 28, twice), else_=(twice + 28) // 2) + 1
    due = case(
        (
            and_(per_customer.c.n > 0, wait < LONGEST_LAPSE_DAYS),
            _date_of(per_customer.c.last + wait, dialect),
        ),
        else_=None,
    )
    rollups = select(
        per_customer.c.customer_id,
        per_customer.c.visits,
        due.label("due"),
    ).subquery("rollups")
    return (
        update(table)
        .where(
            table.c.id == rollups.c.customer_id,
            table.c.rhythm_visits.is_distinct_from(rollups.c.visits)
            | table.c.rhythm_due_on.is_distinct_from(rollups.c.due),
        )
        .values(rhythm_visits=rollups.c.visits, rhythm_due_on=rollups.c.due)
        .execution_options(synchronize_session=False)
    )
