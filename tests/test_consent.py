"""Consent per channel and do-not-contact: every change is logged with when and where."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport import Channel, ConsentScope, ConsentState, NotFoundError, Rapport
from tests.conftest import FixedClock, count_rows


@pytest.fixture
def customer(rapport: Rapport) -> str:
    rapport.upsert_customer({"external_id": "C-1"})
    return "C-1"


def test_setting_consent_records_state_when_and_where(rapport: Rapport, customer: str) -> None:
    given = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    updated = rapport.set_consent(customer, "email", "granted", source="newsletter form", at=given)
    assert updated.consent[Channel.EMAIL].state is ConsentState.GRANTED
    assert updated.consent[Channel.EMAIL].changed_at == given
    assert updated.consent[Channel.EMAIL].source == "newsletter form"
    [entry] = rapport.consent_log(customer)
    assert (entry.scope, entry.old_value, entry.new_value) == (
        ConsentScope.EMAIL,
        "unknown",
        "granted",
    )
    assert (entry.changed_at, entry.source) == (given, "newsletter form")


def test_repeating_the_same_answer_is_not_a_change(
    rapport: Rapport, engine: Any, customer: str
) -> None:
    rapport.set_consent(customer, "sms", "refused", source="phone")
    rapport.set_consent(customer, "sms", "refused", source="phone again")
    assert count_rows(engine, "rapport_consent_change") == 1
    assert rapport.get_customer(customer).consent[Channel.SMS].source == "phone"


def test_withdrawal_is_logged_after_the_grant(
    rapport: Rapport, customer: str, clock: FixedClock
) -> None:
    rapport.set_consent(customer, "mail", "granted", source="store")
    clock.advance(days=3)
    rapport.set_consent(customer, "mail", "refused", source="letter")
    log = [(e.old_value, e.new_value, e.source) for e in rapport.consent_log(customer)]
    assert log == [("unknown", "granted", "store"), ("granted", "refused", "letter")]


def test_upserts_log_consent_changes_too(rapport: Rapport, customer: str) -> None:
    rapport.upsert_customer(
        {"external_id": "C-1", "consent_phone": "granted", "consent_source": "crm sync"}
    )
    rapport.upsert_customer({"external_id": "C-1", "consent_phone": "refused"})
    rapport.upsert_customer({"external_id": "C-1", "consent_phone": None, "city": "Oulu"})
    log = [(e.scope, e.old_value, e.new_value, e.source) for e in rapport.consent_log(customer)]
    assert log == [
        (ConsentScope.PHONE, "unknown", "granted", "crm sync"),
        (ConsentScope.PHONE, "granted", "refused", "upsert"),
    ]
    assert rapport.get_customer(customer).consent[Channel.PHONE].state is ConsentState.REFUSED


def test_a_new_customers_initial_consent_is_logged(rapport: Rapport) -> None:
    rapport.upsert_customer(
        {"external_id": "C-9", "consent_email": "granted", "consent_sms": "unknown"}
    )
    log = [(e.scope, e.new_value) for e in rapport.consent_log("C-9")]
    assert log == [(ConsentScope.EMAIL, "granted")]


def test_do_not_contact_is_logged_both_ways(
    rapport: Rapport, customer: str, clock: FixedClock
) -> None:
    assert rapport.set_do_not_contact(customer, source="customer asked").do_not_contact
    rapport.set_do_not_contact(customer, source="customer asked again")  # no change
    clock.advance(days=30)
    assert not rapport.set_do_not_contact(customer, False, source="signed up").do_not_contact
    log = [(e.scope, e.old_value, e.new_value, e.source) for e in rapport.consent_log(customer)]
    assert log == [
        (ConsentScope.DO_NOT_CONTACT, "false", "true", "customer asked"),
        (ConsentScope.DO_NOT_CONTACT, "true", "false", "signed up"),
    ]


def test_do_not_contact_through_upsert_is_logged(rapport: Rapport, customer: str) -> None:
    rapport.upsert_customer({"external_id": "C-1", "do_not_contact": True})
    assert rapport.get_customer(customer).do_not_contact
    [entry] = rapport.consent_log(customer)
    assert (entry.scope, entry.new_value) == (ConsentScope.DO_NOT_CONTACT, "true")


def test_consent_for_unknown_customer_is_not_found(rapport: Rapport) -> None:
    with pytest.raises(NotFoundError):
        rapport.set_consent("C-404", "email", "granted")
