"""Bad input is rejected at the boundary with the field and the value, and nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport import InvalidInputError, Rapport
from tests.conftest import count_rows

GOOD_CUSTOMER: dict[str, Any] = {"external_id": "C-1", "first_name": "Aino"}


def rejected(rapport: Rapport, **fields: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        rapport.upsert_customer({**GOOD_CUSTOMER, **fields})
    return caught.value


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"timezone": "Europe/Helsingfors"}, "timezone", "unknown timezone 'Europe/Helsingfors'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "use an IANA name"),
        ({"birthday": "1984-02-31"}, "birthday", "February has no day 31"),
        ({"birthday": "2023-02-29"}, "birthday", "2023 is not a leap year"),
        ({"birthday": "--13-01"}, "birthday", "month 13"),
        ({"language": "xx-YY"}, "language", "unknown language tag 'xx-YY'"),
        ({"language": "klingon"}, "language", "unknown language tag 'klingon'"),
        ({"email": "aino.example.com"}, "email", "'aino.example.com' is not an email address"),
        ({"email": "@example.com"}, "email", "is not an email address"),
        ({"email": "aino@"}, "email", "is not an email address"),
        ({"phone": "call me"}, "phone", "'call me' is not a phone number"),
        ({"country": "XX"}, "country", "unknown country 'XX'"),
        ({"consent_email": "maybe"}, "consent_email", "'maybe'"),
        ({"status": "gone"}, "status", "'gone'"),
        ({"check_in_every_days": 0}, "check_in_every_days", "greater than 0"),
        ({"first_name": "Ai\x00no"}, "first_name", "control character"),
        ({"favourite_colour": "blue"}, "favourite_colour", "Extra inputs are not permitted"),
        ({"external_id": ""}, "external_id", "is empty"),
        ({"city": "x" * 201}, "city", "at most 200 fit"),
        (
            {"family": [{"name": "Eero", "relation": "cousin-twice-removed"}]},
            "family.0.relation",
            "cousin",
        ),
        (
            {"important_dates": [{"label": "Wedding", "date": "--06-01", "yearly": False}]},
            "important_dates.0",
            "needs a year",
        ),
    ],
)
def test_customer_values_are_rejected_naming_field_and_value(
    rapport: Rapport, fields: dict[str, Any], field: str, message: str
) -> None:
    error = rejected(rapport, **fields)
    assert [p.field for p in error.problems] == [field]
    assert message in str(error)
    assert "customer 'C-1'" in str(error) or field == "external_id"


def test_every_problem_of_a_customer_is_reported_at_once(rapport: Rapport) -> None:
    error = rejected(rapport, timezone="Nowhere/City", email="nope", language="zz")
    assert sorted(p.field for p in error.problems) == ["email", "language", "timezone"]


def test_rejected_customer_writes_nothing(rapport: Rapport, engine: Any) -> None:
    rejected(rapport, timezone="Europe/Helsingfors", tags=["vip"], interests=["golf"])
    assert count_rows(engine, "rapport_customer") == 0
    assert count_rows(engine, "rapport_customer_tag") == 0
    assert count_rows(engine, "rapport_interest") == 0


def test_one_bad_customer_rejects_the_whole_batch(rapport: Rapport, engine: Any) -> None:
    batch = [{"external_id": f"C-{n}"} for n in range(5)] + [
        {"external_id": "C-bad", "email": "no-at-sign"}
    ]
    with pytest.raises(InvalidInputError) as caught:
        rapport.upsert_customers(batch)
    assert "[5] (customer 'C-bad') email" in str(caught.value)
    assert count_rows(engine, "rapport_customer") == 0


@pytest.fixture
def customer(rapport: Rapport) -> str:
    rapport.upsert_customer(GOOD_CUSTOMER)
    return "C-1"


def purchase(**fields: Any) -> dict[str, Any]:
    return {
        "customer_id": "C-1",
        "external_id": "P-1",
        "occurred_at": "2026-11-01T12:00:00+02:00",
        "amount": "25.00",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "-10"}, "amount", "amount -10 is negative"),
        ({"amount": "NaN"}, "amount", "finite number"),
        ({"amount": "Infinity"}, "amount", "finite number"),
        ({"amount": "1e309"}, "amount", "too large"),
        ({"amount": "12.34567"}, "amount", "more than 4 decimal places"),
        ({"amount": "twelve"}, "amount", "'twelve'"),
        ({"currency": "EUX"}, "currency", "unknown currency 'EUX'"),
        ({"currency": "euros"}, "currency", "unknown currency 'euros'"),
        ({"occurred_at": "2026-11-01T12:00:00"}, "occurred_at", "timezone info"),
        ({"occurred_at": "2026-02-30T12:00:00Z"}, "occurred_at", "2026-02-30"),
        ({"status": "lost"}, "status", "'lost'"),
    ],
)
def test_purchase_values_are_rejected_naming_field_and_value(
    rapport: Rapport, engine: Any, customer: str, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        rapport.record_purchase(purchase(**fields))
    assert [p.field for p in caught.value.problems] == [field]
    assert message in str(caught.value)
    assert count_rows(engine, "rapport_purchase") == 0


def test_unknown_channel_is_rejected(rapport: Rapport, engine: Any, customer: str) -> None:
    with pytest.raises(InvalidInputError, match=r"channel: .*'carrier pigeon'"):
        rapport.set_consent(customer, "carrier pigeon", "granted")
    assert count_rows(engine, "rapport_consent_change") == 0


def test_unknown_consent_state_is_rejected(rapport: Rapport, customer: str) -> None:
    with pytest.raises(InvalidInputError, match=r"state: .*'yes please'"):
        rapport.set_consent(customer, "email", "yes please")


def test_unknown_interaction_kind_is_rejected(rapport: Rapport, customer: str) -> None:
    with pytest.raises(InvalidInputError, match=r"kind: .*'telepathy'"):
        rapport.record_interaction(
            {
                "customer_id": customer,
                "occurred_at": "2026-11-01T12:00:00Z",
                "kind": "telepathy",
                "direction": "inbound",
            }
        )


def test_naive_timestamps_are_refused_rather_than_guessed(rapport: Rapport, customer: str) -> None:
    with pytest.raises(InvalidInputError, match="timezone info"):
        rapport.refund_purchase("P-1", at=dt.datetime(2026, 11, 1, 12, 0))


def test_satisfaction_score_outside_one_to_five_is_rejected(
    rapport: Rapport, customer: str
) -> None:
    case = rapport.open_case(
        {"customer_id": customer, "summary": "late delivery", "opened_at": "2026-11-01T09:00:00Z"}
    )
    with pytest.raises(InvalidInputError, match="score 6 is not between 1 and 5"):
        rapport.resolve_case(case.id, satisfaction_score=6)


def test_unknown_business_currency_is_rejected(engine: Any) -> None:
    with pytest.raises(InvalidInputError, match="unknown currency 'EURO'"):
        Rapport(engine, currency="EURO")


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("FI", "fi"),
        ("sv-FI", "sv-FI"),
        ("zh-Hant-TW", "zh-Hant-TW"),
    ],
)
def test_language_tags_are_normalized_to_bcp47(
    rapport: Rapport, value: str, normalized: str
) -> None:
    assert rapport.upsert_customer({**GOOD_CUSTOMER, "language": value}).language == normalized


def test_the_control_characters_refused_are_exactly_unicodes_cc_category() -> None:
    import unicodedata

    from rapport.models.values import _CONTROL, _CONTROL_MULTILINE

    control = {chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cc"}
    refused = {chr(i) for i in range(0x110000) if _CONTROL.match(chr(i))}
    assert refused == control
    assert {c for c in control if not _CONTROL_MULTILINE.match(c)} == {"\t", "\n", "\r"}
