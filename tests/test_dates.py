"""Partial dates (birthdays whose year may be unknown) are checked with plain values."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from rapport.dates import PartialDate, check_month_day


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
