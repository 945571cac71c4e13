"""Validated value types for rapport's pydantic schemas.

Each type rejects a bad value with a reason that names the value and says what would be
accepted, because these messages reach operators through import reports.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Annotated

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

MAX_AMOUNT = Decimal("100000000000000")  # 10^14: far above any real purchase
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_NON_DIGITS = re.compile(r"[^0-9]")


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Unicode's control characters (category Cc): C0, DEL and C1. Tabs and line breaks are
# allowed in multi-line text only.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clean_text(value: str, *, multiline: bool = False) -> str:
    value = value.strip()
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is not None:
        raise ValueError(f"contains the control character {found.group()!r}; remove it")
    return value


def _text_check(
    max_length: int, *, required: bool = False, multiline: bool = False
) -> Callable[[str], str]:
    """A text check: no control characters, not blank when required, not too long."""

    def check(value: str) -> str:
        value = _clean_text(value, multiline=multiline)
        if required and not value:
            raise ValueError("is empty; give a value")
        if len(value) > max_length:
            raise ValueError(f"is {len(value)} characters long; at most {max_length} fit")
        return value

    return check


def _text(max_length: int, *, required: bool = False, multiline: bool = False) -> AfterValidator:
    return AfterValidator(_text_check(max_length, required=required, multiline=multiline))


def _optional(*checks: Callable[[str], str]) -> AfterValidator:
    """The checks of a value that may be absent, as one validator: blank text is None
    (an empty cell), and each present value costs one Python call. An import validates
    millions of cells, so no optional type stacks a second validator on the first."""

    def optional(value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for check in checks:
            value = check(value)
        return value

    return AfterValidator(optional)


def _line(value: str) -> str:
    return _clean_text(value)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    value = value.strip()
    if value not in _timezones():
        raise ValueError(f"unknown timezone {value!r}; use an IANA name such as 'Europe/Helsinki'")
    return value


@cache
def _language(value: str) -> str:
    # Cached: an import sees the same few language tags on every row.
    value = value.strip()
    try:
        locale = Locale.parse(value.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"unknown language tag {value!r}; use a BCP 47 tag such as 'fi', 'sv' or 'pt-BR'"
        ) from None
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or code not in _currencies():
        raise ValueError(f"unknown currency {value!r}; use an ISO 4217 code such as 'EUR'")
    return code


@cache
def _countries() -> frozenset[str]:
    return frozenset(str(code) for code in Locale("en").territories if str(code).isalpha())


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or code not in _countries():
        raise ValueError(f"unknown country {value!r}; use an ISO 3166 two-letter code such as 'FI'")
    return code


def _email(value: str) -> str:
    value = _line(value)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or value.split() != [value]:  # has whitespace
        raise ValueError(f"{value!r} is not an email address; it needs a name, '@' and a domain")
    return f"{local}@{domain.lower()}"


def _phone(value: str) -> str:
    value = _line(value)
    if not _PHONE.match(value) or len(_NON_DIGITS.sub("", value)) < 5:
        raise ValueError(
            f"{value!r} is not a phone number; use digits, spaces and an optional leading '+'"
        )
    return value


def _amount(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"amount {value} is not a number")
    if value < 0:
        raise ValueError(f"amount {value} is negative; record a refund instead")
    if value >= MAX_AMOUNT:
        raise ValueError(f"amount {value} is too large")
    if value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"amount {value} has more than 4 decimal places")
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _to_decimal(value: object) -> object:
    # Floats carry binary noise (0.1 + 0.2); going through str keeps what was written.
    if isinstance(value, float):
        return Decimal(str(value))
    return value


Line = Annotated[str, _text(200)]
RequiredLine = Annotated[str, _text(200, required=True)]
OptionalLine = Annotated[str | None, _optional(_text_check(200))]
ShortLine = Annotated[str | None, _optional(_text_check(20))]
Label = Annotated[str | None, _optional(_text_check(100))]
LongText = Annotated[str, _text(20000, multiline=True)]
RequiredLongText = Annotated[str, _text(20000, required=True, multiline=True)]
OptionalLongText = Annotated[str | None, _optional(_text_check(20000, multiline=True))]
ExternalId = Annotated[str, _text(255, required=True)]
OptionalExternalId = Annotated[str | None, _optional(_text_check(255, required=True))]
Email = Annotated[str, AfterValidator(_email), _text(320)]
OptionalEmail = Annotated[str | None, _optional(_email, _text_check(320))]
Phone = Annotated[str, AfterValidator(_phone), _text(40)]
OptionalPhone = Annotated[str | None, _optional(_phone, _text_check(40))]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
OptionalTimeZoneName = Annotated[str | None, _optional(_timezone)]
LanguageTag = Annotated[str, AfterValidator(_language)]
OptionalLanguageTag = Annotated[str | None, _optional(_language)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
OptionalCurrencyCode = Annotated[str | None, _optional(_currency)]
CountryCode = Annotated[str, AfterValidator(_country)]
OptionalCountryCode = Annotated[str | None, _optional(_country)]
Amount = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_amount)]
Tag = Annotated[str, _text(100, required=True)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_utc)]
