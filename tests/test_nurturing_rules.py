"""Welcome, aftercare, anniversaries, family birthdays, a regular's broken rhythm, and the
monthly surprise: each rule's edge cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, text

from rapport import Rapport, TaskKind, TaskStatus, parse_settings
from rapport.rhythm import overdue_after
from rapport.rules.surprise import rank
from tests.conftest import FixedClock

D = dt.date
ALL = ("promise_reminder", "promise_delay_notice", "case_acknowledge", "case_follow_up",
       "case_survey", "thank_you_note", "welcome", "aftercare", "birthday_card",
       "anniversary", "family_birthday", "rhythm_break", "check_in_call", "surprise")  # fmt: skip


@pytest.fixture
def make(rapport: Rapport, engine: Engine, clock: FixedClock) -> Any:
    def build(*enabled: str, rules: dict[str, Any] | None = None, **extra: Any) -> Rapport:
        sections: dict[str, Any] = {name: {"enabled": name in enabled} for name in ALL}
        for name, values in (rules or {}).items():
            sections.setdefault(name, {}).update(values)
        return Rapport(engine, settings=parse_settings({"rules": sections, **extra}), clock=clock)

    return build


def on(clock: FixedClock, day: dt.date) -> dt.date:
    clock.now = dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)
    return day


def customer(crm: Rapport, external_id: str = "C-1", **fields: Any) -> None:
    crm.upsert_customer(
        {
            "external_id": external_id,
            "first_name": "Aino",
            "address_line1": "Rantakatu 5",
            "city": "Helsinki",
            "email": f"{external_id.lower()}@example.fi",
            "phone": "+358 40 123 4567",
            "consent_email": "granted",
            **fields,
        }
    )


def buy(
    crm: Rapport, when: str, amount: str = "20", customer_id: str = "C-1", **extra: Any
) -> None:
    crm.record_purchase(
        {"customer_id": customer_id, "occurred_at": when, "amount": amount, **extra}
    )


# ---------------------------------------------------------------------------- welcome


def test_a_first_purchase_gets_one_welcome(make: Any, clock: FixedClock) -> None:
    crm = make("welcome")
    customer(crm)
    on(clock, D(2026, 11, 20))
    buy(crm, "2026-11-20T10:00:00Z", description="Espresso machine")
    buy(crm, "2026-11-21T10:00:00Z")
    crm.plan(on(clock, D(2026, 11, 21)))
    crm.plan(on(clock, D(2026, 11, 22)))
    [task] = crm.find_tasks()
    key = f"welcome:{crm.get_customer('C-1').id}"
    assert (task.occasion_key, task.due_on, task.kind) == (key, D(2026, 11, 21), TaskKind.NOTE)
    assert task.context is not None
    assert task.context["item"] == "Espresso machine"


def test_a_customer_who_bought_long_ago_is_not_welcomed(make: Any, clock: FixedClock) -> None:
    crm = make("welcome")
    customer(crm)
    buy(crm, "2025-01-10T10:00:00Z")
    buy(crm, "2026-11-20T10:00:00Z")
    assert crm.plan(on(clock, D(2026, 11, 21))).rules["welcome"].created == 0


def test_a_customer_since_years_before_the_first_purchase_is_not_welcomed(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome")
    customer(crm, customer_since="2018-05-14")
    buy(crm, "2026-11-20T10:00:00Z", description="Espresso machine")
    assert crm.plan(on(clock, D(2026, 11, 21))).rules["welcome"].created == 0


def test_a_customer_since_a_few_weeks_before_the_first_purchase_is_welcomed(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome")
    customer(crm, customer_since="2026-10-22")  # 29 days before: still new
    buy(crm, "2026-11-20T10:00:00Z")
    assert crm.plan(on(clock, D(2026, 11, 21))).rules["welcome"].created == 1


def test_new_within_days_sets_how_long_a_customer_counts_as_new(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome", rules={"welcome": {"new_within_days": 7}})
    customer(crm, customer_since="2026-11-12")  # 8 days before the first purchase
    buy(crm, "2026-11-20T10:00:00Z")
    assert crm.plan(on(clock, D(2026, 11, 21))).rules["welcome"].created == 0


def test_a_big_first_purchase_gets_one_note_that_welcomes_and_thanks(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome", "thank_you_note")
    customer(crm)
    buy(crm, "2026-11-30T10:00:00Z", amount="900", description="Sofa")
    for day in (1, 2, 3):
        crm.plan(on(clock, D(2026, 12, day)))
    [task] = crm.find_tasks()
    assert task.rule == "welcome"
    assert task.context is not None
    assert (task.context["thanks"], task.context["item"]) == (True, "Sofa")
    assert task.priority == 60  # the thank-you note's weight, above the welcome's 55


def test_a_small_first_purchase_gets_a_welcome_that_does_not_claim_the_thanks(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome", "thank_you_note")
    customer(crm)
    buy(crm, "2026-11-30T10:00:00Z", amount="40")
    crm.plan(on(clock, D(2026, 12, 1)))
    [task] = crm.find_tasks()
    assert task.context is not None
    assert (task.rule, task.context["thanks"], task.priority) == ("welcome", False, 55)


def test_a_big_first_recorded_purchase_of_an_old_customer_gets_the_thank_you_note(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome", "thank_you_note")
    customer(crm, customer_since="2020-03-01")
    buy(crm, "2026-11-30T10:00:00Z", amount="900")
    crm.plan(on(clock, D(2026, 12, 1)))
    assert [t.rule for t in crm.find_tasks()] == ["thank_you_note"]


def test_a_later_big_purchase_of_a_new_customer_still_gets_its_own_thanks(
    make: Any, clock: FixedClock
) -> None:
    crm = make("welcome", "thank_you_note")
    customer(crm)
    buy(crm, "2026-11-01T10:00:00Z", amount="900")
    buy(crm, "2026-11-20T10:00:00Z", amount="700")
    crm.plan(on(clock, D(2026, 11, 21)))
    notes = crm.find_tasks(rule="thank_you_note")
    assert [[p["amount"] for p in n.context["purchases"]] for n in notes if n.context] == [["700"]]


def test_a_welcome_that_cannot_reach_the_customer_leaves_the_thanks_to_the_note(
    make: Any, clock: FixedClock
) -> None:
    """The welcome goes by email only; this newcomer gave a postal address only."""
    crm = make("welcome", "thank_you_note", rules={"welcome": {"channels": ["email"]}})
    customer(crm, email=None)
    buy(crm, "2026-11-30T10:00:00Z", amount="900")
    report = crm.plan(on(clock, D(2026, 12, 1)))
    assert [t.rule for t in crm.find_tasks()] == ["thank_you_note"]
    assert report.rules["welcome"].skipped == {"no_contact_details": 1}


def test_a_vip_birthday_card_is_not_crowded_out_by_a_first_purchase(
    make: Any, clock: FixedClock
) -> None:
    """Aino, a VIP with a birthday on 2 December, buys for 900 EUR on 30 November: the
    plan of 1 December gives her one note that welcomes and thanks, and her card."""
    crm = make("welcome", "thank_you_note", "birthday_card")
    customer(crm, birthday="1980-12-02", tags=["vip"])
    buy(crm, "2026-11-30T10:00:00Z", amount="900")
    for _ in range(3):
        report = crm.plan(on(clock, D(2026, 12, 1)), dry_run=True)
        assert sorted(t.rule for t in report.tasks) == ["birthday_card", "welcome"]
        assert all(rule.skipped == {} for rule in report.rules.values())


# ---------------------------------------------------------------------------- aftercare


def test_aftercare_calls_after_matching_purchases_and_rules_coexist(
    make: Any, clock: FixedClock
) -> None:
    crm = make(
        "aftercare",
        rules={
            "aftercare": {"category": "kitchen", "days_after": 14},
            "aftercare_bikes": {"category": "bikes", "days_after": 30, "min_amount": 500},
        },
    )
    customer(crm)
    buy(crm, "2026-11-09T10:00:00Z", "300", category="kitchen", description="Espresso machine")
    buy(crm, "2026-10-24T10:00:00Z", "900", category="bikes", description="Road bike")
    buy(crm, "2026-10-24T11:00:00Z", "50", category="bikes", description="Bell")
    buy(crm, "2026-11-09T11:00:00Z", "80", category="clothing")
    report = crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)
    tasks = {t.rule: t for t in crm.find_tasks()}
    assert set(tasks) == {"aftercare", "aftercare_bikes"}
    assert tasks["aftercare"].due_on == D(2026, 11, 23)
    assert tasks["aftercare_bikes"].context == {"item": "Road bike", "bought_on": "2026-10-24"}
    assert tasks["aftercare"].kind is TaskKind.CALL
    assert report.rules["aftercare_bikes"].created == 1


# ---------------------------------------------------------------------------- anniversary


def test_years_as_a_customer_and_yearly_important_dates(make: Any, clock: FixedClock) -> None:
    crm = make("anniversary")
    customer(crm, "C-1", customer_since="2019-11-26")
    customer(crm, "C-new", customer_since="2026-11-26")  # not a year yet
    customer(
        crm,
        "C-2",
        important_dates=[
            {"label": "Wedding anniversary", "date": "2005-11-25"},
            {"label": "Moved house", "date": "2020-11-25", "yearly": False},
        ],
    )
    crm.plan(on(clock, D(2026, 11, 22)), horizon_days=1)
    found = {t.customer_id: t for t in crm.find_tasks()}
    assert set(found) == {"C-1", "C-2"}
    assert found["C-1"].context is not None
    assert (found["C-1"].context["years"], found["C-1"].window_end) == (7, D(2026, 11, 26))
    assert found["C-2"].context is not None
    assert (found["C-2"].context["label"], found["C-2"].context["years"]) == (
        "Wedding anniversary",
        21,
    )


# ---------------------------------------------------------------------------- family birthday


def test_family_birthdays_are_off_by_default(make: Any, clock: FixedClock) -> None:
    crm = Rapport(make().__dict__["_engine"], clock=clock) if False else make()
    customer(
        crm, tags=["vip"], family=[{"name": "Eero", "relation": "child", "birthday": "2015-11-28"}]
    )
    crm.plan(on(clock, D(2026, 11, 21)))
    assert [t for t in crm.find_tasks() if t.rule == "family_birthday"] == []


def test_a_top_customers_child_gets_a_birthday_card(make: Any, clock: FixedClock) -> None:
    crm = make("family_birthday")
    customer(
        crm,
        "C-1",
        tags=["vip"],
        family=[{"name": "Eero", "relation": "child", "birthday": "2015-11-28"}],
    )
    customer(crm, "C-2", family=[{"name": "Musti", "relation": "pet", "birthday": "--11-28"}])
    crm.plan(on(clock, D(2026, 11, 21)))
    [task] = crm.find_tasks()
    assert (task.customer_id, task.kind, task.window_end) == ("C-1", TaskKind.CARD, D(2026, 11, 28))
    assert task.context is not None
    assert (task.context["member"], task.context["turns"]) == ("Eero", 11)


# ---------------------------------------------------------------------------- rhythm break


@pytest.mark.parametrize(("gap", "threshold"), [(7, 21), (14, 28), (30, 60), (1, 15), (10.5, 24)])
def test_overdue_threshold_is_twice_the_gap_or_gap_plus_two_weeks(
    gap: float, threshold: int
) -> None:
    assert overdue_after(gap) == threshold


def weekly_regular(crm: Rapport, visits: int = 6) -> None:
    """Coffee every Sunday, the last on 1 November 2026."""
    customer(crm)
    last = D(2026, 11, 1)
    for n in range(visits):
        day = last - dt.timedelta(days=7 * n)
        buy(crm, f"{day.isoformat()}T10:00:00Z", description="Coffee beans, 1 kg")


def test_a_regular_who_stops_coming_gets_one_we_miss_you(make: Any, clock: FixedClock) -> None:
    crm = make("rhythm_break")
    weekly_regular(crm)
    assert crm.plan(on(clock, D(2026, 11, 22)), horizon_days=0).rules["rhythm_break"].created == 0
    crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)  # 22 days > 21 = max(2 x 7, 7 + 14)
    crm.plan(on(clock, D(2026, 11, 30)), horizon_days=0)
    [task] = crm.find_tasks()
    key = f"rhythm_break:{crm.get_customer('C-1').id}:2026-11-01"
    assert (task.occasion_key, task.due_on) == (key, D(2026, 11, 23))
    assert task.context is not None
    assert (task.context["usual_item"], task.context["median_gap_days"]) == (
        "Coffee beans, 1 kg",
        7.0,
    )
    profile = crm.get_profile("C-1")
    assert (profile.rhythm.usual_item, profile.rhythm.median_gap_days) == (
        "Coffee beans, 1 kg",
        7.0,
    )
    assert profile.rhythm.usual_weekdays == [6]  # 1 November 2026 is a Sunday


def test_coming_back_cancels_the_we_miss_you(make: Any, clock: FixedClock) -> None:
    crm = make("rhythm_break")
    weekly_regular(crm)
    crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)
    buy(crm, "2026-11-24T10:00:00Z")
    [task] = crm.find_tasks()
    assert (task.status, task.reason) == (TaskStatus.CANCELLED, "came back")


def test_occasional_customers_have_no_rhythm_to_break(make: Any, clock: FixedClock) -> None:
    crm = make("rhythm_break")
    weekly_regular(crm, visits=4)
    assert crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0).rules["rhythm_break"].created == 0


def test_a_lapse_longer_than_a_year_is_not_a_rhythm_break(make: Any, clock: FixedClock) -> None:
    crm = make("rhythm_break", planner={"catch_up_days": 800})
    customer(crm)
    for n in range(6):
        buy(crm, f"{2020 + n}-03-01T10:00:00Z")  # yearly: threshold 730 days
    assert crm.plan(on(clock, D(2026, 11, 23))).rules["rhythm_break"].created == 0


# ---------------------------------------------------------------------------- surprise


def test_the_monthly_surprise_is_a_fair_deterministic_draw(make: Any, clock: FixedClock) -> None:
    crm = make("surprise", rules={"surprise": {"count": 2, "seed": "harbour"}})
    for n in range(5):
        customer(crm, f"C-{n}", tags=["vip"])
    crm.plan(on(clock, D(2026, 11, 3)))
    picked = sorted(t.customer_id for t in crm.find_tasks())
    expected = sorted(
        sorted((f"C-{n}" for n in range(5)), key=lambda e: rank("harbour", "2026-11", e))[:2]
    )
    assert picked == expected
    assert {t.kind for t in crm.find_tasks()} == {TaskKind.GIFT}
    again = crm.plan(on(clock, D(2026, 11, 10)))
    assert (again.rules["surprise"].created, again.rules["surprise"].already_planned) == (0, 2)
    crm.plan(on(clock, D(2026, 12, 1)))
    december = [
        t.customer_id for t in crm.find_tasks() if t.occasion_key.startswith("surprise:2026-12")
    ]
    assert len(december) == 2
    assert not set(december) & set(picked)  # nobody is surprised twice within a year


def test_the_surprise_budget_limits_the_gifts(make: Any, clock: FixedClock) -> None:
    crm = make("surprise", rules={"surprise": {"count": 5, "budget": 60, "gift_value": 25}})
    for n in range(5):
        customer(crm, f"C-{n}", tags=["vip"])
    assert crm.plan(on(clock, D(2026, 11, 3))).rules["surprise"].created == 2


def test_the_rhythm_window_ends_at_the_last_purchase_not_today(
    make: Any, clock: FixedClock
) -> None:
    """Weekly visits until November 2026; years later the rhythm is still weekly (a lapse
    does not wear the history away), so the lapse is noticed once, when it began."""
    crm = make("rhythm_break", planner={"catch_up_days": 30})
    weekly_regular(crm)
    crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)
    assert len(crm.find_tasks()) == 1
    # Long after, the history is the same: the same lapse, already planned.
    report = crm.plan(on(clock, D(2028, 12, 1)), horizon_days=0)
    assert report.rules["rhythm_break"].created == 0


def test_the_rhythm_rollup_follows_every_purchase_write(
    make: Any, clock: FixedClock, engine: Engine
) -> None:
    crm = make("rhythm_break")
    weekly_regular(crm, visits=5)

    def rollup() -> tuple[Any, ...]:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT rhythm_visits, rhythm_due_on FROM rapport_customer")
            ).one()
        due = row[1] if row[1] is None or isinstance(row[1], dt.date) else D.fromisoformat(row[1])
        return row[0], due

    assert rollup() == (5, D(2026, 11, 23))  # last visit 1 Nov + 21 + 1
    buy(crm, "2026-11-08T10:00:00Z", external_id="P-late")  # a sixth Sunday
    assert rollup() == (6, D(2026, 11, 30))
    crm.refund_purchase("P-late")
    assert rollup() == (5, D(2026, 11, 23))


def test_changing_the_business_timezone_recomputes_the_rhythms(
    make: Any, clock: FixedClock, engine: Engine
) -> None:
    """Visits at 23:30 UTC: Sundays in London, Mondays in Helsinki. After the business
    moves to Helsinki, the next plan recomputes every rhythm in Helsinki days."""
    crm = make("rhythm_break", business={"timezone": "Europe/London"})
    customer(crm)
    for n in range(6):
        day = D(2026, 11, 1) - dt.timedelta(days=7 * n)
        buy(crm, f"{day.isoformat()}T23:30:00Z")
    helsinki = make("rhythm_break", business={"timezone": "Europe/Helsinki"})
    helsinki.plan(on(clock, D(2026, 11, 24)), horizon_days=0)
    [task] = helsinki.find_tasks()
    assert task.due_on == D(2026, 11, 24)  # Monday 2 November + 22 days
    with engine.connect() as connection:
        zones = connection.execute(
            text("SELECT name FROM rapport_checkpoint WHERE name LIKE 'rhythm_zone:%'")
        ).scalars()
        assert list(zones) == ["rhythm_zone:Europe/Helsinki"]


def test_customers_the_planner_cannot_reach_are_not_drawn(make: Any, clock: FixedClock) -> None:
    """The best-ranked customers said no to mail, have no address, or have an open
    complaint: the month still gets its gifts, from the next ones in the draw."""
    crm = make("surprise", rules={"surprise": {"count": 2, "seed": "harbour"}})
    for n in range(8):
        customer(crm, f"C-{n}", tags=["vip"])
    ranked = sorted((f"C-{n}" for n in range(8)), key=lambda e: rank("harbour", "2026-11", e))
    crm.set_consent(ranked[0], "mail", "refused")
    crm.upsert_customer({"external_id": ranked[1], "address_line1": "", "city": ""})
    crm.open_case({"customer_id": ranked[2], "summary": "late delivery", "opened_at": clock.now})
    report = crm.plan(on(clock, D(2026, 11, 3)))
    assert report.rules["surprise"].created == 2
    assert report.rules["surprise"].skipped == {}
    assert sorted(t.customer_id for t in crm.find_tasks(rule="surprise")) == sorted(ranked[3:5])
