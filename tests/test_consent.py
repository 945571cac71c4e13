"""Consent per channel and do-not-contact: every change is logged with when and where."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import update

from rapport import (
    Channel,
    ConsentScope,
    ConsentState,
    CustomerOut,
    NotFoundError,
    Rapport,
    TaskStatus,
    parse_settings,
)
from rapport.models.tables import Customer
from tests.conftest import FixedClock, count_rows, empty_tables, only_rules, tried


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


# ---------------------------------------------------------------- withdrawal cancels tasks

WITHDRAWAL_SETTINGS = {
    "rules": {
        **only_rules("birthday_card", "thank_you_note", "check_in_call", "promise_reminder"),
        "birthday_card": {"channels": ["email", "sms", "mail"]},
        "thank_you_note": {"channels": ["sms", "email"], "min_amount": 100},
        "check_in_call": {"channels": ["phone"]},
    }
}
TODAY = dt.date(2026, 11, 22)


def reachable(external_id: str, birthday: str = "--11-26", **extra: Any) -> dict[str, Any]:
    """A customer reachable on every channel, with a birthday in the planner's week."""
    return {
        "external_id": external_id,
        "first_name": "Aino",
        "email": f"{external_id.lower()}@example.com",
        "phone": "+358 40 123 4567",
        "address_line1": "Rantakatu 5",
        "city": "Helsinki",
        "birthday": birthday,
        "consent_email": "granted",
        "consent_sms": "granted",
        "consent_phone": "granted",
        "consent_mail": "granted",
        **extra,
    }


@pytest.fixture
def crm(engine: Any, clock: FixedClock) -> Iterator[Rapport]:
    yield Rapport(engine, settings=parse_settings(WITHDRAWAL_SETTINGS), clock=clock)
    empty_tables(engine)


def open_tasks(crm: Rapport, customer: str) -> dict[str, str | None]:
    """{rule: channel} of the customer's open tasks."""
    return {
        task.rule: task.channel.value if task.channel else None
        for task in crm.find_tasks(customer_id=customer, status=["planned", "snoozed"])
    }


def planned_for_a_happy_customer(crm: Rapport, customer: str = "C-1") -> None:
    crm.upsert_customer(reachable(customer, tags=["vip"]))
    crm.record_purchase(
        {
            "customer_id": customer,
            "occurred_at": dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC),
            "amount": 500,
        }
    )
    crm.create_promise(
        {"customer_id": customer, "what": "order the blue scarf", "due_at": "2026-11-25T10:00Z"}
    )
    crm.plan(TODAY)


def test_withdrawing_a_channel_cancels_the_tasks_on_it_at_once(crm: Rapport) -> None:
    planned_for_a_happy_customer(crm)
    before = open_tasks(crm, "C-1")
    assert before["birthday_card"] == "email"
    assert before["thank_you_note"] == "sms"
    assert before["promise_reminder"] is None  # for staff: nobody is contacted

    crm.set_consent("C-1", "email", "refused", source="unsubscribe link")

    assert open_tasks(crm, "C-1") == {k: v for k, v in before.items() if v != "email"}
    [card] = crm.find_tasks(customer_id="C-1", rule="birthday_card")
    assert (card.status, card.reason) == (TaskStatus.CANCELLED, "no_consent")
    assert card.completed_at is not None


def test_do_not_contact_cancels_every_task_that_reaches_the_customer(crm: Rapport) -> None:
    planned_for_a_happy_customer(crm)
    done = crm.find_tasks(customer_id="C-1", rule="thank_you_note")[0]
    crm.complete_task(done.id, outcome="sent")

    crm.set_do_not_contact("C-1", source="asked on the phone")

    assert open_tasks(crm, "C-1") == {"promise_reminder": None}
    reasons = {t.rule: (t.status, t.reason) for t in crm.find_tasks(customer_id="C-1")}
    assert reasons["birthday_card"] == (TaskStatus.CANCELLED, "do_not_contact")
    assert reasons["thank_you_note"][0] is TaskStatus.DONE  # history stays as it was
    # Planning again does not bring them back, even after the customer allows contact.
    crm.set_do_not_contact("C-1", False, source="changed their mind")
    assert crm.plan(TODAY).created == 0


