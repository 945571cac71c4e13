"""Invariants checked on many generated cases (hypothesis)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
