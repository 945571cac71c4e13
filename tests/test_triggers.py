"""The shared triggers: one occasion key for Python and SQL, one 29 February policy for
built-in and custom yearly rules, and planned occasions recognised by the query itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, literal, select

from rapport import Rapport, parse_settings
from rapport.dates import WorkingDays, month_days_between
from rapport.rules.base import PlanContext
from rapport.rules.triggers import (
    Calendar,
    DueDate,
    Event,
    day_ranges,
    occasion_key,
    occasion_key_sql,
)
from tests.conftest import FixedClock, only_rules

D = dt.date

parts = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=2**62),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(parts=parts)
def test_the_sql_key_is_the_python_key(engine: Engine, parts: list[str | int]) -> None:
    """Columns (here: bound literals of each part's own type) print as Python prints them."""
    expected = occasion_key("some_rule", *parts)
    as_columns = [literal(part) for part in parts]
    with engine.connect() as connection:
        assert connection.scalar(select(occasion_key_sql("some_rule", *as_columns))) == expected
        assert connection.scalar(select(occasion_key_sql("some_rule", *parts))) == expected


def crm_with(engine: Engine, clock: FixedClock, **extra: Any) -> Rapport:
    return Rapport(engine, settings=parse_settings({"rules": only_rules(), **extra}), clock=clock)


def person(crm: Rapport, external_id: str, **fields: Any) -> None:
    crm.upsert_customer(
        {
            "external_id": external_id,
            "first_name": external_id,
            "email": f"{external_id.lower()}@example.com",
            "consent_email": "granted",
            **fields,
        }
    )


def on(clock: FixedClock, day: dt.date) -> dt.date:
    clock.now = dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)
    return day


LEAP_DAY_GREETING = {
    "name": "leap_day_greeting",
    "trigger": {"date_field": "birthday"},
    "action": {"channels": ["email"], "window_days": 0},
}


@pytest.mark.parametrize(
    ("policy", "rule_policy", "expected"),
    [
        ({}, {}, D(2027, 2, 28)),
        ({"birthday_card": {"enabled": False, "feb29": "mar1"}}, {}, D(2027, 3, 1)),
        ({}, {"feb29": "mar1"}, D(2027, 3, 1)),
    ],
)
def test_a_custom_date_rule_follows_the_feb29_policy(
    rapport: Rapport,
    engine: Engine,
    clock: FixedClock,
    policy: dict[str, Any],
    rule_policy: dict[str, Any],
    expected: dt.date,
) -> None:
    """Custom rules used to put 29 February on 28 February whatever the setting said."""
    rule = {**LEAP_DAY_GREETING, "trigger": {"date_field": "birthday", **rule_policy}}
    crm = crm_with(engine, clock, custom_rules=[rule], rules={**only_rules(), **policy})
    person(crm, "LEAP", birthday="--02-29")
    for day in range(20, 32):
        when = D(2027, 2, day) if day <= 28 else D(2027, 3, day - 28)
        crm.plan(on(clock, when), horizon_days=0)
    [task] = crm.find_tasks(rule="leap_day_greeting")
    assert task.due_on == expected


def test_a_rerun_recognises_custom_and_family_occasions_in_sql(
    rapport: Rapport, engine: Engine, clock: FixedClock, key_lookups: list[str]
) -> None:
    """Yearly custom rules and family birthdays mark their planned occasions in the query,
    like the built-in birthdays: a second run looks up no key at all."""
    crm = crm_with(
        engine,
        clock,
        custom_rules=[{**LEAP_DAY_GREETING, "name": "birthday_mail"}],
        rules={**only_rules(), "family_birthday": {"enabled": True}},
    )
    person(crm, "VIP", birthday="--12-03", tags=["vip"], address_line1="Kuja 1", city="Oulu")
    crm.add_family_member("VIP", {"name": "Eeva", "relation": "child", "birthday": "--12-05"})
    first = crm.plan(on(clock, D(2026, 12, 1)), horizon_days=7)
    key_lookups.clear()  # the second run only
    second = crm.plan(on(clock, D(2026, 12, 1)), horizon_days=7, dry_run=True)
    assert key_lookups == []
    assert second.tasks == []  # nothing slipped through to be caught by the unique key
    for rule in ("birthday_mail", "family_birthday"):
        assert first.rules[rule].created == 1, rule
        assert (second.rules[rule].created, second.rules[rule].already_planned) == (0, 1), rule


