"""Purchases, refunds, interactions, cases and promises, and the rollups they maintain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport import (
    CaseStatus,
    NotFoundError,
    PromiseStatus,
    PurchaseStatus,
    Rapport,
    StateError,
)
from tests.conftest import FixedClock, count_rows


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def customer(rapport: Rapport) -> str:
    rapport.upsert_customer({"external_id": "C-1", "first_name": "Aino"})
    return "C-1"


def buy(rapport: Rapport, purchase_id: str, when: str, amount: str, **extra: Any) -> Any:
    return rapport.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": purchase_id,
            "occurred_at": when,
            "amount": amount,
            **extra,
        }
    )


def test_purchases_maintain_count_value_and_dates(rapport: Rapport, customer: str) -> None:
    buy(rapport, "P-1", "2026-03-01T10:00:00+02:00", "100.10")
    buy(rapport, "P-2", "2026-09-15T10:00:00+03:00", "250.25")
    c = rapport.get_customer(customer)
    assert c.purchase_count == 2
    assert c.lifetime_value == Decimal("350.35")
    assert c.first_purchase_at == at("2026-03-01T08:00:00+00:00")
    assert c.last_purchase_at == at("2026-09-15T07:00:00+00:00")
    assert c.last_contact_at == c.last_purchase_at
    assert c.spend_365d == Decimal("350.35")
    assert c.spend_365d_as_of == dt.date(2026, 11, 22)


def test_money_is_exact_not_floating_point(rapport: Rapport, customer: str) -> None:
    for n in range(10):
        buy(rapport, f"P-{n}", "2026-11-01T10:00:00Z", "0.1")
    assert rapport.get_customer(customer).lifetime_value == Decimal("1.0")
    purchase = buy(rapport, "P-big", "2026-11-01T10:00:00Z", "12345678901.2345")
    assert purchase.amount == Decimal("12345678901.2345")


def test_recording_the_same_purchase_again_changes_nothing(
    rapport: Rapport, engine: Any, customer: str
) -> None:
    first = buy(rapport, "P-1", "2026-11-01T10:00:00Z", "80")
    again = buy(rapport, "P-1", "2026-11-01T10:00:00Z", "80")
    summary = rapport.record_purchases(
        [
            {
                "customer_id": "C-1",
                "external_id": "P-1",
                "occurred_at": first.occurred_at,
                "amount": 80,
            }
        ]
    )
    assert again == first
    assert (summary.created, summary.unchanged) == (0, 1)
    assert count_rows(engine, "rapport_purchase") == 1
    c = rapport.get_customer(customer)
    assert (c.purchase_count, c.lifetime_value) == (1, Decimal(80))


def test_a_refund_leaves_spend_and_count_but_not_last_contact(
    rapport: Rapport, customer: str
) -> None:
    buy(rapport, "P-1", "2026-10-01T10:00:00Z", "500")
    buy(rapport, "P-2", "2026-11-01T10:00:00Z", "40")
    refunded = rapport.refund_purchase("P-2")
    assert refunded.status is PurchaseStatus.REFUNDED
    assert refunded.refunded_at == at("2026-11-22T09:00:00+00:00")
    c = rapport.get_customer(customer)
    assert (c.purchase_count, c.lifetime_value, c.spend_365d) == (1, Decimal(500), Decimal(500))
    assert c.last_purchase_at == at("2026-10-01T10:00:00+00:00")
    assert c.last_contact_at == at("2026-11-01T10:00:00+00:00")


def test_refunding_twice_is_harmless(rapport: Rapport, customer: str) -> None:
    buy(rapport, "P-1", "2026-10-01T10:00:00Z", "500")
    first = rapport.refund_purchase("P-1")
    assert rapport.refund_purchase("P-1") == first
    assert rapport.get_customer(customer).lifetime_value == 0


def test_re_importing_a_purchase_as_refunded_refunds_it(rapport: Rapport, customer: str) -> None:
    buy(rapport, "P-1", "2026-10-01T10:00:00Z", "500")
    summary = rapport.record_purchases(
        [
            {
                "customer_id": "C-1",
                "external_id": "P-1",
                "occurred_at": "2026-10-01T10:00:00Z",
                "amount": "500",
                "status": "refunded",
            }
        ]
    )
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    assert rapport.get_customer(customer).lifetime_value == 0


def test_refund_of_unknown_purchase_is_not_found(rapport: Rapport, customer: str) -> None:
    with pytest.raises(NotFoundError, match="no purchase with external_id 'P-404'"):
        rapport.refund_purchase("P-404")


def test_purchases_in_other_currencies_count_as_purchases_but_not_as_spend(
    rapport: Rapport, customer: str
) -> None:
    buy(rapport, "P-1", "2026-10-01T10:00:00Z", "100")
    buy(rapport, "P-2", "2026-10-02T10:00:00Z", "9000", currency="sek")
    c = rapport.get_customer(customer)
    assert c.purchase_count == 2
    assert c.lifetime_value == Decimal(100)
    assert rapport.get_profile(customer).recent_purchases[0].currency == "SEK"


def test_purchase_for_unknown_customer_writes_nothing(rapport: Rapport, engine: Any) -> None:
    rapport.upsert_customer({"external_id": "C-1"})
    batch = [
        {"customer_id": "C-1", "occurred_at": "2026-10-01T10:00:00Z", "amount": 5},
        {"customer_id": "C-2", "occurred_at": "2026-10-01T10:00:00Z", "amount": 5},
    ]
    with pytest.raises(NotFoundError, match="'C-2'"):
        rapport.record_purchases(batch)
    assert count_rows(engine, "rapport_purchase") == 0


def test_trailing_spend_counts_only_the_last_365_days(
    rapport: Rapport, customer: str, clock: FixedClock
) -> None:
    buy(rapport, "P-old", "2025-11-22T23:59:00Z", "1000")  # day 366 before as_of: out
    buy(rapport, "P-edge", "2025-11-23T00:00:00Z", "10")  # day 365 before: in
    c = rapport.get_customer(customer)
    assert c.spend_365d == Decimal(10)
    assert c.lifetime_value == Decimal(1010)


def test_refresh_ages_trailing_spend_and_touches_only_customers_who_changed(
    rapport: Rapport, customer: str, clock: FixedClock
) -> None:
    rapport.upsert_customer({"external_id": "C-2"})
    buy(rapport, "P-1", "2026-01-10T12:00:00Z", "300")
    buy(rapport, "P-2", "2026-06-10T12:00:00Z", "200")
    rapport.record_purchase(
        {"customer_id": "C-2", "occurred_at": "2026-08-01T12:00:00Z", "amount": "70"}
    )
    assert rapport.refresh_rollups(dt.date(2026, 12, 1)) == 0  # nothing left the window
    assert rapport.refresh_rollups(dt.date(2027, 1, 20)) == 1  # P-1 left, for C-1 only
    assert rapport.get_customer("C-1").spend_365d == Decimal(200)
    assert rapport.get_customer("C-1").spend_365d_as_of == dt.date(2027, 1, 20)
    assert rapport.get_customer("C-2").spend_365d == Decimal(70)
    assert rapport.refresh_rollups(dt.date(2027, 1, 20)) == 0  # same day again: no work
    assert rapport.refresh_rollups(dt.date(2027, 8, 5)) == 2
    assert rapport.get_customer("C-1").spend_365d == 0
    assert rapport.get_customer("C-2").spend_365d == 0
    assert rapport.get_customer("C-1").lifetime_value == Decimal(500)


def test_interactions_move_last_contact_forward_never_back(rapport: Rapport, customer: str) -> None:
    buy(rapport, "P-1", "2026-10-01T10:00:00Z", "10")
    rapport.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-11-05T14:00:00Z",
            "kind": "call",
            "direction": "outbound",
            "summary": "Asked how the new boat is",
            "staff": "maria",
        }
    )
    c = rapport.get_customer(customer)
    assert c.last_interaction_at == at("2026-11-05T14:00:00+00:00")
    assert c.last_contact_at == at("2026-11-05T14:00:00+00:00")
    rapport.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-01-01T09:00:00Z",
            "kind": "note",
            "direction": "inbound",
        }
    )
    assert rapport.get_customer(customer).last_contact_at == at("2026-11-05T14:00:00+00:00")
    buy(rapport, "P-0", "2025-01-01T10:00:00Z", "10")  # an old purchase arriving late
    assert rapport.get_customer(customer).last_contact_at == at("2026-11-05T14:00:00+00:00")


def test_interaction_with_external_id_is_recorded_once(
    rapport: Rapport, engine: Any, customer: str
) -> None:
    row = {
        "customer_id": "C-1",
        "external_id": "I-1",
        "occurred_at": "2026-11-05T14:00:00Z",
        "kind": "visit",
        "direction": "inbound",
    }
    first = rapport.record_interaction(row)
    assert rapport.record_interaction(row) == first
    assert rapport.record_interactions([row]).unchanged == 1
    assert count_rows(engine, "rapport_interaction") == 1


def test_interaction_linked_to_unknown_task_is_refused(rapport: Rapport, customer: str) -> None:
    with pytest.raises(NotFoundError, match="no outreach task with id 99"):
        rapport.record_interaction(
            {
                "customer_id": "C-1",
                "occurred_at": "2026-11-05T14:00:00Z",
                "kind": "call",
                "direction": "outbound",
                "task_id": 99,
            }
        )


def test_cases_open_and_resolve_once(rapport: Rapport, customer: str) -> None:
    case = rapport.open_case(
        {
            "customer_id": "C-1",
            "summary": "Zipper broke",
            "opened_at": "2026-11-20T09:00:00Z",
            "severity": "high",
            "owner": "maria",
        }
    )
    assert case.status is CaseStatus.OPEN
    resolved = rapport.resolve_case(
        case.id, resolution="Replaced", on_first_contact=True, satisfaction_score=5
    )
    assert resolved.status is CaseStatus.RESOLVED
    assert resolved.resolved_at == at("2026-11-22T09:00:00+00:00")
    assert (resolved.resolved_on_first_contact, resolved.satisfaction_score) == (True, 5)
    assert rapport.get_profile(customer).open_cases == []
    with pytest.raises(StateError, match="already resolved"):
        rapport.resolve_case(case.id)


def test_a_case_cannot_be_resolved_before_it_opened(rapport: Rapport, customer: str) -> None:
    case = rapport.open_case(
        {"customer_id": "C-1", "summary": "Late", "opened_at": "2026-11-20T09:00:00Z"}
    )
    with pytest.raises(StateError, match="before it was opened"):
        rapport.resolve_case(case.id, at=at("2026-11-19T09:00:00+00:00"))


def test_unknown_case_is_not_found(rapport: Rapport, customer: str) -> None:
    with pytest.raises(NotFoundError, match="no case with id 12345"):
        rapport.resolve_case(12345)


def test_promises_are_kept_or_broken_once(rapport: Rapport, customer: str) -> None:
    kept = rapport.create_promise(
        {"customer_id": "C-1", "what": "Order the blue size 40", "due_at": "2026-11-30T12:00Z"}
    )
    broken = rapport.create_promise(
        {"customer_id": "C-1", "what": "Call back Friday", "due_at": "2026-11-27T12:00Z"}
    )
    assert rapport.keep_promise(kept.id).status is PromiseStatus.KEPT
    assert rapport.break_promise(broken.id, note="Supplier late").status is PromiseStatus.BROKEN
    with pytest.raises(StateError, match="already kept"):
        rapport.break_promise(kept.id)
    assert rapport.get_profile(customer).open_promises == []


def test_renegotiating_a_promise_keeps_the_old_one_as_history(
    rapport: Rapport, customer: str
) -> None:
    promise = rapport.create_promise(
        {"customer_id": "C-1", "what": "Deliver the sofa", "due_at": "2026-11-25T12:00Z"}
    )
    new = rapport.renegotiate_promise(
        promise.id, new_due_at=at("2026-12-02T12:00:00+00:00"), note="Customer away"
    )
    assert new.id != promise.id
    assert (new.what, new.status) == ("Deliver the sofa", PromiseStatus.OPEN)
    assert new.due_at == at("2026-12-02T12:00:00+00:00")
    assert [p.id for p in rapport.get_profile(customer).open_promises] == [new.id]
