"""Pure calendar logic on plain values: no database, no clock.

Birthdays and yearly dates are kept as month + day + optional year, because a customer may
tell the day but not the year, and because a 29 February must stay 29 February in the
data even though it only happens every fourth year.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

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