def test_a_rerun_ships_no_keys_for_the_rules_that_plan_in_bulk(
    rapport: Rapport, engine: Engine, clock: FixedClock, key_lookups: list[str]
) -> None:
    """Every nurturing rule and every kind of custom rule recognises what it planned in
    its own query: a second run of the day counts it all without a key list."""
    crm = crm_with(
        engine,
        clock,
        caps={"max_touches": 20},
        rules={
            **only_rules(),
            **{
                name: {"enabled": True}
                for name in ("welcome", "thank_you_note", "aftercare", "birthday_card", "surprise")
            },
            "aftercare": {"enabled": True, "days_after": 1, "category": None},
            "surprise": {"enabled": True, "channels": ["email"]},
        },
        custom_rules=[
            {"name": "monthly_letter", "trigger": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=2"},
             "action": {"channels": ["email"]}},
            {"name": "after_visit", "trigger": {"event": "purchase", "offset_days": 1},
             "action": {"channels": ["email"]}},
            {"name": "quiet_ones", "trigger": {"inactive_days": 30},
             "action": {"channels": ["email"]}},
        ],
    )  # fmt: skip
    on(clock, D(2026, 10, 20))
    person(crm, "QUIET")  # no contact since
    person(crm, "NEW", birthday="--12-04")
    crm.record_purchase(
        {"customer_id": "NEW", "occurred_at": "2026-11-30T10:00:00Z", "amount": "900"}
    )
    person(crm, "OLD", customer_since="2015-01-01")
    crm.record_purchase(
        {"customer_id": "OLD", "occurred_at": "2026-11-30T10:00:00Z", "amount": "700"}
    )
    first = crm.plan(on(clock, D(2026, 12, 1)), horizon_days=3)
    key_lookups.clear()  # the second run only
    second = crm.plan(on(clock, D(2026, 12, 1)), horizon_days=3, dry_run=True)
    assert key_lookups == []
    assert second.tasks == []  # nothing slipped through to be caught by the unique key
    made = {rule: r.created for rule, r in first.rules.items() if r.created}
    assert set(made) == {
        "welcome", "thank_you_note", "aftercare", "birthday_card", "surprise",
        "monthly_letter", "after_visit", "quiet_ones",
    }  # fmt: skip
    assert {rule: second.rules[rule].already_planned for rule in made} == made
    assert second.created == 0


# ------------------------------------------------------------ events, quiet spells, calendars


def window(first_due: dt.date, last_due: dt.date, timezone: str = "UTC") -> PlanContext:
    """A plan's days, for the triggers' date logic (which reads no table)."""
    settings = parse_settings({"business": {"timezone": timezone}})
    return PlanContext(
        session=None,  # type: ignore[arg-type]
        as_of=first_due,
        first_due=first_due,
        last_due=last_due,
        settings=settings,
        working_days=WorkingDays(None),
    )


@pytest.mark.parametrize(
    ("rrule", "offset", "first", "last", "expected"),
    [
        # New Year's Eve, planned across the year's end.
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31", 0, D(2026, 12, 28), D(2027, 1, 3), D(2026, 12, 31)),  # noqa: E501
        # A missed cron run of three months: only the latest month comes back.
        ("FREQ=MONTHLY;BYMONTHDAY=2", 0, D(2026, 9, 1), D(2026, 12, 1), D(2026, 11, 2)),
        # Three days ahead: the date itself lies after the window.
        ("FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=2", -3, D(2026, 12, 28), D(2026, 12, 30), D(2027, 1, 2)),
        ("FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1", 0, D(2026, 12, 28), D(2027, 1, 3), None),
        # 29 February exists only in leap years.
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 0, D(2027, 2, 20), D(2027, 3, 5), None),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 0, D(2028, 2, 20), D(2028, 3, 5), D(2028, 2, 29)),
    ],
)  # fmt: skip
def test_a_calendar_offers_its_latest_date_due_in_the_window(
    rrule: str, offset: int, first: dt.date, last: dt.date, expected: dt.date | None
) -> None:
    calendar = Calendar(rrule, offset)
    occurs = calendar.latest(window(first, last))
    assert occurs == expected
    if occurs is not None:
        assert first <= calendar.due_on(occurs) <= last


def test_an_event_is_dated_by_the_business_day_it_happened_on() -> None:
    """A purchase late in the evening in Helsinki belongs to that day, although in UTC it
    is already the next; the window's edges are the business's midnights."""
    ctx = window(D(2026, 12, 1), D(2026, 12, 3), timezone="Europe/Helsinki")
    two_days_after = Event(2)
    evening = dt.datetime(2026, 11, 28, 21, 30, tzinfo=dt.UTC)  # 23:30 in Helsinki
    assert two_days_after.happened_on(evening, ctx) == D(2026, 11, 28)
    assert two_days_after.due_on(D(2026, 11, 28)) == D(2026, 11, 30)  # before the window
    later = dt.datetime(2026, 11, 28, 22, 30, tzinfo=dt.UTC)  # 00:30 on the 29th
    assert two_days_after.due_on(two_days_after.happened_on(later, ctx)) == D(2026, 12, 1)


