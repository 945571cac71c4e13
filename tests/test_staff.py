"""Staff capacity in the planner, on SQLite and PostgreSQL: who gets a task, on which
day, and what waits (``[[staff]]``; the pure logic is in test_capacity.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from rapport import Rapport, TaskOut, TaskStatus, parse_settings
from rapport.models import WaitingOccasion
from rapport.rules import BUILTIN_RULES
from tests.conftest import FixedClock

D = dt.date
Build = Callable[..., Rapport]
ADDRESS = {"address_line1": "Rantakatu 5", "postal_code": "00100", "city": "Helsinki"}
PHONE = "+358 40 123 4567"


def only(*enabled: str, **extra: Any) -> dict[str, Any]:
    rules = {rule.name: {"enabled": rule.name in enabled} for rule in BUILTIN_RULES}
    return {"rules": rules, **extra}


def staff(*people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**only("check_in_call"), "staff": list(people), **extra}


@pytest.fixture
def build(rapport: Rapport, engine: Engine, clock: FixedClock) -> Build:
    def make(settings: dict[str, Any]) -> Rapport:
        return Rapport(engine, settings=parse_settings(settings), clock=clock)

    return make


def on(clock: FixedClock, day: dt.date) -> dt.date:
    clock.now = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return day


def vip(crm: Rapport, external_id: str, **fields: Any) -> None:
    """A VIP last heard from on 2026-01-05: a check-in is due from 2026-04-06 (Monday)."""
    crm.upsert_customer(
        {
            "external_id": external_id,
            "first_name": "Test",
            "tags": ["vip"],
            "phone": PHONE,
            **ADDRESS,
            **fields,
        }
    )
    crm.record_interaction(
        {
            "customer_id": external_id,
            "occurred_at": "2026-01-05T10:00:00Z",
            "kind": "visit",
            "direction": "inbound",
        }
    )


def calls(crm: Rapport, **filters: Any) -> list[TaskOut]:
    return crm.find_tasks(rule="check_in_call", **filters)


def per_day(tasks: list[TaskOut]) -> Counter[tuple[str | None, dt.date]]:
    return Counter((task.assigned_to, task.due_on) for task in tasks)


def waiting_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(WaitingOccasion)) or 0)


MARIA = {"name": "maria", "languages": ["fi"], "per_day": {"call": 2}}


def test_a_person_gets_at_most_per_day_of_a_kind_and_the_rest_moves_to_their_next_day(
    build: Build, clock: FixedClock
) -> None:
    crm = build(staff(MARIA))
    for n in range(5):
        vip(crm, f"C-{n}", owner="maria")
    report = crm.plan(on(clock, D(2026, 4, 6)), horizon_days=1)  # Mon and Tue
    assert per_day(calls(crm)) == {("maria", D(2026, 4, 6)): 2, ("maria", D(2026, 4, 7)): 2}
    assert (report.rules["check_in_call"].created, report.rules["check_in_call"].waiting) == (4, 1)


def test_created_plus_waiting_is_what_is_due_run_after_run(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(staff(MARIA))
    for n in range(7):
        vip(crm, f"C-{n}", owner="maria")
    unlimited = build(only("check_in_call"))
    due = unlimited.plan(D(2026, 4, 6), horizon_days=0, dry_run=True).rules["check_in_call"]
    assert due.created == 7
    made = 0
    for day in (D(2026, 4, 6), D(2026, 4, 7), D(2026, 4, 8), D(2026, 4, 9)):
        rule = crm.plan(on(clock, day), horizon_days=0).rules["check_in_call"]
        made += rule.created
        assert rule.created + rule.waiting == 7 - (made - rule.created)
        assert waiting_rows(engine) == rule.waiting
    assert made == 7
    assert waiting_rows(engine) == 0
    assert max(per_day(calls(crm)).values()) == 2


def test_a_day_off_a_public_holiday_and_a_weekend_get_no_tasks(
    build: Build, clock: FixedClock
) -> None:
    # Thu 2026-12-24 (off), Fri 12-25 and Sat 12-26 (holidays in Finland), Sun 12-27
    # (not a working day): the first day with room after Wed 12-23 is Mon 12-28.
    person = {**MARIA, "per_day": {"call": 1}, "off": ["2026-12-24"]}
    crm = build(staff(person, business={"country": "FI"}))
    for n in range(3):
        crm.upsert_customer(
            {"external_id": f"C-{n}", "tags": ["vip"], "phone": PHONE, "owner": "maria"}
        )
        crm.record_interaction(
            {
                "customer_id": f"C-{n}",
                "occurred_at": "2026-09-20T10:00:00Z",
                "kind": "visit",
                "direction": "inbound",
            }
        )
    crm.plan(on(clock, D(2026, 12, 23)), horizon_days=5)  # to Mon 12-28
    assert sorted(task.due_on for task in calls(crm)) == [D(2026, 12, 23), D(2026, 12, 28)]


def test_a_person_who_works_saturdays_gets_tasks_on_saturdays(
    build: Build, clock: FixedClock
) -> None:
    person = {**MARIA, "per_day": {"call": 1}, "days": ["sat"]}
    crm = build(staff(person))
    for n in range(2):
        vip(crm, f"C-{n}", owner="maria")
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=13)
    assert sorted(task.due_on for task in calls(crm)) == [D(2026, 4, 11), D(2026, 4, 18)]


def test_customers_without_an_owner_go_to_someone_who_speaks_their_language(
    build: Build, clock: FixedClock
) -> None:
    people = (
        {"name": "maria", "languages": ["fi"], "per_day": {"call": 5}},
        {"name": "sven", "languages": ["sv"], "per_day": {"call": 5}},
    )
    crm = build(staff(*people))
    vip(crm, "C-fi", language="fi-FI")
    vip(crm, "C-sv", language="sv")
    vip(crm, "C-de", language="de", owner="reception")  # an owner not on staff
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    by_customer = {task.customer_id: task.assigned_to for task in calls(crm)}
    assert by_customer["C-fi"] == "maria"
    assert by_customer["C-sv"] == "sven"
    assert by_customer["C-de"] in ("maria", "sven")  # nobody speaks German: anyone


def test_a_full_speaker_makes_the_customer_wait_rather_than_go_to_another_language(
    build: Build, clock: FixedClock
) -> None:
    people = (
        {"name": "maria", "languages": ["fi"], "per_day": {"call": 1}},
        {"name": "sven", "languages": ["sv"], "per_day": {"call": 5}},
    )
    crm = build(staff(*people))
    for n in range(3):
        vip(crm, f"C-{n}", language="fi")
    report = crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    assert [task.assigned_to for task in calls(crm)] == ["maria"]
    assert report.rules["check_in_call"].waiting == 2


def test_assignment_is_balanced_and_sticky(build: Build, clock: FixedClock) -> None:
    people = (
        {"name": "aino", "languages": ["fi"], "per_day": {"call": 10}},
        {"name": "eero", "languages": ["fi"], "per_day": {"call": 10}},
    )
    crm = build(staff(*people))
    for n in range(6):
        vip(crm, f"C-{n}", language="fi")
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    first = {task.customer_id: task.assigned_to for task in calls(crm)}
    assert Counter(first.values()) == {"aino": 3, "eero": 3}
    # Their next check-ins, after a call that resets every cycle, go to the same people.
    for task in calls(crm):
        crm.complete_task(task.id, outcome="talked")
    crm.plan(on(clock, D(2026, 7, 6)), horizon_days=4)
    later = calls(crm, status=["planned"])
    assert len(later) == 6
    assert {task.customer_id: task.assigned_to for task in later} == first


def test_room_goes_to_the_most_valuable_customer_first(build: Build, clock: FixedClock) -> None:
    crm = build(staff({**MARIA, "per_day": {"call": 1}}))
    for n, amount in enumerate((100, 900, 400)):
        vip(crm, f"C-{n}", owner="maria")
        crm.record_purchase(
            {
                "customer_id": f"C-{n}",
                "external_id": f"P-{n}",
                "occurred_at": "2026-01-05T12:00:00Z",
                "amount": amount,
            }
        )
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=2)
    order = [task.customer_id for task in sorted(calls(crm), key=lambda task: task.due_on)]
    assert order == ["C-1", "C-2", "C-0"]


def test_an_occasion_whose_window_closes_while_waiting_is_missed_for_no_capacity(
    build: Build, clock: FixedClock
) -> None:
    settings = {
        **only("birthday_card"),
        "staff": [{"name": "maria", "per_day": {"card": 0}}],
    }
    crm = build(settings)
    crm.upsert_customer({"external_id": "C-1", "birthday": "--04-20", "owner": "maria", **ADDRESS})
    report = crm.plan(on(clock, D(2026, 4, 10)))
    assert report.rules["birthday_card"].waiting == 1
    assert crm.find_tasks() == []
    report = crm.plan(on(clock, D(2026, 4, 25)))
    assert report.rules["birthday_card"].missed == 1
    [card] = crm.find_tasks(status=["missed"])
    assert (card.status, card.reason) == (TaskStatus.MISSED, "no_capacity")


def test_an_occasion_that_never_waited_is_missed_without_a_capacity_reason(
    build: Build, clock: FixedClock
) -> None:
    crm = build({**only("birthday_card"), "staff": [{"name": "maria", "per_day": {"card": 0}}]})
    crm.upsert_customer({"external_id": "C-1", "birthday": "--04-20", "owner": "maria", **ADDRESS})
    crm.plan(on(clock, D(2026, 4, 25)))  # the first run after its window closed
    [card] = crm.find_tasks(status=["missed"])
    assert card.reason is None


def test_service_tasks_are_placed_even_past_capacity_and_flagged(
    build: Build, clock: FixedClock
) -> None:
    settings = {
        **only("case_acknowledge"),
        "staff": [{"name": "maria", "per_day": {"call": 0}}],
    }
    crm = build(settings)
    crm.upsert_customer({"external_id": "C-1", "phone": PHONE, "owner": "maria", **ADDRESS})
    crm.open_case(
        {
            "customer_id": "C-1",
            "external_id": "K-1",
            "opened_at": "2026-04-06T08:00:00Z",
            "summary": "late delivery",
            "owner": "maria",
        }
    )
    report = crm.plan(on(clock, D(2026, 4, 6)))
    created = [task for task in crm.find_tasks() if task.kind.value == "call"]
    assert created
    assert all(task.assigned_to == "maria" for task in created)
    rule = report.rules["case_acknowledge"]
    assert rule.over_capacity == len(created)
    assert rule.waiting == 0
    load = crm.staff_load(D(2026, 4, 6), days=7)
    assert any(day.over == ["call"] for day in load.staff[0].days)


def test_without_staff_nothing_waits_and_tasks_go_to_the_owner(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(only("check_in_call"))
    for n in range(5):
        vip(crm, f"C-{n}", owner="maria")
    report = crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    assert (report.rules["check_in_call"].created, report.rules["check_in_call"].waiting) == (5, 0)
    assert waiting_rows(engine) == 0


def test_a_dry_run_reports_waiting_and_writes_nothing(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(staff({**MARIA, "per_day": {"call": 1}}))
    for n in range(3):
        vip(crm, f"C-{n}", owner="maria")
    report = crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0, dry_run=True)
    assert (report.rules["check_in_call"].created, report.rules["check_in_call"].waiting) == (1, 2)
    assert waiting_rows(engine) == 0
    assert crm.find_tasks() == []


def test_the_staff_load_shows_tasks_against_capacity_and_the_backlog(
    build: Build, clock: FixedClock
) -> None:
    crm = build(staff({**MARIA, "per_day": {"call": 2, "card": 3}}))
    for n in range(3):
        vip(crm, f"C-{n}", owner="maria")
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    load = crm.staff_load(D(2026, 4, 6), days=2)
    [maria] = load.staff
    monday, tuesday = maria.days
    assert (monday.due, monday.capacity) == ({"call": 2}, {"call": 2, "card": 3})
    assert tuesday.due == {}
    assert tuesday.working
    assert load.waiting == {"check_in_call": 1}
    assert load.waiting_since == D(2026, 4, 6)


def test_erasing_a_customer_removes_what_waits_for_them(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    crm = build(staff({**MARIA, "per_day": {"call": 0}}))
    vip(crm, "C-1", owner="maria")
    crm.plan(on(clock, D(2026, 4, 6)), horizon_days=0)
    assert len(crm.export_customer("C-1")["waiting"]) == 1
    crm.erase_customer("C-1")
    assert waiting_rows(engine) == 0


def test_an_occasion_older_than_the_catch_up_days_leaves_the_backlog_as_missed(
    build: Build, clock: FixedClock, engine: Engine
) -> None:
    settings = {
        **only("birthday_card"),
        "planner": {"catch_up_days": 2},
        "staff": [{"name": "maria", "per_day": {"card": 0}}],
    }
    crm = build(settings)
    crm.upsert_customer({"external_id": "C-1", "birthday": "--04-20", "owner": "maria", **ADDRESS})
    for day in range(13, 16):
        assert crm.plan(on(clock, D(2026, 4, day))).rules["birthday_card"].waiting == 1
    # On 04-16 its due day is further back than the plan looks: no more waiting, and a
    # trace of why, though its window would run to the birthday.
    report = crm.plan(on(clock, D(2026, 4, 16)))
    assert (report.rules["birthday_card"].waiting, report.rules["birthday_card"].missed) == (0, 1)
    [card] = crm.find_tasks(status=["missed"])
    assert card.reason == "no_capacity"
    assert waiting_rows(engine) == 0


def test_a_dry_run_reports_the_waiting_occasions_it_would_record_missed(
    build: Build, clock: FixedClock
) -> None:
    crm = build({**only("birthday_card"), "staff": [{"name": "maria", "per_day": {"card": 0}}]})
    crm.upsert_customer({"external_id": "C-1", "birthday": "--04-20", "owner": "maria", **ADDRESS})
    crm.plan(on(clock, D(2026, 4, 10)))
    preview = crm.plan(on(clock, D(2026, 4, 25)), dry_run=True)
    real = crm.plan(on(clock, D(2026, 4, 25)))
    assert preview.rules["birthday_card"].missed == real.rules["birthday_card"].missed == 1


def test_a_late_service_task_is_due_today_for_its_person(build: Build, clock: FixedClock) -> None:
    crm = build({**only("case_acknowledge"), "staff": [{"name": "maria", "per_day": {"call": 5}}]})
    crm.upsert_customer({"external_id": "C-1", "phone": PHONE, "owner": "maria", **ADDRESS})
    crm.open_case({"customer_id": "C-1", "opened_at": "2026-04-06T08:00:00Z", "summary": "broken"})
    crm.plan(on(clock, D(2026, 4, 7)))  # the day after: late
    [task] = crm.find_tasks(rule="case_acknowledge")
    assert (task.due_on, task.late, task.assigned_to) == (D(2026, 4, 7), True, "maria")
    [person] = crm.staff_load(D(2026, 4, 7), days=1).staff
    assert person.days[0].due == {"call": 1}


def test_a_service_task_on_a_weekend_goes_to_someone_who_works_then(
    build: Build, clock: FixedClock
) -> None:
    people = [
        {"name": "anna", "per_day": {"call": 5}},
        {"name": "ville", "per_day": {"call": 5}, "days": ["sat", "sun"]},
    ]
    crm = build({**only("case_acknowledge"), "staff": people})
    crm.upsert_customer({"external_id": "C-1", "phone": PHONE, **ADDRESS})
    crm.open_case({"customer_id": "C-1", "opened_at": "2026-04-11T08:00:00Z", "summary": "broken"})
    report = crm.plan(on(clock, D(2026, 4, 11)))  # a Saturday
    [task] = crm.find_tasks(rule="case_acknowledge")
    assert task.assigned_to == "ville"
    assert report.rules["case_acknowledge"].over_capacity == 0


def test_a_late_occasion_placed_today_is_late_but_not_moved(
    build: Build, clock: FixedClock
) -> None:
    crm = build(staff({**MARIA, "per_day": {"call": 5}}))
    vip(crm, "C-1", owner="maria")  # due Monday 2026-04-06
    report = crm.plan(on(clock, D(2026, 4, 8)), horizon_days=0)
    [call] = calls(crm)
    assert (call.due_on, call.late) == (D(2026, 4, 8), True)
    assert report.rules["check_in_call"].moved_by_caps == 0
