"""Pure planning logic, tested with tables of plain values: dates, channels, caps, send times."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.config import ConsentDefaults
from rapport.dates import (
    WorkingDays,
    age_on,
    latest_yearly_on_or_before,
    month_days_between,
    yearly_date,
)
from rapport.models.enums import Channel, ConsentState, CustomerStatus
from rapport.planner import (
    Placement,
    Reachability,
    choose_channel,
    place_within_caps,
    send_at,
    skip_reason,
)

D = dt.date


@pytest.mark.parametrize(
    ("month", "day", "year", "feb29", "expected"),
    [
        (2, 29, 2025, "feb28", D(2025, 2, 28)),
        (2, 29, 2026, "feb28", D(2026, 2, 28)),
        (2, 29, 2027, "feb28", D(2027, 2, 28)),
        (2, 29, 2028, "feb28", D(2028, 2, 29)),
        (2, 29, 2100, "feb28", D(2100, 2, 28)),  # 2100 is not a leap year
        (2, 29, 2000, "feb28", D(2000, 2, 29)),
        (2, 29, 2027, "mar1", D(2027, 3, 1)),
        (2, 29, 2028, "mar1", D(2028, 2, 29)),
        (2, 28, 2027, "mar1", D(2027, 2, 28)),
        (12, 31, 2026, "feb28", D(2026, 12, 31)),
    ],
)
def test_yearly_date_is_computed_from_month_and_day(
    month: int, day: int, year: int, feb29: str, expected: dt.date
) -> None:
    assert yearly_date(month, day, year, feb29) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("month", "day", "latest", "expected"),
    [
        (6, 15, D(2026, 6, 15), D(2026, 6, 15)),  # on the day itself
        (6, 15, D(2026, 6, 14), D(2025, 6, 15)),
        (1, 2, D(2027, 1, 9), D(2027, 1, 2)),  # across the year end
        (2, 29, D(2027, 3, 5), D(2027, 2, 28)),
    ],
)
def test_latest_yearly_occurrence(month: int, day: int, latest: dt.date, expected: dt.date) -> None:
    assert latest_yearly_on_or_before(month, day, latest) == expected


def test_month_days_between_spans_the_year_end() -> None:
    assert month_days_between(D(2026, 12, 30), D(2027, 1, 2)) == {
        (12, 30),
        (12, 31),
        (1, 1),
        (1, 2),
    }


@pytest.mark.parametrize(
    ("first", "last", "feb29", "has_feb29"),
    [
        (D(2027, 2, 27), D(2027, 2, 28), "feb28", True),
        (D(2027, 2, 27), D(2027, 2, 28), "mar1", False),
        (D(2027, 3, 1), D(2027, 3, 2), "mar1", True),
        (D(2028, 2, 28), D(2028, 2, 28), "feb28", False),  # leap year: 29 Feb is its own day
    ],
)
def test_month_days_include_feb29_on_its_common_year_stand_in(
    first: dt.date, last: dt.date, feb29: str, has_feb29: bool
) -> None:
    assert ((2, 29) in month_days_between(first, last, feb29)) is has_feb29  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("year", "on", "expected"),
    [(1977, D(2027, 3, 10), 50), (1977, D(2027, 3, 9), 49), (None, D(2027, 3, 10), None)],
)
def test_age_on(year: int | None, on: dt.date, expected: int | None) -> None:
    assert age_on(year, 3, 10, on) == expected


@pytest.mark.parametrize(
    ("country", "day", "expected"),
    [
        (None, D(2026, 11, 21), D(2026, 11, 23)),  # Saturday -> Monday
        (None, D(2026, 11, 23), D(2026, 11, 23)),
        ("FI", D(2026, 12, 24), D(2026, 12, 28)),  # Christmas Eve, Christmas, weekend
        ("FI", D(2027, 12, 6), D(2027, 12, 7)),  # Independence Day, a Monday
        ("PL", D(2026, 11, 11), D(2026, 11, 12)),  # Independence Day, a Wednesday
        ("IT", D(2026, 6, 2), D(2026, 6, 3)),  # Festa della Repubblica
        ("GB", D(2026, 12, 24), D(2026, 12, 24)),  # a working day in Britain
    ],
)
def test_working_days_skip_weekends_and_public_holidays(
    country: str | None, day: dt.date, expected: dt.date
) -> None:
    assert WorkingDays(country).on_or_after(day) == expected


def reach(**changes: object) -> Reachability:
    values: dict[str, object] = {
        "status": CustomerStatus.ACTIVE,
        "do_not_contact": False,
        "consent": {},
        "has_email": True,
        "has_phone": True,
        "has_address": True,
    }
    values.update(changes)
    return Reachability(**values)  # type: ignore[arg-type]


GRANTED, REFUSED = ConsentState.GRANTED, ConsentState.REFUSED
MAIL_EMAIL = [Channel.MAIL, Channel.EMAIL]


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        (reach(), (Channel.MAIL, None)),  # unknown mail consent counts as yes by default
        (reach(consent={Channel.MAIL: REFUSED}), (None, "no_consent")),  # email unknown = no
        (
            reach(consent={Channel.MAIL: REFUSED, Channel.EMAIL: GRANTED}),
            (Channel.EMAIL, None),
        ),
        (reach(has_address=False, consent={Channel.EMAIL: GRANTED}), (Channel.EMAIL, None)),
        (reach(has_address=False), (None, "no_contact_details")),
        (
            reach(has_address=False, has_email=False, consent={Channel.EMAIL: GRANTED}),
            (None, "no_contact_details"),
        ),
    ],
)
def test_channel_is_the_first_allowed_and_reachable(
    customer: Reachability, expected: tuple[Channel | None, str | None]
) -> None:
    assert choose_channel(customer, MAIL_EMAIL, ConsentDefaults()) == expected


def test_unknown_consent_follows_the_configured_default() -> None:
    strict = ConsentDefaults(mail=False)
    assert choose_channel(reach(), MAIL_EMAIL, strict) == (None, "no_consent")


@pytest.mark.parametrize(
    ("customer", "reason"),
    [
        (reach(status=CustomerStatus.DECEASED), "deceased"),
        (reach(status=CustomerStatus.INACTIVE), "inactive"),
        (reach(do_not_contact=True), "do_not_contact"),
        (reach(), None),
    ],
)
def test_nobody_contacts_deceased_inactive_or_do_not_contact(
    customer: Reachability, reason: str | None
) -> None:
    assert skip_reason(customer) == reason


def P(key: str, first: dt.date, last: dt.date, priority: int) -> Placement:
    return Placement(key, first, last, priority)


@pytest.mark.parametrize(
    ("taken", "wanted", "expected"),
    [
        ([], [P("a", D(2026, 1, 5), D(2026, 1, 5), 1)], {"a": D(2026, 1, 5)}),
        (
            [D(2026, 1, 5), D(2026, 1, 6)],
            [P("a", D(2026, 1, 7), D(2026, 1, 20), 1)],
            {"a": D(2026, 1, 12)},  # the first day whose 7-day windows all have room
        ),
        (
            [],
            [
                P("low", D(2026, 1, 5), D(2026, 1, 30), 10),
                P("high", D(2026, 1, 5), D(2026, 1, 5), 90),
                P("mid", D(2026, 1, 5), D(2026, 1, 5), 50),
            ],
            {"high": D(2026, 1, 5), "mid": D(2026, 1, 5), "low": D(2026, 1, 12)},
        ),
        (
            [D(2026, 1, 4), D(2026, 1, 5)],
            [P("a", D(2026, 1, 5), D(2026, 1, 8), 1)],
            {"a": None},  # no room inside its window: capped
        ),
    ],
)
def test_caps_place_higher_priority_first_and_move_or_cap_the_rest(
    taken: list[dt.date], wanted: list[Placement], expected: dict[str, dt.date | None]
) -> None:
    assert place_within_caps(taken, wanted, max_touches=2, per_days=7) == expected


@pytest.mark.parametrize(
    ("day", "expected_utc_hour"),
    [(D(2026, 3, 28), 7), (D(2026, 3, 29), 6), (D(2026, 10, 24), 6), (D(2026, 10, 25), 7)],
)
def test_send_at_keeps_the_local_hour_across_dst_changes(
    day: dt.date, expected_utc_hour: int
) -> None:
    moment = send_at(day, 9, "Europe/Helsinki")
    assert moment.tzinfo == dt.UTC
    assert (moment.date(), moment.hour) == (day, expected_utc_hour)
