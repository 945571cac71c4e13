"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Primary keys: 64-bit on PostgreSQL, SQLite's rowid alias (INTEGER) on SQLite.
Id: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

MONEY_SCALE = 4
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp, stored in UTC, always returned aware.

    SQLite has no timezone type and would hand back naive values; this keeps both
    databases identical to callers and refuses naive input instead of guessing a zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is dt.UTC:  # the common case, already in UTC
            return value.replace(tzinfo=None) if dialect.name == "sqlite" else value
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"timestamp {value.isoformat()} has no timezone; pass an aware datetime"
            )
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """An exact amount, stored as a whole number of 1/10,000ths.

    SQLite has no exact decimal type (it would round through floats); a scaled integer
    sums exactly in SQL on every database and compares correctly with bound amounts.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * _MONEY_FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {value} has more than {MONEY_SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) / _MONEY_FACTOR

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class RawTimestamp(String):
    """A stored timestamp read as the driver hands it over: SQLite's naive-UTC text, or
    PostgreSQL's aware datetime. For code that reads millions of them and only needs
    their day (see :class:`rapport.dates.LocalDays`)."""

    cache_ok = True
