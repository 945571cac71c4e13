"""The rhythm rollups computed in SQL equal :func:`rapport.rhythm.lapse` of the purchases'
business days, on SQLite and PostgreSQL: clock changes, odd offsets, same-day purchases,
refunds and history older than the rhythm window included."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport.dates import LocalDays
from rapport.models.enums import PurchaseStatus
from rapport.models.tables import Customer, Purchase
from rapport.rhythm import Visit, lapse
from rapport.store.rhythm import refresh_rhythm_rollups

UTC = dt.UTC
D = dt.date
COMPLETED, REFUNDED = PurchaseStatus.COMPLETED, PurchaseStatus.REFUNDED
#: Whole-hour, half-hour and 45-minute offsets; changes at local midnight (Havana,
#: Santiago), by half an hour (Lord Howe), none at all (UTC, Kathmandu since 1986).
ZONES = ["Europe/Helsinki", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe",
         "Pacific/Chatham", "UTC", "America/Los_Angeles", "America/Santiago",
         "America/Havana"]  # fmt: skip
FIRST, LAST = dt.datetime(2016, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC)

History = Sequence[tuple[dt.datetime, PurchaseStatus]]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the current backend whose writes are rolled back afterwards."""
    with Session(engine) as session:
        yield session
        session.rollback()


def rollups(
    session: Session, zone: str, histories: Sequence[History]
) -> list[tuple[int | None, D | None]]:
    """Store one customer per history, refresh their rollups, and read them back."""
    customers = [
        Customer(
            external_id=f"R-{n}",
            rhythm_visits=99,
            rhythm_due_on=D(2000, 1, 1),
            created_at=LAST,
            updated_at=LAST,
        )
        for n in range(len(histories))
    ]
    session.add_all(customers)
    session.flush()
    for customer, history in zip(customers, histories, strict=True):
        session.add_all(
            Purchase(
                customer_id=customer.id,
                occurred_at=instant,
                amount=Decimal(10),
                currency="EUR",
                status=status,
                created_at=LAST,
            )
            for instant, status in history
        )
    session.flush()
    ids = [customer.id for customer in customers]
    refresh_rhythm_rollups(session, ids, zone, batch=3)
    read = select(Customer.id, Customer.rhythm_visits, Customer.rhythm_due_on)
    rows = {
        customer_id: (visits, due)
        for customer_id, visits, due in session.execute(read.where(Customer.id.in_(ids)))
    }
    session.rollback()
    return [rows[customer_id] for customer_id in ids]


def expected(zone: str, history: History) -> tuple[int, D | None]:
    days = LocalDays(zoneinfo.ZoneInfo(zone))
    return lapse(
        [Visit(days.of(instant), None) for instant, status in history if status == COMPLETED]
    )


# ---------------------------------------------------------------------------- property


@functools.cache
def clock_changes(zone: str) -> list[dt.datetime]:
    """The UTC hours in which the zone's offset changes, found hour by hour (independently
    of the code under test)."""
    tz = zoneinfo.ZoneInfo(zone)
    changes, hour = [], FIRST
    offset = hour.astimezone(tz).utcoffset()
    while hour < LAST:
        hour += dt.timedelta(hours=1)
        if (now := hour.astimezone(tz).utcoffset()) != offset:
            changes.append(hour - dt.timedelta(hours=1))
            offset = now
    return changes or [dt.datetime(2024, 3, 1, tzinfo=UTC)]


def instants(zone: str) -> st.SearchStrategy[dt.datetime]:
    """Anywhere in ten years, within a day and a half of a clock change (to the second,
    or a microsecond either side of it), or at about a local midnight."""
    anywhere = st.datetimes(
        min_value=FIRST.replace(tzinfo=None), max_value=dt.datetime(2026, 12, 31)
    )
    near_change = st.builds(
        lambda hour, minutes, seconds, micro: (
            hour + dt.timedelta(minutes=minutes, seconds=seconds, microseconds=micro)
        ),
        st.sampled_from(clock_changes(zone)),
        st.integers(-36 * 60, 36 * 60),
        st.sampled_from([0, 0, 30, 59]),
        st.sampled_from([0, 0, -1, 1, 500_000]),
    )
    near_midnight = st.builds(
        lambda day, delta: (
            dt.datetime.combine(day, dt.time(), zoneinfo.ZoneInfo(zone))
            .astimezone(UTC)
            .__add__(dt.timedelta(microseconds=delta))
        ),
        st.dates(FIRST.date(), dt.date(2026, 12, 31)),
        st.sampled_from([0, -1, 1, -300, -1_000_000, 59 * 60 * 1_000_000]),
    )
    return st.one_of(
        anywhere.map(lambda moment: moment.replace(tzinfo=UTC)), near_change, near_midnight
    )


