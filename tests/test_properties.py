"""Invariants checked on many generated cases (hypothesis)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from rapport import PartialDate, Rapport

_ids = itertools.count()

partial_dates = st.dates(min_value=dt.date(1800, 1, 1)).flatmap(
    lambda day: st.sampled_from(
        [
            PartialDate(year=day.year, month=day.month, day=day.day),
            PartialDate(month=day.month, day=day.day),
        ]
    )
)


@given(partial_dates)
def test_a_partial_date_reads_back_from_its_text(value: PartialDate) -> None:
    assert PartialDate.model_validate(str(value)) == value


purchases = st.lists(
    st.tuples(
        st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
        st.sampled_from(["EUR", "EUR", "SEK"]),
        st.integers(min_value=0, max_value=800),  # days before the clock's today
        st.booleans(),  # refunded afterwards
    ),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(purchases)
def test_rollups_always_equal_the_sums_of_the_purchases(
    rapport: Rapport, history: list[tuple[Decimal, str, int, bool]]
) -> None:
    customer = f"H-{next(_ids)}"
    rapport.upsert_customer({"external_id": customer})
    now = rapport.now()
    for n, (amount, currency, days_ago, _) in enumerate(history):
        rapport.record_purchase(
            {
                "customer_id": customer,
                "external_id": f"{customer}-{n}",
                "occurred_at": now - dt.timedelta(days=days_ago),
                "amount": amount,
                "currency": currency,
            }
        )
    for n, (*_, refunded) in enumerate(history):
        if refunded:
            rapport.refund_purchase(f"{customer}-{n}")

    kept = [(a, c, d) for a, c, d, refunded in history if not refunded]
    in_eur = [(a, d) for a, c, d in kept if c == "EUR"]
    result = rapport.get_customer(customer)
    assert result.purchase_count == len(kept)
    assert result.lifetime_value == sum((a for a, _ in in_eur), Decimal(0))
    assert result.spend_365d == sum((a for a, d in in_eur if d < 365), Decimal(0))
    if kept:
        assert result.last_purchase_at == now - dt.timedelta(days=min(d for *_, d in kept))
    if history:
        assert result.last_contact_at == now - dt.timedelta(days=min(h[2] for h in history))


# ---------------------------------------------------------------------------- the planner

consents = st.sampled_from(["granted", "refused", "unknown"])
customer_profiles = st.fixed_dictionaries(
    {
        "birthday": st.one_of(
            st.none(),
            st.tuples(st.integers(1, 12), st.integers(1, 28)).map(
                lambda md: f"--{md[0]:02d}-{md[1]:02d}"
            ),
            st.just("--02-29"),
        ),
        "consent_mail": consents,
        "consent_email": consents,
        "consent_phone": consents,
        "do_not_contact": st.booleans(),
        "status": st.sampled_from(["active", "active", "active", "inactive", "deceased"]),
        "has_address": st.booleans(),
        "has_email": st.booleans(),
        "has_phone": st.booleans(),
        "vip": st.booleans(),
        "purchases": st.lists(st.tuples(st.integers(0, 60), st.integers(1, 2000)), max_size=4),
        "last_call_days_ago": st.one_of(st.none(), st.integers(0, 400)),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    profiles=st.lists(customer_profiles, min_size=1, max_size=6),
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
    runs=st.lists(st.integers(0, 5), min_size=1, max_size=3),
)
def test_planner_invariants_hold_for_any_customers_and_history(
    rapport: Rapport,  # empties the database afterwards
    engine: Engine,
    profiles: list[dict[str, Any]],
    start: dt.date,
    runs: list[int],
) -> None:
    prefix = f"R{next(_ids)}-"
    crm = Rapport(engine, clock=lambda: _noon(start))
    defaults = crm.settings.consent
    for n, profile in enumerate(profiles):
        external_id = f"{prefix}{n}"
        crm.upsert_customer(
            {
                "external_id": external_id,
                "birthday": profile["birthday"],
                "consent_mail": profile["consent_mail"],
                "consent_email": profile["consent_email"],
                "consent_phone": profile["consent_phone"],
                "do_not_contact": profile["do_not_contact"],
                "status": profile["status"],
                "address_line1": "Rantakatu 5" if profile["has_address"] else None,
                "city": "Helsinki" if profile["has_address"] else None,
                "email": f"c{n}@example.com" if profile["has_email"] else None,
                "phone": "+358 40 123 4567" if profile["has_phone"] else None,
                "tags": ["vip"] if profile["vip"] else [],
            }
        )
        for days_ago, amount in profile["purchases"]:
            crm.record_purchase(
                {
                    "customer_id": external_id,
                    "occurred_at": _noon(start - dt.timedelta(days=days_ago)),
                    "amount": amount,
                }
            )
        if profile["last_call_days_ago"] is not None:
            crm.record_interaction(
                {
                    "customer_id": external_id,
                    "occurred_at": _noon(start - dt.timedelta(days=profile["last_call_days_ago"])),
                    "kind": "call",
                    "direction": "outbound",
                }
            )
    day = start
    for gap in runs:
        day += dt.timedelta(days=gap)
        crm.plan(day)

    by_customer = {f"{prefix}{n}": p for n, p in enumerate(profiles)}
    found = [t for t in crm.find_tasks() if t.customer_id in by_customer]
    assert len({t.occasion_key for t in found}) == len(found)
    for task in found:
        assert task.due_on <= task.window_end
        profile = by_customer[task.customer_id]
        assert task.channel is not None
        consent = profile[f"consent_{task.channel.value}"]
        assert consent == "granted" or (
            consent == "unknown" and defaults.allows_unknown(task.channel)
        )
        assert not profile["do_not_contact"]
        assert profile["status"] == "active"
    caps = crm.settings.caps
    for customer_id in by_customer:
        days = sorted(
            t.due_on for t in found if t.customer_id == customer_id and t.status.value == "planned"
        )
        for first in days:
            window = [d for d in days if 0 <= (d - first).days < caps.per_days]
            assert len(window) <= caps.max_touches


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
