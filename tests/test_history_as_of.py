"""A plan for an earlier day judges history as it stood on that day, not as it is now.

The rules read purchases, spend and contacts through :class:`rapport.rules.history.History`:
the plain rollups when they describe the plan's day, else the same facts computed from the
rows dated by then. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport import Rapport, create_engine, migrate, parse_settings
from rapport.models.tables import Customer
from rapport.rules.history import History
from tests.conftest import FixedClock, empty_tables, only_rules

D = dt.date
#: The plan's day in these tests: history is imported up to it, and later.
DAY = D(2025, 6, 16)
ZONE = "Europe/Helsinki"

CUSTOM_RULES = [
    {
        "name": "quiet_spenders",
        "trigger": {"inactive_days": 45},
        "condition": {"min_spend_365d": 100, "min_purchase_count": 2},
        "action": {"channels": ["email"]},
    },
    {
        "name": "loyal_buyers",
        "trigger": {"event": "purchase", "offset_days": 3},
        "condition": {"min_lifetime_value": 300},
        "action": {"channels": ["email"]},
    },
]


@pytest.fixture
def engine(fresh_url: str) -> Iterator[Engine]:
    """A database of its own: the differential test empties it between examples, and no
    other test may see these customers (the shared test database runs tests at once)."""
    engine = create_engine(fresh_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def rapport(engine: Engine, clock: FixedClock) -> Rapport:
    return crm_for(engine, clock)


def crm_for(engine: Engine, clock: FixedClock, **rules: Any) -> Rapport:
    settings = parse_settings(
        {
            "business": {"timezone": ZONE, "currency": "EUR"},
            "rules": {"family_birthday": {"enabled": True}, **rules},
            "custom_rules": CUSTOM_RULES,
        }
    )
    return Rapport(engine, settings=settings, clock=clock)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def customer(crm: Rapport, external_id: str, **fields: Any) -> None:
    crm.upsert_customer(
        {
            "external_id": external_id,
            "first_name": "Aino",
            "address_line1": "Rantakatu 5",
            "city": "Helsinki",
            "email": f"{external_id.lower()}@example.fi",
            "phone": "+358 40 123 4567",
            "consent_email": "granted",
            "consent_phone": "granted",
            "consent_mail": "granted",
            **fields,
        }
    )


def buy(crm: Rapport, customer_id: str, when: dt.datetime, amount: str, **extra: Any) -> None:
    crm.record_purchase(
        {"customer_id": customer_id, "occurred_at": when, "amount": amount, **extra}
    )


def occasions(crm: Rapport, day: dt.date) -> set[tuple[str, str, str, dt.date]]:
    """What a dry run as of ``day`` would plan: (rule, customer, key, due day)."""
    report = crm.plan(day, dry_run=True)
    return {(t.rule, t.customer_id, t.occasion_key, t.due_on) for t in report.tasks}


def history_of(engine: Engine, day: dt.date) -> History:
    with Session(engine) as session:
        return History.of(
            session,
            as_of=day,
            cutoff=dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time.min, tzinfo=zoneinfo.ZoneInfo(ZONE)
            ),
            currency="EUR",
        )


# ------------------------------------------------------------------ the CDNOW case


def test_a_plan_before_the_last_import_finds_that_days_top_customers(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    """History imported long after it happened: every spend rollup is aged to the
    import's day (zero), yet a plan as of the last purchase's day finds the top customers
    who had not been contacted for a while, exactly as a database holding only that day's
    history would."""
    clock.now = at(D(2026, 11, 22))  # the import runs years later
    crm = crm_for(engine, clock, check_in_call={"tag": None, "top_share": 0.5})
    for n in range(6):
        customer(crm, f"C-{n}")
        # C-0 .. C-2 spent most; each last bought 100+ days before the plan's day.
        buy(crm, f"C-{n}", at(DAY - dt.timedelta(days=200 + n)), str(1000 - 150 * n))
        buy(crm, f"C-{n}", at(DAY - dt.timedelta(days=120 + n)), "20")
    buy(crm, "C-5", at(DAY), "5")  # the last purchase imported: the plan's day
    assert all(c.spend_365d == 0 for c in crm.find_customers())

    planned = crm.plan(DAY, dry_run=True).tasks
    calls = sorted(t.customer_id for t in planned if t.rule == "check_in_call")
    assert calls == ["C-0", "C-1", "C-2"]
    assert all(t.due_on == DAY for t in planned if t.rule == "check_in_call")


# ------------------------------------------------------------------ differential

_examples = itertools.count()

#: Per customer: purchases (days from DAY, amount, currency), contacts (days from DAY),
#: whether tagged vip.
customers_strategy = st.lists(
    st.tuples(
        st.lists(
            st.tuples(
                st.integers(min_value=-800, max_value=150),
                st.sampled_from(["15", "40", "120", "600", "2500"]),
                st.sampled_from(["EUR", "EUR", "EUR", "SEK"]),
            ),
            max_size=12,
        ),
        st.lists(st.integers(min_value=-400, max_value=150), max_size=3),
        st.booleans(),
        st.integers(min_value=1, max_value=28),  # birth day of month (June)
    ),
    min_size=1,
    max_size=6,
)


def _regular(rows: list[tuple[int, str, str]], n: int) -> list[tuple[int, str, str]]:
    """Give one customer a steady weekly rhythm up to the plan's day, so the rhythm
    rule has regulars to judge."""
    return rows + [(-25 - 7 * k, "15", "EUR") for k in range(6)] if n == 0 else rows


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(customers_strategy)
def test_later_rows_do_not_change_a_plan_for_an_earlier_day(
    rapport: Rapport,
    engine: Engine,
    clock: FixedClock,
    people: list[tuple[list[tuple[int, str, str]], list[int], bool, int]],
) -> None:
    """Database A holds the history up to DAY (written that day: the fast, rollup form);
    then later purchases, contacts and completed tasks arrive (written later, so the
    rollups are aged past DAY). A dry run as of DAY plans the same occasions in both."""
    empty_tables(engine)
    run = next(_examples)
    clock.now = at(DAY, 10)
    crm = crm_for(engine, clock, check_in_call={"top_share": 0.4})
    later: list[tuple[str, list[tuple[int, str, str]], list[int]]] = []
    for n, (purchases, contacts, vip, birth_day) in enumerate(people):
        external_id = f"R{run}-{n}"
        customer(
            crm,
            external_id,
            birthday=f"--06-{birth_day:02d}",
            tags=["vip"] if vip else [],
            customer_since="2020-06-20",
        )
        purchases = _regular(purchases, n)
        for k, (offset, amount, currency) in enumerate(sorted(purchases)):
            if offset <= 0:
                when = at(DAY + dt.timedelta(days=offset), 8 if offset == 0 else 12)
                buy(
                    crm,
                    external_id,
                    when,
                    amount,
                    currency=currency,
                    external_id=f"{external_id}-{k}",
                )
        for offset in contacts:
            if offset <= 0:
                crm.record_interaction(
                    {
                        "customer_id": external_id,
                        "occurred_at": at(DAY + dt.timedelta(days=offset), 8),
                        "kind": "call",
                        "direction": "outbound",
                    }
                )
        later.append((external_id, purchases, contacts))
    assert history_of(engine, DAY).current
    before = occasions(crm, DAY)

    clock.now = at(DAY + dt.timedelta(days=400))  # the rest arrives much later
    for external_id, purchases, contacts in later:
        for k, (offset, amount, currency) in enumerate(sorted(purchases)):
            if offset > 0:
                when = at(DAY + dt.timedelta(days=offset))
                buy(
                    crm,
                    external_id,
                    when,
                    amount,
                    currency=currency,
                    external_id=f"{external_id}-{k}",
                )
        for offset in contacts:
            if offset > 0:
                crm.record_interaction(
                    {
                        "customer_id": external_id,
                        "occurred_at": at(DAY + dt.timedelta(days=offset)),
                        "kind": "email",
                        "direction": "inbound",
                    }
                )
    # A later year's birthday cards, planned and done later (their keys are a later
    # year's, so they are not the plan's own occasions).
    birthdays = Rapport(
        engine,
        settings=parse_settings(
            {"business": {"timezone": ZONE}, "rules": only_rules("birthday_card")}
        ),
        clock=clock,
    )
    birthdays.plan(D(2026, 6, 1), horizon_days=30)
    for task in birthdays.find_tasks(rule="birthday_card"):
        birthdays.complete_task(task.id, at=at(D(2026, 6, 20)))
    assert not history_of(engine, DAY).current
    after = occasions(crm, DAY)
    assert after == before, (sorted(before - after), sorted(after - before))


def test_a_regular_who_came_back_later_still_lapsed_on_the_plans_day(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    clock.now = at(DAY + dt.timedelta(days=60))
    crm = crm_for(engine, clock)
    customer(crm, "C-1")
    for week in range(8):
        buy(crm, "C-1", at(DAY - dt.timedelta(days=25 + 7 * week)), "15")
    buy(crm, "C-1", at(DAY + dt.timedelta(days=10)), "15")  # back, after the plan's day
    [lapse] = [t for t in crm.plan(DAY, dry_run=True).tasks if t.rule == "rhythm_break"]
    assert lapse.due_on == DAY - dt.timedelta(days=25 - 22)
    assert lapse.context["last_purchase_on"] == (DAY - dt.timedelta(days=25)).isoformat()


def test_a_case_opened_after_the_plans_day_is_not_acknowledged_by_it(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    clock.now = at(DAY + dt.timedelta(days=3))
    crm = crm_for(engine, clock)
    customer(crm, "C-1")
    crm.open_case(
        {"customer_id": "C-1", "opened_at": at(DAY + dt.timedelta(days=2)), "summary": "Late"}
    )
    assert not [t for t in crm.plan(DAY, dry_run=True).tasks if t.rule == "case_acknowledge"]
    later = crm.plan(DAY + dt.timedelta(days=2), dry_run=True).tasks
    assert [t.rule for t in later if t.rule == "case_acknowledge"] == ["case_acknowledge"]


# ------------------------------------------------------------------ the fast form


def test_a_database_up_to_date_for_the_plans_day_uses_the_plain_rollups(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    clock.now = at(DAY, 10)
    customer(rapport, "C-1")
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=30)), "100")
    history = history_of(engine, DAY)
    assert history.current
    rollups: list[Any] = [Customer.spend_365d, Customer.last_contact_at, Customer.last_purchase_at]
    used = [history.spend_365d, history.last_contact_at, history.last_purchase_at]
    assert all(column is rollup for column, rollup in zip(used, rollups, strict=True))


def test_a_purchase_after_the_plans_day_makes_the_history_computed(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    clock.now = at(DAY, 10)
    customer(rapport, "C-1")
    buy(rapport, "C-1", at(DAY + dt.timedelta(days=1)), "100")
    assert history_of(engine, DAY + dt.timedelta(days=1)).current
    assert not history_of(engine, DAY).current


def test_a_spend_aged_to_a_later_day_makes_the_history_computed(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    """Nothing is dated after the plan's day, but a purchase left the trailing window
    between the plan's day and the day the spend was computed."""
    clock.now = at(DAY + dt.timedelta(days=30))
    customer(rapport, "C-1")
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=350)), "100")
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=10)), "50")
    assert rapport.get_customer("C-1").spend_365d == Decimal(50)
    assert not history_of(engine, DAY).current
    assert history_of(engine, DAY + dt.timedelta(days=30)).current


@pytest.mark.parametrize("days_later", [0, 30])
def test_the_computed_spend_counts_the_365_days_up_to_the_plans_day(
    rapport: Rapport, engine: Engine, clock: FixedClock, days_later: int
) -> None:
    clock.now = at(DAY + dt.timedelta(days=days_later))
    customer(rapport, "C-1")
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=366)), "1")  # before the window
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=350)), "100")
    buy(rapport, "C-1", at(DAY - dt.timedelta(days=10)), "50")
    buy(rapport, "C-1", at(DAY + dt.timedelta(days=2)), "7")  # after the plan's day
    history = history_of(engine, DAY)
    with Session(engine) as session:
        row = session.execute(
            select(
                history.spend_365d,
                history.lifetime_value,
                history.purchase_count,
                history.last_purchase_at,
                history.last_contact_at,
            ).where(Customer.external_id == "C-1")
        ).one()
    assert tuple(row) == (
        Decimal(150),
        Decimal(151),
        3,
        at(DAY - dt.timedelta(days=10)),
        at(DAY - dt.timedelta(days=10)),
    )
