"""Partial dates (birthdays whose year may be unknown) are checked with plain values."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rapport.dates import LocalDays, PartialDate, check_month_day
from rapport.rhythm import Visit, lapse, rhythm_window


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1984-06-15", PartialDate(year=1984, month=6, day=15)),
        ("--06-15", PartialDate(month=6, day=15)),
        ("--02-29", PartialDate(month=2, day=29)),
        ("2000-02-29", PartialDate(year=2000, month=2, day=29)),
        (" 1990-12-31 ", PartialDate(year=1990, month=12, day=31)),
    ],
)
def test_partial_date_parses_iso_and_yearless_forms(text: str, expected: PartialDate) -> None:
    assert PartialDate.model_validate(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-02-29", "2023 is not a leap year"),
        ("1900-02-29", "1900 is not a leap year"),
        ("--02-30", "February has no day 30"),
        ("2024-02-31", "February has no day 31"),
        ("--04-31", "April has no day 31"),
        ("2024-13-01", "month 13 is not between 1 and 12"),
        ("--00-10", "month 0 is not between 1 and 12"),
        ("0000-00-00", "month 0"),
        ("15.06.1984", "write YYYY-MM-DD"),
        ("", "write YYYY-MM-DD"),
    ],
)
def test_impossible_dates_are_rejected_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        PartialDate.model_validate(text)


def test_a_date_object_keeps_its_year() -> None:
    assert PartialDate.model_validate(dt.date(1970, 1, 2)) == PartialDate(year=1970, month=1, day=2)


def test_a_datetime_is_not_a_birthday() -> None:
    with pytest.raises(ValidationError, match="not a date and time"):
        PartialDate.model_validate(dt.datetime(1970, 1, 2, 3, 4))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (PartialDate(month=2, day=29), "--02-29"),
        (PartialDate(year=1984, month=6, day=5), "1984-06-05"),
    ],
)
def test_partial_date_prints_in_the_form_it_is_written(value: PartialDate, text: str) -> None:
    assert str(value) == text


def test_feb29_without_year_is_a_real_day() -> None:
    check_month_day(2, 29)  # raises on failure


def test_years_before_1800_are_rejected() -> None:
    with pytest.raises(ValueError, match="year 1799"):
        check_month_day(1, 1, 1799)


# ---------------------------------------------------------------------------- local days

_ZONES = ["Europe/Helsinki", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe",
          "Pacific/Chatham", "UTC", "America/Los_Angeles"]  # fmt: skip


@given(
    zone=st.sampled_from(_ZONES),
    instant=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)),
)
def test_local_days_agree_with_astimezone(zone: str, instant: dt.datetime) -> None:
    """The per-hour offset cache gives exactly astimezone's day, clock changes included
    (St John's and Lord Howe change their clocks at half hours)."""
    days = LocalDays(zoneinfo.ZoneInfo(zone))
    stored = instant.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLite's naive-UTC text
    expected = instant.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(zone)).date()
    assert days.of(stored) == expected
    assert days.of(stored) == expected  # again, from the cache
    assert days.of(instant.replace(tzinfo=dt.UTC)) == expected


def test_local_days_around_a_half_hour_clock_change() -> None:
    """St John's moves its clocks at 02:00 local (05:30 UTC) in spring: the hour
    05:00-06:00 UTC holds a change, so its instants are converted one by one."""
    days = LocalDays(zoneinfo.ZoneInfo("America/St_Johns"))
    zone = zoneinfo.ZoneInfo("America/St_Johns")
    for minute in range(0, 24 * 60, 7):
        moment = dt.datetime(2026, 3, 8, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        text = moment.replace(tzinfo=None).isoformat(sep=" ")
        assert days.of(text) == moment.astimezone(zone).date()


# ---------------------------------------------------------------------------- lapse


def test_a_lapse_is_due_the_day_after_the_threshold_from_the_last_visit() -> None:
    visits = [Visit(dt.date(2026, 11, 1) - dt.timedelta(days=7 * n), None) for n in range(5)]
    assert lapse(visits) == (5, dt.date(2026, 11, 23))  # 21 days + 1 after 1 November
    assert lapse(visits[:1]) == (1, None)  # one visiting day: no gap yet
    assert lapse([]) == (0, None)


def test_the_rhythm_window_is_two_years_up_to_the_last_visit() -> None:
    old = [Visit(dt.date(2020, 1, 1) + dt.timedelta(days=n), None) for n in range(10)]
    recent = [Visit(dt.date(2026, 6, 1) + dt.timedelta(days=30 * n), None) for n in range(4)]
    assert rhythm_window(old + recent) == recent
    assert lapse(old + recent) == (4, dt.date(2026, 8, 30) + dt.timedelta(days=61))


def test_a_yearly_customer_has_no_lapse_to_notice() -> None:
    yearly = [Visit(dt.date(2024 + n, 3, 1), None) for n in range(3)]
    assert lapse(yearly)[1] is None  # threshold of 730 days: more than a year
