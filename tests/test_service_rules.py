"""Promises and complaints: reminders, delay notices, acknowledgements, follow-ups and
surveys — service tasks that caps never hold back and that quiet the nurturing rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine

from rapport import InvalidInputError, Rapport, TaskKind, TaskStatus, parse_settings
from tests.conftest import FixedClock

D = dt.date
ONLY = ("promise_reminder", "promise_delay_notice", "case_acknowledge", "case_follow_up",
        "case_survey", "thank_you_note", "birthday_card", "check_in_call")  # fmt: skip


def settings(*enabled: str, **extra: Any) -> dict[str, Any]:
    rules = {name: {"enabled": name in enabled} for name in ONLY}
    for name, values in extra.pop("rules", {}).items():
        rules[name].update(values)
    return {"rules": rules, **extra}


@pytest.fixture
def make(rapport: Rapport, engine: Engine, clock: FixedClock) -> Any:
    def build(*enabled: str, **extra: Any) -> Rapport:
        crm = Rapport(engine, settings=parse_settings(settings(*enabled, **extra)), clock=clock)
        crm.upsert_customer(
            {
                "external_id": "C-1",
                "first_name": "Aino",
                "email": "aino@example.fi",
                "phone": "+358 40 123 4567",
                "consent_email": "granted",
                "owner": "Maria",
            }
        )
        return crm

    return build


def on(clock: FixedClock, day: dt.date) -> dt.date:
    clock.now = dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)
    return day


def promise(crm: Rapport, due: str, staff: str = "Jussi") -> int:
    return crm.create_promise(
        {"customer_id": "C-1", "what": "Order the blue raincoat", "due_at": due, "staff": staff}
    ).id


def test_staff_are_reminded_before_a_promise_is_due(make: Any, clock: FixedClock) -> None:
    crm = make("promise_reminder")
    promise(crm, "2026-11-25T15:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)))
    [task] = crm.find_tasks()
    assert (task.kind, task.channel, task.assigned_to) == (TaskKind.REMINDER, None, "Jussi")
    assert (task.due_on, task.window_end) == (D(2026, 11, 24), D(2026, 11, 25))
    assert crm.preview(task).text is not None


def test_a_reminder_is_internal_so_do_not_contact_does_not_stop_it(
    make: Any, clock: FixedClock
) -> None:
    crm = make("promise_reminder", "promise_delay_notice")
    crm.set_do_not_contact("C-1")
    promise(crm, "2026-11-25T15:00:00Z")
    promise(crm, "2026-11-20T15:00:00Z")
    report = crm.plan(on(clock, D(2026, 11, 23)))
    assert {t.rule for t in crm.find_tasks()} == {"promise_reminder"}
    assert report.rules["promise_delay_notice"].skipped == {"do_not_contact": 2}


def test_keeping_a_promise_cancels_its_reminder(make: Any, clock: FixedClock) -> None:
    crm = make("promise_reminder")
    promise_id = promise(crm, "2026-11-25T15:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)))
    crm.keep_promise(promise_id)
    [task] = crm.find_tasks()
    assert (task.status, task.reason) == (TaskStatus.CANCELLED, "promise kept")


def test_an_overdue_promise_tells_the_customer_first(make: Any, clock: FixedClock) -> None:
    crm = make("promise_delay_notice")
    promise(crm, "2026-11-20T15:00:00Z")
    promise(crm, "2026-11-23T15:00:00Z")  # due today: not overdue yet
    crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)
    [task] = crm.find_tasks()
    assert (task.kind, task.due_on, task.late) == (TaskKind.EMAIL, D(2026, 11, 21), True)
    assert task.service


def test_a_kept_promise_needs_no_apology_but_a_broken_one_does(
    make: Any, clock: FixedClock
) -> None:
    crm = make("promise_delay_notice")
    kept, broken = promise(crm, "2026-11-20T15:00:00Z"), promise(crm, "2026-11-19T15:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)))
    crm.keep_promise(kept)
    crm.break_promise(broken)
    statuses = {t.context["promise_id"]: t.status for t in crm.find_tasks() if t.context}
    assert statuses == {kept: TaskStatus.CANCELLED, broken: TaskStatus.PLANNED}


def case(crm: Rapport, opened: str, owner: str = "Erik") -> int:
    return crm.open_case(
        {"customer_id": "C-1", "summary": "The machine leaks", "opened_at": opened, "owner": owner}
    ).id


def test_a_new_complaint_is_acknowledged_the_day_it_opens(make: Any, clock: FixedClock) -> None:
    crm = make("case_acknowledge")
    case(crm, "2026-11-23T08:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)))
    [task] = crm.find_tasks()
    assert (task.kind, task.due_on, task.assigned_to) == (TaskKind.CALL, D(2026, 11, 23), "Erik")


def test_resolving_a_case_cancels_its_acknowledgement_and_follow_ups(
    make: Any, clock: FixedClock
) -> None:
    crm = make("case_acknowledge", "case_follow_up")
    case_id = case(crm, "2026-11-22T08:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)))
    assert {t.rule for t in crm.find_tasks(status="planned")} == {
        "case_acknowledge",
        "case_follow_up",
    }
    crm.resolve_case(case_id, on_first_contact=False)
    assert {t.status for t in crm.find_tasks()} == {TaskStatus.CANCELLED}


def test_follow_ups_come_every_few_days_while_the_case_is_open(
    make: Any, clock: FixedClock
) -> None:
    crm = make("case_follow_up", rules={"case_follow_up": {"every_days": 3}})
    case(crm, "2026-11-10T08:00:00Z")
    crm.plan(on(clock, D(2026, 11, 23)), horizon_days=0)  # rounds 1-4 passed unplanned
    [latest] = crm.find_tasks()
    assert (latest.occasion_key.rsplit(":", 1)[1], latest.due_on) == ("4", D(2026, 11, 22))
    crm.plan(on(clock, D(2026, 11, 25)), horizon_days=0)
    rounds = {t.occasion_key.rsplit(":", 1)[1]: t.status for t in crm.find_tasks()}
    assert rounds == {"4": TaskStatus.EXPIRED, "5": TaskStatus.PLANNED}


def test_a_survey_follows_a_resolved_case(make: Any, clock: FixedClock) -> None:
    crm = make("case_survey")
    case_id = case(crm, "2026-11-15T08:00:00Z")
    crm.resolve_case(case_id, at=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
    crm.plan(on(clock, D(2026, 11, 23)))
    [task] = crm.find_tasks()
    assert (task.rule, task.due_on, task.channel) == ("case_survey", D(2026, 11, 22), "email")


def test_service_tasks_are_never_capped(make: Any, clock: FixedClock) -> None:
    crm = make(
        "case_acknowledge",
        "promise_delay_notice",
        "birthday_card",
        caps={"max_touches": 1, "per_days": 7},
    )
    crm.upsert_customer(
        {"external_id": "C-1", "birthday": "--11-24", "address_line1": "Kuja 1", "city": "Oulu"}
    )
    case(crm, "2026-11-23T08:00:00Z")
    promise(crm, "2026-11-21T15:00:00Z")
    report = crm.plan(on(clock, D(2026, 11, 23)))
    assert {t.rule for t in crm.find_tasks()} == {
        "case_acknowledge",
        "promise_delay_notice",
        "birthday_card",
    }
    assert report.rules["birthday_card"].skipped == {}


def test_an_open_complaint_quiets_the_check_in_call(make: Any, clock: FixedClock) -> None:
    crm = make("check_in_call")
    crm.upsert_customer({"external_id": "C-1", "tags": ["vip"]})
    crm.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-06-01T10:00:00Z",
            "kind": "visit",
            "direction": "inbound",
        }
    )
    case_id = crm.open_case(
        {"customer_id": "C-1", "summary": "Late delivery", "opened_at": "2026-06-01T11:00:00Z"}
    ).id
    report = crm.plan(on(clock, D(2026, 11, 23)))
    assert report.rules["check_in_call"].skipped == {"open_case": 1}
    crm.resolve_case(case_id, at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))
    assert crm.plan(on(clock, D(2026, 11, 23))).rules["check_in_call"].created == 1


def test_survey_answers_are_kept_and_close_the_survey(make: Any, clock: FixedClock) -> None:
    crm = make("case_survey")
    case_id = case(crm, "2026-11-15T08:00:00Z")
    crm.resolve_case(case_id, at=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
    crm.plan(on(clock, D(2026, 11, 23)))
    [task] = crm.find_tasks()
    answer = crm.record_survey(4, comment="Quick fix, thank you", task_id=task.id, case_id=case_id)
    assert (answer.customer_id, answer.score) == ("C-1", 4)
    assert crm.get_task(task.id).status is TaskStatus.DONE
    assert crm.get_profile("C-1").open_cases == []
    with pytest.raises(InvalidInputError, match="less than or equal to 5"):
        crm.record_survey(6, case_id=case_id)
    with pytest.raises(InvalidInputError, match="give the task_id or the case_id"):
        crm.record_survey(3)