def test_built_in_and_custom_rules_share_the_event_and_quiet_spell_triggers(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    """Aftercare and a custom purchase rule with the same delay date the same purchase the
    same way; a check-in call and a custom inactivity rule start a new spell at the same
    contact."""
    crm = crm_with(
        engine,
        clock,
        caps={"max_touches": 20},
        business={"timezone": "Europe/Helsinki"},
        rules={
            **only_rules(),
            "aftercare": {"enabled": True, "days_after": 3, "min_amount": None},
            "check_in_call": {"enabled": True, "every_days": 30, "quiet_after_purchase_days": 0,
                              "window_days": 30},
        },
        custom_rules=[
            {"name": "after_visit", "trigger": {"event": "purchase", "offset_days": 3},
             "action": {"channels": ["email"], "window_days": 14}},
            {"name": "quiet_ones", "trigger": {"inactive_days": 30},
             "action": {"channels": ["email"], "window_days": 30}},
        ],
    )  # fmt: skip
    on(clock, D(2026, 9, 1))
    person(crm, "VIP", tags=["vip"], phone="+358401234567", consent_phone="granted")
    crm.record_interaction(
        {"customer_id": "VIP", "occurred_at": "2026-10-01T08:00:00Z", "kind": "call",
         "direction": "outbound"}
    )  # fmt: skip
    person(crm, "BUYER", phone="+358401234568", consent_phone="granted")
    # 23:30 in Helsinki on 27 November: the purchase's business day is the 27th.
    crm.record_purchase(
        {"customer_id": "BUYER", "occurred_at": "2026-11-27T21:30:00Z", "amount": "40"}
    )
    crm.plan(on(clock, D(2026, 11, 30)), horizon_days=3)
    tasks = {task.rule: task for task in crm.find_tasks()}
    assert sorted(tasks) == ["after_visit", "aftercare", "check_in_call", "quiet_ones"]
    assert tasks["aftercare"].due_on == tasks["after_visit"].due_on == D(2026, 11, 30)
    assert tasks["check_in_call"].occasion_key.endswith(":2026-10-01")
    assert tasks["quiet_ones"].occasion_key.endswith(":2026-10-01")


@pytest.mark.parametrize(
    ("pairs", "runs"),
    [
        ([], []),
        ([(3, 1)], [(3, 1, 1)]),
        ([(11, 29), (11, 30), (12, 1), (12, 2)], [(11, 29, 30), (12, 1, 2)]),
        ([(2, 27), (2, 28), (2, 29), (3, 1)], [(2, 27, 29), (3, 1, 1)]),
        ([(2, 28), (2, 29), (3, 1)], [(2, 28, 29), (3, 1, 1)]),
        ([(5, 3), (5, 1), (5, 2), (5, 7)], [(5, 1, 3), (5, 7, 7)]),
    ],
)
def test_a_windows_days_become_runs_of_consecutive_days_per_month(
    pairs: list[tuple[int, int]], runs: list[tuple[int, int, int]]
) -> None:
    assert day_ranges(pairs) == runs


@settings(max_examples=200)
@given(first=st.dates(D(2000, 1, 1), D(2040, 12, 31)), days=st.integers(0, 400))
def test_the_runs_cover_exactly_the_days_of_the_window(first: dt.date, days: int) -> None:
    pairs = month_days_between(first, first + dt.timedelta(days=days), "feb28")
    covered = {(month, day) for month, a, b in day_ranges(pairs) for day in range(a, b + 1)}
    assert covered == pairs


def test_a_due_date_is_the_business_day_the_record_falls_due() -> None:
    """A promise due at 00:30 in Helsinki is due that day, not the UTC day before: its
    reminder a day ahead and its delay notice the day after follow the local day."""
    ctx = window(D(2026, 12, 1), D(2026, 12, 3), timezone="Europe/Helsinki")
    due_at = dt.datetime(2026, 12, 1, 22, 30, tzinfo=dt.UTC)  # 00:30 on 2 December
    assert DueDate(-1).due_on(due_at, ctx) == D(2026, 12, 1)
    assert DueDate(1).due_on(due_at, ctx) == D(2026, 12, 3)
