"""The one import path, cell by cell: what an edge-case cell stores, or the message that
rejects it (line, field, value, what to write instead).

Each case imports a two-column file (the key and the cell) through the installed
library, as an operator would, and reads the customer or purchase back.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from rapport import PartialDate, Rapport, parse_settings
from tests.conftest import FixedClock


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    settings = parse_settings({"business": {"timezone": "Europe/Helsinki", "currency": "EUR"}})
    return Rapport(engine, settings=settings, clock=clock)


def _file(path: Path, header: list[str], row: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, row])
    return path


#: (column, cell, what the customer then holds in that field).
STORED: list[tuple[str, str, Any]] = [
    ("first_name", " Aino ", "Aino"),
    ("first_name", "Zoë", "Zoë"),
    ("first_name", "", None),
    ("email", "aino@Example.FI", "aino@example.fi"),
    ("email", " a@b.fi ", "a@b.fi"),
    ("phone", "(09) 123-45", "(09) 123-45"),
    ("country", "fi", "FI"),
    ("language", "pt_BR", "pt-BR"),
    ("language", "EN", "en"),
    ("timezone", " Europe/Oslo", "Europe/Oslo"),
    ("birthday", "--02-29", PartialDate(month=2, day=29)),
    ("birthday", "1980-02-29", PartialDate(year=1980, month=2, day=29)),
    ("customer_since", "2020-05-17", dt.date(2020, 5, 17)),
    ("tags", "a; b ;", ["a", "b"]),
    ("tags", "vip;vip", ["vip"]),
    ("do_not_contact", "TRUE", True),
    ("do_not_contact", "0", False),
    ("status", "inactive", "inactive"),
    ("check_in_every_days", "007", 7),
    ("notes", "two\nlines", "two\nlines"),
]

#: (column, cell, words the rejection must hold besides the line and the field).
REJECTED: list[tuple[str, str, str]] = [
    ("first_name", "A\x07ino", "control character"),
    ("first_name", "x" * 201, "201 characters long; at most 200"),
    ("email", "no-at-sign", "'no-at-sign' is not an email address"),
    ("email", "a b@c.fi", "not an email address"),
    ("phone", "call me", "'call me' is not a phone number"),
    ("phone", "12", "not a phone number"),
    ("country", "Finland", "unknown country 'Finland'"),
    ("language", "klingon", "unknown language tag 'klingon'"),
    ("timezone", "Mars/Base", "unknown timezone 'Mars/Base'"),
    ("birthday", "1981-02-29", "1981 is not a leap year"),
    ("birthday", "1990-13-01", "month 13"),
    ("birthday", "0000-00-00", "month 0"),
    ("customer_since", "2020-02-30", "2020-02-30"),
    ("customer_since", "17.5.2020", "17.5.2020"),
    ("tags", "t" * 101, "at most 100"),
    ("interests", "Jazz;jazz", "'jazz' more than once"),
    ("consent_email", "maybe", "'maybe'"),
    # "no" is part of the word "unknown" in the list of states: still shown as given.
    ("consent_email", "no", "(got 'no')"),
    ("do_not_contact", "perhaps", "'perhaps'"),
    ("status", "gone", "'gone'"),
    ("check_in_every_days", "0", "greater than 0"),
    ("check_in_every_days", "3.5", "'3.5'"),
]


@pytest.mark.parametrize(("column", "cell", "stored"), STORED)
def test_a_customer_cell_stores_its_value(
    crm: Rapport, tmp_path: Path, column: str, cell: str, stored: Any
) -> None:
    path = _file(tmp_path / "customers.csv", ["external_id", column], ["C-1", cell])
    result = crm.import_file("customers", path)
    assert (result.created, result.rejected) == (1, 0)
    profile = crm.get_profile("C-1")
    assert getattr(profile, column) == stored


@pytest.mark.parametrize(("column", "cell", "words"), REJECTED)
def test_a_customer_cell_is_rejected_with_its_reason(
    crm: Rapport, tmp_path: Path, column: str, cell: str, words: str
) -> None:
    path = _file(tmp_path / "customers.csv", ["external_id", column], ["C-1", cell])
    result = crm.import_file("customers", path, skip_invalid=True)
    assert (result.created, result.rejected) == (0, 1)
    [problem] = result.problems
    # A list's item is named by its place: "tags.0" is the first tag.
    assert problem.line == 2
    assert problem.field.partition(".")[0] == column
    assert words in problem.reason
    assert str(problem).startswith(f"line 2: {problem.field}: ")


def test_consent_cells_are_read_in_any_case_and_spacing(crm: Rapport, tmp_path: Path) -> None:
    header = ["external_id", "consent_email", "consent_sms"]
    path = _file(tmp_path / "customers.csv", header, ["C-1", "GRANTED", " Refused "])
    crm.import_file("customers", path)
    consent = crm.get_customer("C-1").consent
    assert [consent[c].state.value for c in sorted(consent) if c.value in {"email", "sms"}] == [
        "granted",
        "refused",
    ]


#: (column, cell, the purchase's field, its value), for purchase C-1's "P-1".
PURCHASE_STORED: list[tuple[str, str, str, Any]] = [
    (
        "occurred_at",
        "2026-11-20T10:00:00Z",
        "occurred_at",
        dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC),
    ),
    # No offset: the business's time zone (Helsinki is UTC+2 in November).
    (
        "occurred_at",
        "2026-11-20T10:00:00",
        "occurred_at",
        dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC),
    ),
    ("amount", "12.3456", "amount", Decimal("12.3456")),
    ("currency", "sek", "currency", "SEK"),
    ("currency", "", "currency", "EUR"),
    ("status", "REFUNDED", "status", "refunded"),
]

PURCHASE_REJECTED: list[tuple[str, str, str]] = [
    ("occurred_at", "yesterday", "'yesterday'"),
    ("occurred_at", "", "occurred_at"),
    ("amount", "-5", "negative; record a refund instead"),
    ("amount", "12.34567", "more than 4 decimal places"),
    ("amount", "1e20", "too large"),
    ("amount", "ten", "'ten'"),
    ("currency", "XYZ", "unknown currency 'XYZ'"),
    ("status", "lost", "'lost'"),
]


def _purchase_row(column: str, cell: str) -> dict[str, str]:
    row = {"purchase_id": "P-1", "customer_id": "C-1", "occurred_at": "2026-11-20", "amount": "10"}
    row[column] = cell
    return row


@pytest.mark.parametrize(("column", "cell", "field", "stored"), PURCHASE_STORED)
def test_a_purchase_cell_stores_its_value(
    crm: Rapport, tmp_path: Path, column: str, cell: str, field: str, stored: Any
) -> None:
    crm.upsert_customer({"external_id": "C-1"})
    row = _purchase_row(column, cell)
    path = _file(tmp_path / "purchases.csv", list(row), list(row.values()))
    result = crm.import_file("purchases", path)
    assert (result.created, result.rejected) == (1, 0)
    assert getattr(crm.get_purchase("P-1"), field) == stored


@pytest.mark.parametrize(("column", "cell", "words"), PURCHASE_REJECTED)
def test_a_purchase_cell_is_rejected_with_its_reason(
    crm: Rapport, tmp_path: Path, column: str, cell: str, words: str
) -> None:
    crm.upsert_customer({"external_id": "C-1"})
    row = _purchase_row(column, cell)
    path = _file(tmp_path / "purchases.csv", list(row), list(row.values()))
    result = crm.import_file("purchases", path, skip_invalid=True)
    assert (result.created, result.rejected) == (0, 1)
    [problem] = result.problems
    assert (problem.line, problem.field) == (2, column)
    assert words in str(problem)


def test_a_purchase_of_an_unknown_customer_says_to_import_the_customers_first(
    crm: Rapport, tmp_path: Path
) -> None:
    row = _purchase_row("customer_id", "C-404")
    path = _file(tmp_path / "purchases.csv", list(row), list(row.values()))
    result = crm.import_file("purchases", path, skip_invalid=True)
    [problem] = result.problems
    assert str(problem) == (
        "line 2: customer_id: no customer with external_id 'C-404'; import the customers first"
    )
