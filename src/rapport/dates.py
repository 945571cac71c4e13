"""Pure calendar logic on plain values: no database, no clock.

Birthdays and yearly dates are kept as month + day + optional year, because a customer may
tell the day but not the year, and because a 29 February must stay 29 February in the
data even though it only happens every fourth year.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from typing import Literal

import holidays
from pydantic import BaseModel, ConfigDict, model_validator

MIN_YEAR = 1800
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NO_YEAR = re.compile(r"^--(\d{2})-(\d{2})$")


def check_month_day(month: int, day: int, year: int | None = None) -> None:
    """Raise ``ValueError`` unless month/day (and year, when known) name a real date.

    29 February is accepted without a year (it exists in leap years) but rejected with a
    known common year.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not between 1 and 12")
    if year is not None and not MIN_YEAR <= year <= 9999:
        raise ValueError(f"year {year} is not between {MIN_YEAR} and 9999")
    longest = calendar.monthrange(year if year is not None else 2000, month)[1]
    if not 1 <= day <= longest:
        month_name = calendar.month_name[month]
        if year is not None and month == 2 and day == 29:
            raise ValueError(f"{year} is not a leap year, so it has no 29 February")
        raise ValueError(f"{month_name} has no day {day}")


class PartialDate(BaseModel):
    """A calendar day whose year may be unknown (``--MM-DD``), such as a birthday."""

    model_config = ConfigDict(frozen=True)

    month: int
    day: int
    year: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text_or_date(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("expected a date, not a date and time")
        if isinstance(value, dt.date):
            return {"year": value.year, "month": value.month, "day": value.day}
        if isinstance(value, str):
            return parse_partial_date(value)
        return value

    @model_validator(mode="after")
    def _real_day(self) -> PartialDate:
        check_month_day(self.month, self.day, self.year)
        return self

    def __str__(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_partial_date(text: str) -> dict[str, int | None]:
    """Split ``YYYY-MM-DD`` or ``--MM-DD`` into its parts; the range check comes later."""
    text = text.strip()
    if match := _ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
        return {"year": year, "month": month, "day": day}
    if match := _NO_YEAR.match(text):
        month, day = (int(part) for part in match.groups())
        return {"year": None, "month": month, "day": day}
    raise ValueError(
        f"{text!r} is not a date; write YYYY-MM-DD, or --MM-DD when the year is unknown"
    )


# ---------------------------------------------------------------------------- yearly dates

Feb29Policy = Literal["feb28", "mar1"]

#: Ages worth a special mention: coming of age, then every round decade.
MILESTONE_AGES = frozenset({18, *range(30, 130, 10)})


def yearly_date(month: int, day: int, year: int, feb29: Feb29Policy = "feb28") -> dt.date:
    """The day a yearly date (birthday, anniversary) falls on in ``year``.

    Computed from the month and day alone, never from an earlier occurrence, so a
    29 February birthday is 28 February (or 1 March) in common years and 29 February
    again in every leap year.
    """
    if month == 2 and day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1) if feb29 == "mar1" else dt.date(year, 2, 28)
    return dt.date(year, month, day)


def latest_yearly_on_or_before(
    month: int, day: int, latest: dt.date, feb29: Feb29Policy = "feb28"
) -> dt.date:
    """The last occurrence of a yearly date on or before ``latest``."""
    this_year = yearly_date(month, day, latest.year, feb29)
    return this_year if this_year <= latest else yearly_date(month, day, latest.year - 1, feb29)


def month_days_between(
    first: dt.date, last: dt.date, feb29: Feb29Policy = "feb28"
) -> set[tuple[int, int]]:
    """Every (month, day) whose yearly date falls within ``first``..``last``.

    This is what a rule asks the database for: birthdays stored as (month, day), looked
    up through their index. A stored 29 February is included when its common-year stand-in
    day is in the range.
    """
    pairs: set[tuple[int, int]] = set()
    day = first
    while day <= last and len(pairs) < 366:
        pairs.add((day.month, day.day))
        if not calendar.isleap(day.year) and (
            (feb29 == "feb28" and (day.month, day.day) == (2, 28))
            or (feb29 == "mar1" and (day.month, day.day) == (3, 1))
        ):
            pairs.add((2, 29))
        day += dt.timedelta(days=1)
    return pairs


def age_on(birth_year: int | None, birth_month: int, birth_day: int, on: dt.date) -> int | None:
    """Age in whole years on ``on`` (None when the birth year is unknown)."""
    if birth_year is None:
        return None
    had_birthday = (on.month, on.day) >= (birth_month, birth_day)
    return on.year - birth_year - (0 if had_birthday else 1)


# ---------------------------------------------------------------------------- working days


class WorkingDays:
    """Weekdays that are not public holidays in the business's country.

    Holiday calendars come from the ``holidays`` package; with no country only weekends
    are skipped.
    """

    def __init__(self, country: str | None) -> None:
        self._calendar = holidays.country_holidays(country) if country else None

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() >= 5:
            return False
        return not self.is_holiday(day)

    def is_holiday(self, day: dt.date) -> bool:
        """A public holiday of the business's country (never, with no country)."""
        return self._calendar is not None and day in self._calendar

    def on_or_after(self, day: dt.date) -> dt.date:
        """The first working day on or after ``day``."""
        for offset in range(31):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day in the 31 days from {day.isoformat()}")


# ---------------------------------------------------------------------------- local days


class LocalDays:
    """The business-calendar day of many UTC instants, in one timezone.

    Rules that read years of purchases convert millions of instants; the zone's offset is
    looked up once per UTC hour (and per instant only in the rare hour that holds a
    clock change), so the answer is exactly ``instant.astimezone(zone).date()``.
    """

    def __init__(self, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[str, dt.timedelta | None] = {}

    def of(self, instant: dt.datetime | str) -> dt.date:
        """The day of an aware instant, or of a naive UTC timestamp as SQLite stores it
        (``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
        if not isinstance(instant, str):
            return instant.astimezone(self.zone).date()
        naive = dt.datetime.fromisoformat(instant)
        key = instant[:13]
        try:
            offset = self._offsets[key]
        except KeyError:
            offset = self._offsets[key] = self._hour_offset(naive)
        if offset is None:
            return naive.replace(tzinfo=dt.UTC).astimezone(self.zone).date()
        return (naive + offset).date()

    def _hour_offset(self, naive: dt.datetime) -> dt.timedelta | None:
        """The offset in force for the whole UTC hour of ``naive``, or None when it
        changes within that hour."""
        start = naive.replace(minute=0, second=0, microsecond=0, tzinfo=dt.UTC)
        end = start + dt.timedelta(hours=1) - dt.timedelta(microseconds=1)
        first, last = start.astimezone(self.zone), end.astimezone(self.zone)
        if first.utcoffset() != last.utcoffset():
            return None
        return first.utcoffset()
