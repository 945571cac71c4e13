"""The import fast path: new rows in their plain, common form skip pydantic.

Validating a customer row through :class:`~rapport.models.schemas.CustomerIn` costs
about 150 microseconds; a file of a million customers spends minutes there. Most rows
of a real export are unremarkable — a name, an email, an ISO date — so each cell is
checked here with the same value checks the schemas use (``rapport.models.values``),
and the row is written with :func:`~rapport.store.rows.insert_values`.

The fast path only *accepts*: any cell it is not sure about (a JSON list of family, a
control character, an odd date, a repeated interest, a value a check rejects) makes it
return ``None``, and the row takes the full validation path, which gives the precise
error message. It also only *creates*: a row for a customer or purchase that is already
stored is an update and goes through the store's upsert. A differential test
(tests/test_fastpath.py) imports the same rows both ways and compares every column.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from rapport.dates import check_month_day, parse_partial_date
from rapport.models.enums import (
    Channel,
    ConsentState,
    CustomerStatus,
    PurchaseStatus,
)
from rapport.models.values import (
    _CONTROL,
    MAX_AMOUNT,
    _country,
    _currency,
    _email,
    _language,
    _phone,
    _timezone,
)
from rapport.store.customers import insert_customers as insert_customers
from rapport.store.history import insert_purchases as insert_purchases

#: How list cells (tags, interests) separate their items.
LIST_SEPARATOR = ";"
#: The words a yes/no cell may hold (the full validation path reads the same ones).
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLAIN_AMOUNT = re.compile(r"\d{1,14}(\.\d{1,4})?")
_LINES = {
    "first_name": 200,
    "last_name": 200,
    "preferred_name": 200,
    "address_line1": 200,
    "address_line2": 200,
    "postal_code": 20,
    "city": 200,
    "owner": 200,
    "notes": 20000,
}
_CHECKED = {"email": (_email, 320), "phone": (_phone, 40)}
_CODES = {"country": _country, "language": _language, "timezone": _timezone}
_CONSENT_VALUES = frozenset(state.value for state in ConsentState)
_STATUS_VALUES = frozenset(status.value for status in CustomerStatus)
_PURCHASE_STATUS_VALUES = frozenset(status.value for status in PurchaseStatus)


class QuickCustomer(NamedTuple):
    """A new customer's column values, with the lists that become child rows."""

    external_id: str
    values: dict[str, Any]
    consents: dict[Channel, ConsentState]
    do_not_contact: bool | None
    tags: list[str]
    interests: list[str]


class QuickPurchase(NamedTuple):
    """A purchase's values, with the customer still named by its external id."""

    customer: str
    external_id: str | None
    occurred_at: dt.datetime
    amount: Decimal
    currency: str | None
    description: str | None
    category: str | None
    status: PurchaseStatus


class _Unsure(Exception):
    """The fast path cannot vouch for a cell: the row takes the full validation path."""


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or _CONTROL.search(value):
        raise _Unsure
    value = value.strip()
    if len(value) > limit:
        raise _Unsure
    return value or None


def _list(value: Any, limit: int) -> list[str]:
    items = [part.strip() for part in (_text(value, 1_000_000) or "").split(LIST_SEPARATOR)]
    items = [item for item in items if item]
    if any(len(item) > limit for item in items):
        raise _Unsure
    return items


