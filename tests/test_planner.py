"""The planner and the three built-in rules, on SQLite and PostgreSQL.

Every awkward case has its own test: leap days, the year's end, a missed run, consent,
caps, refunds, coalescing, resets, holidays, time zones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

from rapport import (
    Channel,
    InvalidInputError,
    Rapport,
    StateError,
    TaskKind,
    TaskOut,
    TaskStatus,
    parse_settings,
)
from rapport.database import SQLITE_CACHE_KB, SQLITE_PLAN_CACHE_KB, create_engine
from rapport.rules import BUILTIN_RULES, Occasion, PlanContext, Rule
from tests.conftest import FixedClock, count_rows

D = dt.date
Build = Callable[..., Rapport]

ADDRESS = {"address_line1": "Rantakatu 5", "postal_code": "00100", "city": "Helsinki"}


@pytest.fixture
def build(rapport: Rapport, engine: Engine, clock: FixedClock) -> Build:
    """Rapport instances with given settings (the ``rapport`` fixture empties the database)."""

    def make(settings: dict[str, Any] | None = None, rules: tuple[Any, ...] = ()) -> Rapport:
        return Rapport(engine, settings=parse_settings(settings or {}), rules=rules, clock=clock)

    return make


def on(clock: FixedClock, day: dt.date) -> dt.date:
    """Move the clock to 09:00 UTC on ``day``."""
    clock.now = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return day


def customer(crm: Rapport, external_id: str, **fields: Any) -> None:
    crm.upsert_customer({"external_id": external_id, "first_name": "Test", **ADDRESS, **fields})


def tasks(crm: Rapport, rule: str | None = None, **filters: Any) -> list[TaskOut]:
    return crm.find_tasks(rule=rule, **filters)


def only(*enabled: str) -> dict[str, Any]:
    """Settings with only these built-in rules switched on."""
    return {"rules": {rule.name: {"enabled": rule.name in enabled} for rule in BUILTIN_RULES}}


ONLY_BIRTHDAYS = only("birthday_card")
ONLY_NOTES = only("thank_you_note")
ONLY_CHECK_INS = only("check_in_call")
THE_THREE = only("birthday_card", "thank_you_note", "check_in_call")


def with_rules(base: dict[str, Any], **rules: dict[str, Any]) -> dict[str, Any]:
    merged = {name: dict(values) for name, values in base["rules"].items()}
    for name, values in rules.items():
        merged.setdefault(name, {}).update(values)
    return {**base, "rules": merged}


# ---------------------------------------------------------------------------- birthdays


def test_feb29_birthday_falls_on_feb28_in_common_years(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="--02-29")
    crm.plan(on(clock, D(2027, 2, 21)))
    [task] = tasks(crm)
    assert (task.due_on, task.window_end) == (D(2027, 2, 21), D(2027, 2, 28))
    assert task.occasion_key.endswith(":2027")
    assert task.context == {"birthday": "2027-02-28", "age": None, "milestone": False}


def test_feb29_birthday_falls_on_mar1_with_that_setting(build: Build, clock: FixedClock) -> None:
    crm = build(with_rules(ONLY_BIRTHDAYS, birthday_card={"feb29": "mar1"}))
    customer(crm, "C-1", birthday="--02-29")
    crm.plan(on(clock, D(2027, 2, 21)), horizon_days=0)
    assert tasks(crm) == []
    crm.plan(on(clock, D(2027, 2, 22)), horizon_days=0)
    [task] = tasks(crm)
    assert (task.due_on, task.window_end) == (D(2027, 2, 22), D(2027, 3, 1))


def test_a_2024_leap_day_birthday_never_drifts(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="2024-02-29")
    for year in (2025, 2026, 2027, 2028):
        crm.plan(on(clock, D(year, 2, 20)))
    assert [t.window_end for t in tasks(crm)] == [
        D(2025, 2, 28),
        D(2026, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]
    assert [t.context["age"] for t in tasks(crm)] == [1, 2, 3, 4]  # type: ignore[index]


def test_a_birthday_today_still_gets_its_card(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="--06-15")
    report = crm.plan(on(clock, D(2026, 6, 15)))
    [task] = tasks(crm)
    assert (task.due_on, task.window_end, task.late) == (D(2026, 6, 8), D(2026, 6, 15), True)
    assert task.status is TaskStatus.PLANNED
    assert report.rules["birthday_card"].late == 1


def test_a_birthday_today_with_no_lead_time_is_due_today(build: Build, clock: FixedClock) -> None:
    crm = build(with_rules(ONLY_BIRTHDAYS, birthday_card={"lead_days": 0}))
    customer(crm, "C-1", birthday="--06-15")
    crm.plan(on(clock, D(2026, 6, 15)))
    [task] = tasks(crm)
    assert (task.due_on, task.late) == (D(2026, 6, 15), False)


def test_lead_time_crosses_the_year_end(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="--01-02")
    crm.plan(on(clock, D(2026, 12, 20)))
    [task] = tasks(crm)
    assert (task.due_on, task.window_end) == (D(2026, 12, 26), D(2027, 1, 2))
    assert task.occasion_key == task.occasion_key.rsplit(":", 1)[0] + ":2027"
    crm.plan(on(clock, D(2026, 12, 28)))
    assert len(tasks(crm)) == 1


def test_unknown_birth_year_gives_a_card_without_an_age(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="--03-10")
    crm.plan(on(clock, D(2027, 3, 3)))
    [task] = tasks(crm)
    assert task.context is not None
    assert (task.context["age"], task.context["milestone"], task.priority) == (None, False, 50)


def test_a_milestone_age_raises_priority(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-50", birthday="1977-03-10")
    customer(crm, "C-49", birthday="1978-03-10")
    crm.plan(on(clock, D(2027, 3, 3)))
    by_customer = {t.customer_id: t for t in tasks(crm)}
    assert by_customer["C-50"].context == {"birthday": "2027-03-10", "age": 50, "milestone": True}
    assert (by_customer["C-50"].priority, by_customer["C-49"].priority) == (70, 50)


def test_a_card_goes_by_email_when_there_is_no_address(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    crm.upsert_customer(
        {
            "external_id": "C-1",
            "birthday": "--03-10",
            "email": "aino@example.fi",
            "consent_email": "granted",
            "timezone": "Europe/Helsinki",
        }
    )
    crm.plan(on(clock, D(2027, 3, 3)))
    [task] = tasks(crm)
    assert (task.channel, task.kind) == (Channel.EMAIL, TaskKind.EMAIL)
    assert task.send_at == dt.datetime(2027, 3, 3, 7, 0, tzinfo=dt.UTC)  # 09:00 in Helsinki


def test_a_card_goes_by_email_when_mail_is_refused(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(
        crm,
        "C-1",
        birthday="--03-10",
        email="aino@example.fi",
        consent_mail="refused",
        consent_email="granted",
    )
    crm.plan(on(clock, D(2027, 3, 3)))
    assert [t.channel for t in tasks(crm)] == [Channel.EMAIL]


def test_no_allowed_channel_skips_with_no_consent(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-1", birthday="--03-10", email="a@example.fi", consent_mail="refused")
    report = crm.plan(on(clock, D(2027, 3, 3)))
    assert tasks(crm) == []
    assert report.rules["birthday_card"].skipped == {"no_consent": 1}


def test_do_not_contact_deceased_and_inactive_are_never_planned(
    build: Build, clock: FixedClock
) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "C-dnc", birthday="--03-10", do_not_contact=True)
    customer(crm, "C-dead", birthday="--03-10", status="deceased")
    customer(crm, "C-gone", birthday="--03-10", status="inactive")
    report = crm.plan(on(clock, D(2027, 3, 3)))
    assert tasks(crm) == []
    assert report.rules["birthday_card"].skipped == {
        "deceased": 1,
        "do_not_contact": 1,
        "inactive": 1,
    }


# ---------------------------------------------------------------------------- catch-up


def test_catch_up_after_ten_days_flags_late_and_records_missed(
    build: Build, clock: FixedClock
) -> None:
    crm = build(with_rules(ONLY_BIRTHDAYS, thank_you_note={"enabled": True}))
    customer(crm, "A", birthday="--03-12")  # due 03-05: planned by the first run
    customer(crm, "B", birthday="--03-16")  # due 03-09: past the first horizon
    customer(crm, "C", birthday="--03-10")  # due 03-03: planned, then its window passes
    customer(crm, "E", birthday="--03-20")  # due 03-13: on time in the second run
    first = crm.plan(on(clock, D(2026, 3, 1)))
    assert first.rules["birthday_card"].created == 2

    customer(crm, "D", birthday="--03-10")  # added during the outage; window gone
    crm.record_purchase(
        {"customer_id": "A", "occurred_at": "2026-03-05T12:00:00Z", "amount": "800"}
    )
    second = crm.plan(on(clock, D(2026, 3, 11)))

    birthdays, notes = second.rules["birthday_card"], second.rules["thank_you_note"]
    assert (birthdays.created, birthdays.late, birthdays.missed) == (3, 1, 1)
    assert birthdays.already_planned == 2
    assert (notes.created, notes.late, notes.missed) == (1, 1, 0)
    assert second.expired == 1
    status = {(t.customer_id, t.rule): (t.status, t.late) for t in tasks(crm)}
    assert status[("B", "birthday_card")] == (TaskStatus.PLANNED, True)
    assert status[("C", "birthday_card")] == (TaskStatus.EXPIRED, False)
    assert status[("D", "birthday_card")] == (TaskStatus.MISSED, False)
    assert status[("E", "birthday_card")] == (TaskStatus.PLANNED, False)
    assert status[("A", "thank_you_note")] == (TaskStatus.PLANNED, True)

    third = crm.plan(on(clock, D(2026, 3, 11)))
    assert sum(r.created for r in third.rules.values()) == 0
    assert third.expired == 0


def test_a_two_year_outage_gives_one_occasion_per_customer_and_rule(
    build: Build, clock: FixedClock
) -> None:
    crm = build(
        {
            "planner": {"catch_up_days": 800},
            **with_rules(ONLY_BIRTHDAYS, thank_you_note={"enabled": False}),
        }
    )
    for n in range(5):
        customer(crm, f"C-{n}", birthday=f"--0{n + 1}-15")
    crm.plan(on(clock, D(2024, 6, 1)))  # the last run before the outage
    before = {t.occasion_key for t in tasks(crm)}
    report = crm.plan(on(clock, D(2026, 6, 1)))  # 800 days of catch-up allowed
    new = [t for t in tasks(crm) if t.occasion_key not in before]
    assert len(new) == 5  # not one per missed year
    assert {t.occasion_key.rsplit(":", 1)[1] for t in new} == {"2026"}
    assert report.rules["birthday_card"].missed == 5


def test_the_default_catch_up_looks_back_thirty_days_only(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_BIRTHDAYS)
    customer(crm, "old", birthday="--04-01")  # 61 days before: beyond catch-up
    customer(crm, "recent", birthday="--05-20")  # 12 days before: missed
    report = crm.plan(on(clock, D(2026, 6, 1)))
    assert [t.customer_id for t in tasks(crm)] == ["recent"]
    assert report.rules["birthday_card"].missed == 1


# ---------------------------------------------------------------------------- idempotency


def test_running_twice_gives_the_same_tasks(build: Build, clock: FixedClock) -> None:
    crm = build(THE_THREE)
    for n in range(20):
        customer(crm, f"C-{n}", birthday=f"--03-{n + 1:02d}", tags=["vip"] if n % 3 else [])
        crm.record_purchase(
            {"customer_id": f"C-{n}", "occurred_at": "2026-02-27T12:00:00Z", "amount": 600 + n}
        )
    first = crm.plan(on(clock, D(2026, 3, 1)))
    before = tasks(crm)
    second = crm.plan(on(clock, D(2026, 3, 1)))
    assert first.created > 0
    assert second.created == 0
    assert sum(r.already_planned for r in second.rules.values()) == first.created
    assert tasks(crm) == before


@pytest.mark.parametrize(
    ("as_of", "feb29"),
    [(D(2026, 12, 28), "feb28"), (D(2027, 2, 24), "feb28"), (D(2027, 2, 24), "mar1")],
)
def test_a_rerun_counts_in_sql_exactly_what_the_first_run_planned(
    build: Build,
    clock: FixedClock,
    as_of: dt.date,
    feb29: str,
    key_lookups: list[str],
) -> None:
    """Birthdays, anniversaries, check-ins and lapses mark their planned occasions in SQL
    (keys built in SQL, or the same anchor): across the year's end and around 29 February
    a second run counts every occasion of the first as already planned, and plans nothing
    new."""
    rules = ("birthday_card", "anniversary", "check_in_call", "rhythm_break")
    settings = with_rules(
        only(*rules),
        birthday_card={"feb29": feb29},
        anniversary={"feb29": feb29},
        check_in_call={"every_days": 30},
    )
    crm = build({**settings, "caps": {"max_touches": 10}})
    days = ["--12-24", "--12-31", "--01-01", "--01-05", "--02-28", "--02-29", "--03-01"]
    for n, day in enumerate(days):
        since = f"20{10 + n}-{day[2:]}" if day != "--02-29" else "2012-02-29"
        customer(
            crm,
            f"C-{n}",
            birthday=day,
            customer_since=since,
            tags=["vip"],
            phone="+358 40 123 4567",
            email=f"c{n}@example.fi",
            consent_email="granted",
        )
        crm.add_important_date(f"C-{n}", {"label": "wedding", "date": day})
        for week in range(6):  # weekly visits until five weeks before the plan
            at = as_of - dt.timedelta(days=35 + 7 * week)
            crm.record_purchase(
                {"customer_id": f"C-{n}", "occurred_at": f"{at}T12:00:00Z", "amount": 10}
            )
    first = crm.plan(on(clock, as_of))
    key_lookups.clear()  # the second run only
    second = crm.plan(on(clock, as_of), dry_run=True)
    assert key_lookups == []  # every planned occasion was recognised by the query itself
    assert second.tasks == []  # none slipped through to be caught by the unique key
    for rule in rules:
        made = first.rules[rule].created
        assert made > 0, rule
        assert (second.rules[rule].created, second.rules[rule].already_planned) == (0, made), rule


def test_dry_run_writes_nothing_and_lists_what_it_would_create(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(THE_THREE)
    customer(crm, "C-1", birthday="--03-05")
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-02-27T12:00:00Z", "amount": "900"}
    )
    preview = crm.plan(on(clock, D(2026, 3, 1)), dry_run=True)
    assert count_rows(engine, "rapport_outreach_task") == 0
    assert count_rows(engine, "rapport_planner_run") == 0
    real = crm.plan(on(clock, D(2026, 3, 1)))
    assert preview.created == real.created == 2
    assert sorted(t.occasion_key for t in preview.tasks) == sorted(
        t.occasion_key for t in tasks(crm)
    )


def test_each_run_is_recorded_with_its_report(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(THE_THREE)
    crm.plan(on(clock, D(2026, 3, 1)))
    crm.plan(on(clock, D(2026, 3, 2)))
    assert count_rows(engine, "rapport_planner_run") == 2


# ---------------------------------------------------------------------------- caps


def test_caps_move_lower_priority_to_a_free_day_or_skip_it(build: Build, clock: FixedClock) -> None:
    crm = build(
        {
            "caps": {"max_touches": 1, "per_days": 7},
            **with_rules(
                only("birthday_card", "thank_you_note"),
                thank_you_note={"delay_days": 1, "window_days": 30},
            ),
        }
    )
    customer(crm, "C-1", birthday="--03-04")  # card due 02-25, window to 03-04
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-03-01T12:00:00Z", "amount": "900"}
    )  # note due 03-02 (priority 60 beats the card's 50)
    report = crm.plan(on(clock, D(2026, 3, 1)), horizon_days=7)
    [note] = tasks(crm)
    assert (note.rule, note.due_on) == ("thank_you_note", D(2026, 3, 2))
    assert report.rules["birthday_card"].skipped == {"capped": 1}


def test_caps_move_a_task_inside_its_window(build: Build, clock: FixedClock) -> None:
    crm = build(
        {
            "caps": {"max_touches": 1, "per_days": 3},
            **with_rules(
                only("birthday_card", "thank_you_note"),
                thank_you_note={"delay_days": 1, "window_days": 30},
            ),
        }
    )
    customer(crm, "C-1", birthday="--03-09")
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-03-01T12:00:00Z", "amount": "900"}
    )
    report = crm.plan(on(clock, D(2026, 3, 1)), horizon_days=7)
    days = {t.rule: t.due_on for t in tasks(crm)}
    assert days == {"thank_you_note": D(2026, 3, 2), "birthday_card": D(2026, 3, 5)}
    assert report.rules["birthday_card"].moved_by_caps == 1


def test_the_contact_budget_is_shared_across_rules_highest_priority_first(
    build: Build, clock: FixedClock
) -> None:
    """The thank-you rule runs before the birthday rule, but the card weighs more."""
    crm = build(
        {
            "caps": {"max_touches": 1, "per_days": 7},
            **with_rules(
                only("birthday_card", "thank_you_note"),
                birthday_card={"priority": 90},
                thank_you_note={"delay_days": 1, "window_days": 30},
            ),
        }
    )
    customer(crm, "C-1", birthday="--03-09")  # card due 03-02, window to 03-09
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-03-01T12:00:00Z", "amount": "900"}
    )  # note due 03-02 too
    report = crm.plan(on(clock, D(2026, 3, 2)), horizon_days=0)
    days = {t.rule: t.due_on for t in tasks(crm)}
    assert days == {"birthday_card": D(2026, 3, 2), "thank_you_note": D(2026, 3, 9)}
    assert report.rules["thank_you_note"].moved_by_caps == 1
    assert report.rules["birthday_card"].skipped == {}


# ---------------------------------------------------------------------------- thank-you notes


def test_a_big_purchase_gets_a_note_a_small_one_does_not(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    for purchase_id, amount, currency in (("big", "500", "EUR"), ("small", "499.99", "EUR")):
        crm.record_purchase(
            {
                "customer_id": "C-1",
                "external_id": purchase_id,
                "occurred_at": "2026-03-01T12:00:00Z",
                "amount": amount,
                "currency": currency,
            }
        )
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "foreign",
            "occurred_at": "2026-03-01T13:00:00Z",
            "amount": "9000",
            "currency": "SEK",
        }
    )
    crm.plan(on(clock, D(2026, 3, 1)))
    [note] = tasks(crm)
    assert (note.kind, note.channel) == (TaskKind.NOTE, Channel.MAIL)
    assert (note.due_on, note.window_end) == (D(2026, 3, 2), D(2026, 3, 15))
    assert note.context is not None
    assert [p["external_id"] for p in note.context["purchases"]] == ["big"]


def test_purchases_close_together_share_one_note(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    for purchase_id, day in (("P-1", 1), ("P-2", 3), ("P-3", 8), ("P-4", 9)):
        crm.record_purchase(
            {
                "customer_id": "C-1",
                "external_id": purchase_id,
                "occurred_at": f"2026-03-{day:02d}T12:00:00Z",
                "amount": "600",
            }
        )
    crm.plan(on(clock, D(2026, 3, 9)))
    notes = tasks(crm)
    assert [[p["external_id"] for p in n.context["purchases"]] for n in notes if n.context] == [
        ["P-1", "P-2", "P-3"],  # within 7 days of P-1
        ["P-4"],
    ]
    assert notes[0].context is not None
    assert notes[0].context["total"] == "1800"


def test_a_coalesced_note_is_open_until_the_window_of_its_latest_purchase(
    build: Build, clock: FixedClock
) -> None:
    """CDNOW: 102.92 USD on 1997-09-11 and 145.39 USD on 1997-09-18 share a note; the
    plan of 09-30 still thanks, because the second purchase is only 12 days old."""
    crm = build(
        {
            "business": {"currency": "USD"},
            **with_rules(ONLY_NOTES, thank_you_note={"min_amount": 100}),
        }
    )
    customer(crm, "C-1")
    for day, amount in ((11, "102.92"), (18, "145.39")):
        crm.record_purchase(
            {"customer_id": "C-1", "occurred_at": f"1997-09-{day}T15:00:00Z", "amount": amount}
        )
    report = crm.plan(on(clock, D(1997, 9, 30)))
    [note] = tasks(crm)
    assert (note.status, note.late) == (TaskStatus.PLANNED, True)
    assert (note.due_on, note.window_end) == (D(1997, 9, 12), D(1997, 10, 2))
    assert report.rules["thank_you_note"].missed == 0


def test_a_purchase_joining_an_open_note_extends_its_window(
    build: Build, clock: FixedClock
) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    crm.record_purchase({"customer_id": "C-1", "occurred_at": "2026-03-01T12:00Z", "amount": 700})
    crm.plan(on(clock, D(2026, 3, 1)))
    crm.record_purchase({"customer_id": "C-1", "occurred_at": "2026-03-05T12:00Z", "amount": 800})
    [note] = tasks(crm)
    assert note.window_end == D(2026, 3, 19)  # 14 days after 03-05, not after 03-01


def test_a_purchase_after_planning_joins_the_open_note(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-1",
            "occurred_at": "2026-03-01T12:00Z",
            "amount": 700,
        }
    )
    crm.plan(on(clock, D(2026, 3, 1)))
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-2",
            "occurred_at": "2026-03-04T12:00Z",
            "amount": 800,
        }
    )
    report = crm.plan(on(clock, D(2026, 3, 4)))
    [note] = tasks(crm)
    assert note.context is not None
    assert [p["external_id"] for p in note.context["purchases"]] == ["P-1", "P-2"]
    assert report.rules["thank_you_note"].created == 0


def test_a_refund_cancels_a_note_not_yet_done(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-1",
            "occurred_at": "2026-03-01T12:00Z",
            "amount": 700,
        }
    )
    crm.plan(on(clock, D(2026, 3, 1)))
    crm.refund_purchase("P-1")
    [note] = tasks(crm)
    assert (note.status, note.reason) == (TaskStatus.CANCELLED, "refunded")
    crm.plan(on(clock, D(2026, 3, 2)))
    assert [t.status for t in tasks(crm)] == [TaskStatus.CANCELLED]


def test_a_refund_of_one_purchase_keeps_the_note_for_the_others(
    build: Build, clock: FixedClock
) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    for purchase_id, day in (("P-1", 1), ("P-2", 2)):
        crm.record_purchase(
            {
                "customer_id": "C-1",
                "external_id": purchase_id,
                "occurred_at": f"2026-03-{day:02d}T12:00Z",
                "amount": 700,
            }
        )
    crm.plan(on(clock, D(2026, 3, 2)))
    crm.refund_purchase("P-1")
    [note] = tasks(crm)
    assert note.status is TaskStatus.PLANNED
    assert note.context is not None
    assert [p["external_id"] for p in note.context["purchases"]] == ["P-2"]


def test_a_done_note_stays_done_after_a_refund(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_NOTES)
    customer(crm, "C-1")
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-1",
            "occurred_at": "2026-03-01T12:00Z",
            "amount": 700,
        }
    )
    crm.plan(on(clock, D(2026, 3, 1)))
    [note] = tasks(crm)
    crm.complete_task(note.id, outcome="Card written")
    crm.refund_purchase("P-1")
    assert crm.get_task(note.id).status is TaskStatus.DONE


# ---------------------------------------------------------------------------- check-in calls


def vip(crm: Rapport, external_id: str, last_contact: str, **fields: Any) -> None:
    customer(crm, external_id, tags=["vip"], phone="+358 40 123 4567", **fields)
    crm.record_interaction(
        {
            "customer_id": external_id,
            "occurred_at": last_contact,
            "kind": "visit",
            "direction": "inbound",
        }
    )


def test_a_vip_out_of_touch_gets_a_call_for_the_owner(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_CHECK_INS)
    vip(crm, "C-1", "2026-01-05T10:00:00Z", owner="maria")  # 90 days later: Sun 2026-04-05
    crm.plan(on(clock, D(2026, 4, 1)))
    [call] = tasks(crm)
    assert (call.kind, call.channel, call.assigned_to) == (TaskKind.CALL, Channel.PHONE, "maria")
    assert call.due_on == D(2026, 4, 6)  # the Sunday moves to Monday
    assert call.occasion_key.endswith(":2026-01-05")


def test_check_ins_skip_public_holidays(build: Build, clock: FixedClock) -> None:
    crm = build({"business": {"country": "FI"}, **ONLY_CHECK_INS})
    vip(crm, "C-1", "2026-09-25T10:00:00Z")  # 90 days later: Thu 24 Dec 2026, Christmas Eve
    crm.plan(on(clock, D(2026, 12, 22)))
    [call] = tasks(crm)
    assert call.due_on == D(2026, 12, 28)


def test_a_recorded_call_resets_the_cycle_and_cancels_the_planned_check_in(
    build: Build, clock: FixedClock
) -> None:
    crm = build(ONLY_CHECK_INS)
    vip(crm, "C-1", "2026-01-05T10:00:00Z")
    crm.plan(on(clock, D(2026, 4, 1)))
    [call] = tasks(crm)
    crm.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-04-01T15:00:00Z",
            "kind": "call",
            "direction": "inbound",
        }
    )
    assert (crm.get_task(call.id).status, crm.get_task(call.id).reason) == (
        TaskStatus.CANCELLED,
        "contact_reset",
    )
    report = crm.plan(on(clock, D(2026, 4, 2)))
    assert report.rules["check_in_call"].created == 0


def test_a_purchase_also_resets_the_check_in_cycle(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_CHECK_INS)
    vip(crm, "C-1", "2026-01-05T10:00:00Z")
    crm.plan(on(clock, D(2026, 4, 1)))
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-04-01T15:00:00Z", "amount": "20"}
    )
    assert [t.status for t in tasks(crm)] == [TaskStatus.CANCELLED]


def test_the_top_share_by_spend_is_the_segment(build: Build, clock: FixedClock) -> None:
    crm = build(ONLY_CHECK_INS)
    on(clock, D(2026, 1, 10))
    for n in range(10):
        customer(crm, f"C-{n}", phone="+358 40 000 0000")
        crm.record_purchase(
            {
                "customer_id": f"C-{n}",
                "occurred_at": "2026-01-05T10:00:00Z",
                "amount": 100 * (n + 1),
            }
        )
    customer(crm, "C-tagged", tags=["vip"], phone="+358 40 000 0001")
    customer(crm, "C-own", check_in_every_days=30, phone="+358 40 000 0002")
    crm.plan(on(clock, D(2026, 4, 6)))
    assert sorted(t.customer_id for t in tasks(crm)) == ["C-8", "C-9", "C-own", "C-tagged"]


def test_no_check_in_right_after_a_purchase(build: Build, clock: FixedClock) -> None:
    crm = build(with_rules(ONLY_CHECK_INS, check_in_call={"quiet_after_purchase_days": 14}))
    customer(crm, "C-1", check_in_every_days=7, phone="+358 40 000 0000")
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2026-03-02T10:00:00Z", "amount": "20"}
    )
    crm.plan(on(clock, D(2026, 3, 9)), horizon_days=0)  # 7 days since the last contact
    assert tasks(crm) == []
    crm.plan(on(clock, D(2026, 3, 16)), horizon_days=0)  # 14 quiet days after the purchase
    assert [t.due_on for t in tasks(crm)] == [D(2026, 3, 16)]


def test_a_customer_out_of_touch_for_long_is_called_now_not_missed(
    build: Build, clock: FixedClock
) -> None:
    crm = build(ONLY_CHECK_INS)
    vip(crm, "C-1", "2025-01-05T10:00:00Z")
    report = crm.plan(on(clock, D(2026, 4, 1)))
    [call] = tasks(crm)
    assert (call.due_on, call.status, report.rules["check_in_call"].missed) == (
        D(2026, 4, 1),
        TaskStatus.PLANNED,
        0,
    )


def test_send_at_follows_the_customers_timezone_across_dst(build: Build, clock: FixedClock) -> None:
    crm = build(with_rules(ONLY_BIRTHDAYS, birthday_card={"channels": ["email"], "lead_days": 0}))
    for external_id, birthday in (("before", "--03-28"), ("after", "--03-30")):
        crm.upsert_customer(
            {
                "external_id": external_id,
                "birthday": birthday,
                "email": f"{external_id}@example.fi",
                "consent_email": "granted",
                "timezone": "Europe/Helsinki",
            }
        )
    crm.plan(on(clock, D(2026, 3, 25)))
    sends = {t.customer_id: t.send_at for t in tasks(crm)}
    assert sends == {
        "before": dt.datetime(2026, 3, 28, 7, 0, tzinfo=dt.UTC),  # 09:00 EET
        "after": dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC),  # 09:00 EEST
    }


# ---------------------------------------------------------------------------- task lifecycle


@pytest.fixture
def planned(build: Build, clock: FixedClock) -> tuple[Rapport, TaskOut]:
    crm = build(ONLY_CHECK_INS)
    vip(crm, "C-1", "2026-01-05T10:00:00Z", owner="maria")
    crm.plan(on(clock, D(2026, 4, 6)))
    [task] = tasks(crm)
    return crm, task


def test_done_records_an_interaction_and_resets_the_cycle(
    planned: tuple[Rapport, TaskOut], clock: FixedClock
) -> None:
    crm, task = planned
    done = crm.complete_task(task.id, outcome="Happy with the boat; wants the spring catalogue")
    assert (done.status, done.outcome) == (
        TaskStatus.DONE,
        "Happy with the boat; wants the spring catalogue",
    )
    [call] = [i for i in crm.get_profile("C-1").recent_interactions if i.task_id == task.id]
    assert (call.kind.value, call.direction.value, call.staff) == ("call", "outbound", "maria")
    assert crm.get_customer("C-1").last_contact_at == clock.now
    report = crm.plan(D(2026, 4, 7))
    assert report.rules["check_in_call"].created == 0


def test_a_finished_task_cannot_change_again(planned: tuple[Rapport, TaskOut]) -> None:
    crm, task = planned
    crm.complete_task(task.id)
    with pytest.raises(StateError, match="is done"):
        crm.skip_task(task.id, reason="changed my mind")


def test_skip_needs_a_reason_and_keeps_it(planned: tuple[Rapport, TaskOut]) -> None:
    crm, task = planned
    with pytest.raises(InvalidInputError, match="reason"):
        crm.skip_task(task.id, reason=" ")
    skipped = crm.skip_task(task.id, reason="Customer on holiday")
    assert (skipped.status, skipped.reason) == (TaskStatus.SKIPPED, "Customer on holiday")


def test_snooze_moves_the_task_inside_its_window(planned: tuple[Rapport, TaskOut]) -> None:
    crm, task = planned
    snoozed = crm.snooze_task(task.id, until=task.window_end)
    assert (snoozed.status, snoozed.due_on) == (TaskStatus.SNOOZED, task.window_end)
    with pytest.raises(StateError, match="window ends"):
        crm.snooze_task(task.id, until=task.window_end + dt.timedelta(days=1))
    with pytest.raises(InvalidInputError, match="in the past"):
        crm.snooze_task(task.id, until=D(2026, 1, 1))


def test_cancel_keeps_the_task_as_history(planned: tuple[Rapport, TaskOut], engine: Engine) -> None:
    crm, task = planned
    assert crm.cancel_task(task.id, reason="duplicate").status is TaskStatus.CANCELLED
    assert count_rows(engine, "rapport_outreach_task") == 1


def test_a_planned_task_whose_window_passed_expires(
    planned: tuple[Rapport, TaskOut], clock: FixedClock
) -> None:
    crm, task = planned
    report = crm.plan(on(clock, task.window_end + dt.timedelta(days=1)))
    assert report.expired == 1
    assert crm.get_task(task.id).status is TaskStatus.EXPIRED


def test_shards_one_after_another_plan_what_one_run_plans(build: Build, clock: FixedClock) -> None:
    crm = build(THE_THREE)
    for n in range(30):
        customer(crm, f"C-{n}", birthday=f"--03-{n % 9 + 1:02d}", tags=["vip"] if n % 4 else [])
    day = on(clock, D(2026, 3, 1))
    expected = sorted(t.occasion_key for t in crm.plan(day, dry_run=True).tasks)
    created = [crm.plan(day, shard=f"{k}/3").created for k in (1, 2, 3)]
    assert all(n > 0 for n in created)
    assert sorted(t.occasion_key for t in tasks(crm)) == expected
    assert crm.plan(day).created == 0
    # Re-run by shard: each counts its own customers' planned occasions (in SQL for the
    # big rules), and together exactly the ones planned.
    again = [crm.plan(day, shard=f"{k}/3") for k in (1, 2, 3)]
    assert [r.created for r in again] == [0, 0, 0]
    assert sum(r.rules[rule].already_planned for r in again for rule in r.rules) == len(expected)


@pytest.mark.parametrize("text", ["0/3", "4/3", "two/3", "3"])
def test_a_bad_shard_is_refused(build: Build, text: str) -> None:
    from rapport import ConfigError

    with pytest.raises(ConfigError, match="shard"):
        build(THE_THREE).plan(D(2026, 3, 1), shard=text)


class _CacheProbe(Rule):
    """A host rule that notes the SQLite page cache the plan runs with."""

    name = "cache_probe"
    seen: ClassVar[list[int]] = []

    def occasions(self, ctx: PlanContext) -> list[Occasion]:
        size = ctx.session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        self.seen.append(int(size or 0))
        return []


def test_a_plan_runs_with_a_larger_sqlite_page_cache_and_gives_it_back(
    tmp_path: Path, clock: FixedClock
) -> None:
    """At a million customers a plan reads the same pages rule after rule: its own
    connection holds more of them, and the usual size comes back after the plan."""
    # One connection for everything, so "after the plan" is the plan's own connection.
    engine = create_engine(f"sqlite:///{tmp_path / 'cache.db'}", poolclass=StaticPool)
    crm = Rapport(engine, settings=parse_settings(only()), clock=clock, rules=[_CacheProbe])
    crm.migrate()
    _CacheProbe.seen.clear()
    for dry_run in (False, True):
        crm.plan(on(clock, dt.date(2026, 12, 1)), dry_run=dry_run)
    assert _CacheProbe.seen == [-SQLITE_PLAN_CACHE_KB] * 2
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KB
    engine.dispose()