def test_upserts_and_imports_that_take_consent_away_cancel_too(
    crm: Rapport, tmp_path: Path
) -> None:
    for customer in ("C-1", "C-2", "C-3"):
        planned_for_a_happy_customer(crm, customer)
    crm.upsert_customer({"external_id": "C-1", "status": "deceased"})
    crm.upsert_customers([{"external_id": "C-2", "consent_sms": "refused"}])
    csv = tmp_path / "customers.csv"
    csv.write_text("external_id,consent_mail,consent_email\nC-3,refused,refused\n")
    crm.import_file("customers", csv)

    assert open_tasks(crm, "C-1") == {"promise_reminder": None}
    assert "thank_you_note" not in open_tasks(crm, "C-2")
    assert open_tasks(crm, "C-2")["birthday_card"] == "email"
    assert "birthday_card" not in open_tasks(crm, "C-3")
    assert open_tasks(crm, "C-3")["thank_you_note"] == "sms"
    reasons = {(t.customer_id, t.rule): t.reason for t in crm.find_tasks(status="cancelled")}
    assert reasons[("C-1", "birthday_card")] == "deceased"
    assert reasons[("C-2", "thank_you_note")] == "no_consent"


def test_a_host_apps_own_update_is_caught_by_the_next_plan(crm: Rapport, engine: Any) -> None:
    planned_for_a_happy_customer(crm)
    with engine.begin() as connection:  # the host app writes its table directly
        connection.execute(
            update(Customer).where(Customer.external_id == "C-1").values(consent_sms="refused")
        )
    report = crm.plan(TODAY)
    assert report.cancelled == 1
    assert "thank_you_note" not in open_tasks(crm, "C-1")


# What a never-asked channel allows by default (docs/configuration.md, [consent]).
UNKNOWN_ALLOWS = {"mail": True, "phone": True, "email": False, "sms": False}
STATES = st.sampled_from(["granted", "refused", "unknown"])
CHANNELS = st.sampled_from(["email", "sms", "phone", "mail"])
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("plan"), st.integers(0, 6)),
        st.tuples(st.just("consent"), st.integers(0, 2), CHANNELS, STATES),
        st.tuples(st.just("do_not_contact"), st.integers(0, 2), st.booleans()),
        st.tuples(st.just("status"), st.integers(0, 2), st.sampled_from(["active", "inactive"])),
    ),
    min_size=1,
    max_size=8,
)


def allows(customer: CustomerOut, channel: str) -> bool:
    if customer.do_not_contact or customer.status.value != "active":
        return False
    state = customer.consent[Channel(channel)].state.value
    return state == "granted" or (state == "unknown" and UNKNOWN_ALLOWS[channel])


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    consents=st.lists(
        st.fixed_dictionaries(dict.fromkeys(UNKNOWN_ALLOWS, STATES)), min_size=3, max_size=3
    ),
    steps=STEPS,
)
def test_no_open_task_is_ever_on_a_channel_the_customer_has_not_allowed(
    crm: Rapport, engine: Any, consents: list[dict[str, str]], steps: list[tuple[Any, ...]]
) -> None:
    empty_tables(engine)
    names = ["C-0", "C-1", "C-2"]
    for name, consent in zip(names, consents, strict=True):
        crm.upsert_customer(
            reachable(name, tags=["vip"], **{f"consent_{c}": s for c, s in consent.items()})
        )
        crm.record_purchase(
            {"customer_id": name, "occurred_at": "2026-11-21T10:00Z", "amount": 500}
        )
    checked = 0
    for step in [("plan", 0), *steps]:
        match step:
            case ("plan", offset):
                crm.plan(TODAY + dt.timedelta(days=offset))
            case ("consent", who, channel, state):
                crm.set_consent(names[who], channel, state)
            case ("do_not_contact", who, value):
                crm.set_do_not_contact(names[who], value)
            case ("status", who, status):
                crm.upsert_customer({"external_id": names[who], "status": status})
        customers = {name: crm.get_customer(name) for name in names}
        for task in crm.find_tasks(status=["planned", "snoozed"]):
            if task.channel is not None:
                checked += 1
                assert allows(customers[task.customer_id], task.channel.value), (step, task)
    event(f"open customer-facing tasks checked: {min(checked, 10) // 5 * 5}+")
    CHECKED["examples"] += 1
    CHECKED["steps"] += len(steps) + 1
    CHECKED["open tasks"] += checked


CHECKED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def print_checked(backend: str) -> Iterator[None]:
    yield
    if CHECKED:
        tried(
            f"consent property ({backend}): {CHECKED['examples']} random histories, "
            f"{CHECKED['steps']} steps, {CHECKED['open tasks']} open tasks checked against "
            "the consent of the day"
        )
    CHECKED.clear()


def test_a_big_batch_upsert_cancels_too(crm: Rapport) -> None:
    planned_for_a_happy_customer(crm)
    batch = [{"external_id": f"N-{n}", "first_name": "Uusi"} for n in range(6000)]
    batch.append({"external_id": "C-1", "consent_email": "refused"})
    crm.upsert_customers(batch)  # more customers than a reconcile lists one by one
    assert "birthday_card" not in open_tasks(crm, "C-1")