def _checked(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError:
        raise _Unsure from None


def quick_customer(raw: Mapping[str, Any]) -> QuickCustomer | None:
    """The row as a new customer, or None when the full validation must look at it."""
    try:
        values = raw.values()
        # One search for control characters in the whole row (CSV cells are strings;
        # anything else, as JSONL may hold, takes the full path).
        if _CONTROL.search("".join(values)):
            return None
        row = _QuickRow()
        for name, value in raw.items():
            _CUSTOMER_CELLS[name](row, value.strip(), value)
        if row.external_id is None:
            return None
        return QuickCustomer(
            row.external_id, row.values, row.consents, row.do_not_contact, row.tags, row.interests
        )
    except (_Unsure, TypeError, KeyError):
        return None


class _QuickRow:
    __slots__ = ("consents", "do_not_contact", "external_id", "interests", "tags", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.consents: dict[Channel, ConsentState] = {}
        self.do_not_contact: bool | None = None
        self.tags: list[str] = []
        self.interests: list[str] = []
        self.external_id: str | None = None


_Cell = Callable[[_QuickRow, str, str], None]


def _line_cell(name: str, limit: int) -> _Cell:
    def cell(row: _QuickRow, text: str, raw: str) -> None:
        if len(text) > limit:
            raise _Unsure
        row.values[name] = text or None

    return cell


def _external_id(row: _QuickRow, text: str, raw: str) -> None:
    if not text or len(text) > 255:
        raise _Unsure
    row.external_id = text


def _checked_cell(name: str, check: Callable[[str], str], limit: int) -> _Cell:
    def cell(row: _QuickRow, text: str, raw: str) -> None:
        if not text:
            row.values[name] = None
            return
        checked = _checked(check, text)
        if len(checked) > limit:
            raise _Unsure
        row.values[name] = checked

    return cell


def _birthday(row: _QuickRow, text: str, raw: str) -> None:
    month = day = year = None
    if text:
        parts = _checked(parse_partial_date, text)
        year, month, day = parts["year"], parts["month"], parts["day"]
        try:
            check_month_day(month, day, year)
        except ValueError:
            raise _Unsure from None
    row.values.update(birth_month=month, birth_day=day, birth_year=year)


def _customer_since(row: _QuickRow, text: str, raw: str) -> None:
    if not text:
        row.values["customer_since"] = None
        return
    if text != raw or not _ISO_DATE.fullmatch(text):
        raise _Unsure
    row.values["customer_since"] = _checked(dt.date.fromisoformat, text)


def _tags(row: _QuickRow, text: str, raw: str) -> None:
    row.tags = list(dict.fromkeys(_list(text, 100)))


def _interests(row: _QuickRow, text: str, raw: str) -> None:
    topics = _list(text, 200)
    if len({topic.casefold() for topic in topics}) != len(topics):
        raise _Unsure
    row.interests = topics


def _consent_cell(channel: Channel) -> _Cell:
    def cell(row: _QuickRow, text: str, raw: str) -> None:
        if text:
            state = text.lower()
            if state not in _CONSENT_VALUES:
                raise _Unsure
            row.consents[channel] = ConsentState(state)

    return cell


def _do_not_contact(row: _QuickRow, text: str, raw: str) -> None:
    flag = text.lower()
    if flag in TRUE_WORDS:
        row.do_not_contact = True
    elif flag in FALSE_WORDS:
        row.do_not_contact = False
    elif flag:
        raise _Unsure


def _status(row: _QuickRow, text: str, raw: str) -> None:
    if text:
        if text != raw or text not in _STATUS_VALUES:
            raise _Unsure
        row.values["status"] = CustomerStatus(text)


def _check_in_every_days(row: _QuickRow, text: str, raw: str) -> None:
    if text:
        if not (text.isascii() and text.isdigit()) or int(text) <= 0:
            raise _Unsure
        row.values["check_in_every_days"] = int(text)


def _json_only(row: _QuickRow, text: str, raw: str) -> None:
    if text:  # family and important dates are JSON: only the full path reads them
        raise _Unsure


_CUSTOMER_CELLS: dict[str, _Cell] = {
    **{name: _line_cell(name, limit) for name, limit in _LINES.items()},
    "external_id": _external_id,
    "email": _checked_cell("email", _email, 320),
    "phone": _checked_cell("phone", _phone, 40),
    "country": _checked_cell("country", _country, 2),
    "language": _checked_cell("language", _language, 35),
    "timezone": _checked_cell("timezone", _timezone, 64),
    "birthday": _birthday,
    "customer_since": _customer_since,
    "tags": _tags,
    "interests": _interests,
    **{f"consent_{channel.value}": _consent_cell(channel) for channel in Channel},
    "do_not_contact": _do_not_contact,
    "status": _status,
    "check_in_every_days": _check_in_every_days,
    "family": _json_only,
    "important_dates": _json_only,
}


def quick_purchase(raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo) -> QuickPurchase | None:
    """The row as a purchase, or None when the full validation must look at it."""
    try:
        if "__error__" in raw or "__cells__" in raw or _CONTROL.search("".join(raw.values())):
            return None
        customer = raw["customer_id"].strip()
        occurred = raw["occurred_at"].strip()
        amount = raw["amount"]
        if not customer or len(customer) > 255 or not occurred or len(occurred) > 40:
            return None
        if not _PLAIN_AMOUNT.fullmatch(amount):
            return None
        moment = dt.datetime.fromisoformat(occurred.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        value = Decimal(amount)
        if value >= MAX_AMOUNT:
            return None
        status = raw.get("status", "").strip().lower() or PurchaseStatus.COMPLETED.value
        if status not in _PURCHASE_STATUS_VALUES:
            return None
        currency = raw.get("currency", "").strip()
        purchase_id = raw.get("purchase_id", "").strip()
        description = raw.get("description", "").strip()
        category = raw.get("category", "").strip()
        if len(purchase_id) > 255 or len(description) > 20000 or len(category) > 100:
            return None
        return QuickPurchase(
            customer=customer,
            external_id=purchase_id or None,
            occurred_at=moment.astimezone(dt.UTC),
            amount=value,
            currency=_checked(_currency, currency) if currency else None,
            description=description or None,
            category=category or None,
            status=PurchaseStatus(status),
        )
    except (_Unsure, ValueError, TypeError, KeyError, AttributeError):
        return None