def steps() -> st.SearchStrategy[dt.timedelta]:
    """From one purchase to the next: the same day, a usual gap, or years."""
    return st.one_of(
        st.integers(0, 20 * 60).map(lambda minutes: dt.timedelta(minutes=minutes)),
        st.integers(1, 60).map(lambda days: dt.timedelta(days=days)),
        st.integers(100, 900).map(lambda days: dt.timedelta(days=days)),
    ).flatmap(lambda step: st.sampled_from([step, -step]))


@st.composite
def histories(draw: st.DrawFn, zone: str) -> History:
    start = draw(instants(zone))
    statuses = st.sampled_from([COMPLETED, COMPLETED, COMPLETED, REFUNDED])
    history, moment = [], start
    for step in draw(st.lists(steps(), max_size=12)):
        history.append((moment, draw(statuses)))
        moment = draw(st.one_of(st.just(moment + step), instants(zone)))
    return history


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), zone=st.sampled_from(ZONES))
def test_the_sql_rollups_equal_lapse(session: Session, data: st.DataObject, zone: str) -> None:
    customers = data.draw(st.lists(histories(zone), min_size=1, max_size=7), label="histories")
    assert rollups(session, zone, customers) == [expected(zone, history) for history in customers]


# ---------------------------------------------------------------------------- cases


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def completed(*moments: str) -> History:
    return [(at(moment), COMPLETED) for moment in moments]


def test_a_purchase_a_microsecond_before_a_clock_change_is_on_the_earlier_day(
    session: Session,
) -> None:
    """Santiago moves from -4 to -3 at 04:00 UTC on 7 September 2025: 03:59:59.999999
    UTC is 23:59 on the 6th there, 04:00 is 01:00 on the 7th. Days 30 Aug, 6 and 7 Sep:
    gaps 7 and 1, median 4, overdue after 18 days, due on the 19th day."""
    history = completed("2025-08-30 12:00:00", "2025-09-07 03:59:59.999999", "2025-09-07 04:00:00")
    assert rollups(session, "America/Santiago", [history]) == [(3, D(2025, 9, 26))]
    assert expected("America/Santiago", history) == (3, D(2025, 9, 26))


def test_a_night_purchase_before_autumn_falls_back_is_on_the_next_day(session: Session) -> None:
    """21:30 UTC on 25 October 2025 is 00:30 on the 26th in Helsinki (summer time ends
    at 01:00 UTC), and 02:45 on the 26th in Kathmandu (+05:45)."""
    history = completed("2025-10-11 21:30:00", "2025-10-25 21:30:00")
    due = D(2025, 10, 26) + dt.timedelta(days=29)  # gap 14: overdue after 28 days
    assert rollups(session, "Europe/Helsinki", [history]) == [(2, due)]
    assert rollups(session, "Asia/Kathmandu", [history]) == [(2, due)]
    assert rollups(session, "UTC", [history]) == [(2, due - dt.timedelta(days=1))]


def test_a_single_purchase_has_no_rhythm_and_no_purchase_none_at_all(session: Session) -> None:
    refunded = [(at("2025-05-01 10:00:00"), REFUNDED)]
    assert rollups(session, "UTC", [completed("2025-05-01 10:00:00"), refunded, []]) == [
        (1, None),
        (0, None),
        (0, None),
    ]


def test_an_even_number_of_gaps_takes_the_mean_of_the_middle_two(session: Session) -> None:
    """Gaps 7, 8 (and a same-day second purchase): median 7.5, overdue after
    floor(7.5 + 14) = 21 days. Gaps 181 and 182: due on day 364; 182 and 182: a year."""
    history = completed(
        "2025-01-01 10:00", "2025-01-08 10:00", "2025-01-08 18:00", "2025-01-16 10:00"
    )
    long = completed("2023-01-01 10:00", "2023-07-01 10:00", "2023-12-30 10:00")
    longer = completed("2023-01-01 10:00", "2023-07-02 10:00", "2023-12-31 10:00")
    assert rollups(session, "UTC", [history, long, longer]) == [
        (4, D(2025, 1, 16) + dt.timedelta(days=22)),
        (3, D(2023, 12, 30) + dt.timedelta(days=364)),
        (3, None),
    ]


def test_purchases_before_the_window_are_left_out(session: Session) -> None:
    """730 days before the last purchase is in the window, 731 is not."""
    history = completed(
        "2021-01-01 10:00", "2022-12-31 10:00", "2023-01-01 10:00", "2023-01-11 10:00",
        "2024-12-31 10:00",
    )  # fmt: skip
    # In: 1 Jan 2023 (730 days before 31 Dec 2024), 11 Jan 2023, 31 Dec 2024.
    assert rollups(session, "UTC", [history]) == [expected("UTC", history)]
    assert expected("UTC", history)[0] == 3
