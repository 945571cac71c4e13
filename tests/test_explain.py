"""``Rapport.explain`` and ``rapport explain``: each rule's verdict for one customer on one
day, with the reason and its numbers, on SQLite and PostgreSQL.

Each reason code has a case built to produce it, and each verdict is checked against
what ``plan`` then does on the same day: the explanation is the planner's own decision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from rapport import (
    Channel,
    Explanation,
    NotFoundError,
    Rapport,
    RuleVerdict,
    TaskStatus,
    Verdict,
    parse_settings,
)
from rapport.database import create_engine
from rapport.models import metadata
from rapport.rules import BUILTIN_RULES
from tests.conftest import FixedClock
from tests.test_cli import rapport_cli

D = dt.date
Build = Callable[..., Rapport]
ADDRESS = {"address_line1": "Rantakatu 5", "postal_code": "00100", "city": "Helsinki"}
#: Tuesday 1 December 2026: the day explained and planned.
DAY = D(2026, 12, 1)


def only(*enabled: str, **sections: dict[str, Any]) -> dict[str, Any]:
    """Settings with only these built-in rules on (and extra top-level sections)."""
    rules = {rule.name: {"enabled": rule.name in enabled} for rule in BUILTIN_RULES}
    return {"rules": rules, **sections}


@pytest.fixture
def build(rapport: Rapport, engine: Engine, clock: FixedClock) -> Build:
    clock.now = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)

    def make(settings: dict[str, Any] | None = None) -> Rapport:
        return Rapport(engine, settings=parse_settings(settings or {}), clock=clock)

    return make


def customer(crm: Rapport, external_id: str, **fields: Any) -> None:
    crm.upsert_customer({"external_id": external_id, "first_name": "Test", **ADDRESS, **fields})


def verdict(explanation: Explanation, rule: str) -> RuleVerdict:
    [found] = [v for v in explanation.verdicts if v.rule == rule]
    return found


def planned_for(crm: Rapport, external_id: str, rule: str) -> list[Any]:
    return [t for t in crm.find_tasks(rule=rule) if t.customer_id == external_id]


# ------------------------------------------------------------------------ the verdicts


def test_a_due_card_is_planned_by_the_plan_then_done(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "anna", birthday="1980-12-06")
    due = verdict(crm.explain("anna", DAY), "birthday_card")
    assert (due.verdict, due.due_on, due.channel, due.reason) == (
        Verdict.DUE,
        D(2026, 11, 29),  # seven days before, so late on the day: today's work
        Channel.MAIL,
        None,
    )
    assert due.detail["late"] is True
    assert due.detail["window_end"] == D(2026, 12, 6)
    crm.plan(DAY)
    [task] = planned_for(crm, "anna", "birthday_card")
    assert (task.due_on, task.channel) == (due.due_on, due.channel)
    planned = verdict(crm.explain("anna", DAY), "birthday_card")
    assert (planned.verdict, planned.task_id, planned.reason) == (Verdict.PLANNED, task.id, None)
    crm.complete_task(task.id, outcome="posted")
    done = verdict(crm.explain("anna", DAY), "birthday_card")
    assert (done.verdict, done.task_id, done.code) == (Verdict.DONE, task.id, "done")
    assert done.reason == f"done on {DAY}"


def test_no_birthday_known_is_missing_data(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "anna")
    found = verdict(crm.explain("anna", DAY), "birthday_card")
    assert (found.verdict, found.code, found.reason) == (
        Verdict.NOT_DUE,
        "missing_data",
        "no birthday known",
    )


def test_a_birthday_after_the_horizon_says_when_the_card_is_due(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "anna", birthday="--03-04")
    found = verdict(crm.explain("anna", DAY), "birthday_card")
    assert (found.verdict, found.code, found.due_on) == (Verdict.NOT_DUE, "not_yet", D(2027, 2, 25))
    assert found.reason == (
        "birthday on 2027-03-04; the card is due 2027-02-25 (7 days before), after the "
        "plan's last day 2026-12-08"
    )


def test_refused_consent_names_the_channels_the_day_and_the_source(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "bo", birthday="1980-12-06", consent_mail="refused", consent_source="phone call")
    found = verdict(crm.explain("bo", DAY), "birthday_card")
    assert (found.verdict, found.code, found.due_on) == (
        Verdict.SKIPPED,
        "no_consent",
        D(2026, 11, 29),
    )
    assert found.reason == (
        "mail refused; email never allowed (unknown needs a yes) "
        f"(consent changed {DAY}, source: phone call)"
    )
    assert found.detail["consent"] == {"mail": "refused", "email": "unknown"}
    assert planned_for(crm, "bo", "birthday_card") == []
    assert crm.plan(DAY).rules["birthday_card"].skipped == {"no_consent": 1}


def test_do_not_contact_and_missing_details(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "dee", birthday="1980-12-06")
    crm.set_do_not_contact("dee", True, source="letter")
    crm.upsert_customer(
        {
            "external_id": "ed",
            "birthday": "1980-12-06",
            "consent_email": "granted",
            "consent_source": "web form",
        }
    )
    dee = verdict(crm.explain("dee", DAY), "birthday_card")
    assert (dee.verdict, dee.code) == (Verdict.SKIPPED, "do_not_contact")
    assert dee.reason == f"asked not to be contacted (consent changed {DAY}, source: letter)"
    ed = verdict(crm.explain("ed", DAY), "birthday_card")
    assert (ed.verdict, ed.code) == (Verdict.SKIPPED, "no_contact_details")
    assert ed.reason == "allowed on mail and email, but no email address or postal address on file"


def test_an_inactive_customer_is_skipped(build: Build) -> None:
    crm = build(only("birthday_card"))
    customer(crm, "fay", birthday="1980-12-06", status="inactive")
    found = verdict(crm.explain("fay", DAY), "birthday_card")
    assert (found.verdict, found.code, found.reason) == (
        Verdict.SKIPPED,
        "inactive",
        "the customer is inactive",
    )


def test_caps_name_the_contacts_that_took_the_room(build: Build) -> None:
    # One contact a week: the thank-you note (priority 60, due 1 December) takes it; the
    # card (50) was due 29 November and its window ends on the birthday, 6 December.
    crm = build(
        {
            **only("birthday_card", "thank_you_note"),
            "caps": {"max_touches": 1, "per_days": 7},
        }
    )
    customer(crm, "gus", birthday="1980-12-06", email="gus@example.fi")
    crm.record_purchase(
        {
            "customer_id": "gus",
            "external_id": "order-1",
            "occurred_at": dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC),
            "amount": "800.00",
        }
    )
    explanation = crm.explain("gus", DAY)
    note = verdict(explanation, "thank_you_note")
    card = verdict(explanation, "birthday_card")
    assert (note.verdict, note.due_on) == (Verdict.DUE, DAY)
    assert (card.verdict, card.code, card.due_on) == (Verdict.SKIPPED, "capped", D(2026, 11, 29))
    assert card.reason == (
        "capped: 1 contact in the 7 days around 2026-11-29 to 2026-12-06 (Thank-you note on "
        "2026-12-01); at most 1 in any 7 days"
    )
    assert crm.plan(DAY).rules["birthday_card"].skipped == {"capped": 1}
    assert [t.rule for t in crm.find_tasks() if t.customer_id == "gus"] == ["thank_you_note"]


def test_the_check_in_segment_and_cadence_with_their_numbers(build: Build) -> None:
    crm = build(only("check_in_call"))
    customer(crm, "small", phone="+358401111111")
    customer(crm, "big", phone="+358402222222")
    for external_id, amount in (("small", "40.00"), ("big", "1250.00")):
        crm.record_purchase(
            {
                "customer_id": external_id,
                "external_id": f"order-{external_id}",
                "occurred_at": dt.datetime(2026, 10, 26, 12, tzinfo=dt.UTC),
                "amount": amount,
            }
        )
    small = verdict(crm.explain("small", DAY), "check_in_call")
    assert (small.verdict, small.code) == (Verdict.NOT_DUE, "not_in_segment")
    assert small.reason == (
        "not in the top segment: spend 40.00 EUR, threshold 1,250.00 EUR (top 20%), "
        "and not tagged 'vip'"
    )
    big = verdict(crm.explain("big", DAY), "check_in_call")
    assert (big.verdict, big.code, big.due_on) == (Verdict.NOT_DUE, "cadence", D(2027, 1, 25))
    assert big.reason == "contacted 36 days ago; calls every 90 days, next on 2027-01-25"
    # On that day the call is due, and the plan for it creates it.
    later = verdict(crm.explain("big", D(2027, 1, 25)), "check_in_call")
    assert (later.verdict, later.due_on, later.channel) == (
        Verdict.DUE,
        D(2027, 1, 25),
        Channel.PHONE,
    )


def test_a_closed_window_is_window_passed(build: Build) -> None:
    # The card was due 2026-11-13 for a birthday on the 20th: before today, but inside
    # the catch-up days, so the plan records it missed.
    crm = build(only("birthday_card"))
    customer(crm, "hal", birthday="1980-11-20")
    found = verdict(crm.explain("hal", DAY), "birthday_card")
    assert (found.verdict, found.code, found.due_on) == (
        Verdict.SKIPPED,
        "window_passed",
        D(2026, 11, 13),
    )
    assert found.reason == "due 2026-11-13, but its window closed on 2026-11-20"
    crm.plan(DAY)
    [task] = planned_for(crm, "hal", "birthday_card")
    assert task.status == TaskStatus.MISSED
    again = verdict(crm.explain("hal", DAY), "birthday_card")
    assert (again.verdict, again.code, again.task_id) == (Verdict.SKIPPED, "window_passed", task.id)


def test_no_room_in_the_staffs_days_is_waiting(build: Build) -> None:
    staff = [{"name": "maria", "languages": ["fi"], "per_day": {"card": 1}}]
    crm = build({**only("birthday_card"), "staff": staff, "planner": {"horizon_days": 0}})
    customer(crm, "ida", birthday="1980-12-02", language="fi")
    customer(crm, "jan", birthday="1980-12-02", language="fi")
    crm.plan(DAY)  # maria's one card of the day goes to one of them
    [placed] = crm.find_tasks(rule="birthday_card")
    other = "jan" if placed.customer_id == "ida" else "ida"
    found = verdict(crm.explain(other, DAY), "birthday_card")
    assert (found.verdict, found.code, found.due_on) == (
        Verdict.WAITING,
        "no_capacity",
        D(2026, 11, 25),
    )
    assert found.reason == (
        f"no room for a card in the staff's days from 2026-11-25 to 2026-12-02; waiting since {DAY}"
    )
    assert crm.staff_load(DAY, 1).waiting == {"birthday_card": 1}


def test_each_rule_says_why_it_has_nothing(build: Build) -> None:
    """The rules' own reasons, for a long-standing customer with a small old purchase,
    a resolved complaint and a kept promise."""
    crm = build()
    customer(crm, "lea", customer_since="2018-03-10", email="lea@example.fi")
    crm.record_purchase(
        {
            "customer_id": "lea",
            "external_id": "order-1",
            "occurred_at": dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC),
            "amount": "45.00",
        }
    )
    case = crm.open_case(
        {
            "customer_id": "lea",
            "summary": "Late delivery",
            "opened_at": dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC),
        }
    )
    crm.resolve_case(case.id, at=dt.datetime(2025, 6, 3, 9, tzinfo=dt.UTC))
    promise = crm.create_promise(
        {
            "customer_id": "lea",
            "what": "Call back about the order",
            "due_at": dt.datetime(2025, 6, 4, 9, tzinfo=dt.UTC),
        }
    )
    crm.keep_promise(promise.id, at=dt.datetime(2025, 6, 4, 10, tzinfo=dt.UTC))
    said = {v.rule: (v.verdict, v.code, v.reason) for v in crm.explain("lea", DAY).verdicts}
    not_due = Verdict.NOT_DUE
    assert said["case_acknowledge"] == (not_due, "no_case", "no open complaint (1 resolved)")
    # The survey's complaint was resolved long ago: the rule cannot say more than this.
    assert said["case_survey"] == (
        not_due,
        "no_occasion",
        "no occasion due from 2026-11-01 to 2026-12-08",
    )
    assert said["case_follow_up"] == (not_due, "no_case", "no open complaint (1 resolved)")
    assert said["promise_reminder"] == (not_due, "no_promise", "no open promise (1 kept)")
    assert said["promise_delay_notice"] == (not_due, "no_promise", "no open promise (1 kept)")
    assert said["thank_you_note"] == (
        not_due,
        "no_purchase",
        "no completed purchase of 500.00 EUR or more",
    )
    assert said["welcome"] == (
        not_due,
        "not_new",
        "customer since 2018-03-10, before the first recorded purchase on 2025-06-01 by "
        "more than 30 days",
    )
    assert said["aftercare"] == (
        not_due,
        "no_purchase",
        "no completed purchase of 200.00 EUR or more",
    )
    assert said["anniversary"] == (
        not_due,
        "not_yet",
        "customer since 2018-03-10: 9 years on 2027-03-10; the note is due 2027-03-07, "
        "after the plan's last day 2026-12-08",
    )
    assert said["rhythm_break"] == (
        not_due,
        "not_regular",
        "not a regular: 1 purchase in the two years to the last one, 5 make a regular",
    )
    assert said["surprise"] == (
        not_due,
        "not_in_segment",
        "not in the top segment (top 20% by spend or tagged 'vip'): gifts go to it alone",
    )


def test_family_birthdays_say_what_is_missing_and_when(build: Build) -> None:
    crm = build(only("family_birthday"))
    customer(crm, "mo", tags=["vip"])
    customer(crm, "ned", family=[{"name": "Eero", "relation": "child", "birthday": "--04-02"}])
    customer(
        crm,
        "oona",
        tags=["vip"],
        family=[
            {"name": "Eero", "relation": "child", "birthday": "--04-02"},
            {"name": "Musti", "relation": "pet", "birthday": "--02-10"},
        ],
    )
    said = {
        name: verdict(crm.explain(name, DAY), "family_birthday") for name in ("mo", "ned", "oona")
    }
    assert (said["mo"].code, said["mo"].reason) == (
        "missing_data",
        "no family member's birthday known",
    )
    assert (said["ned"].code, said["ned"].reason) == (
        "not_in_segment",
        "not in the top segment (top 20% by spend or tagged 'vip'): family birthdays are "
        "remembered for it alone",
    )
    assert (said["oona"].code, said["oona"].due_on, said["oona"].reason) == (
        "not_yet",
        D(2027, 2, 3),
        "Musti's birthday on 2027-02-10; the card is due 2027-02-03, after the plan's last "
        "day 2026-12-08",
    )


def test_the_surprise_draw_says_who_may_be_drawn(build: Build) -> None:
    """One gift a month among the VIPs: the drawn one is due, the other is not drawn, and
    those the draw leaves out say why (the same conditions the draw uses)."""
    crm = build(
        {
            **only("surprise"),
            "rules": {**only("surprise")["rules"], "surprise": {"enabled": True, "count": 1}},
        }
    )
    for name in ("pia", "quinn", "rolf", "sten"):
        customer(crm, name, tags=["vip"])
    crm.set_do_not_contact("rolf", True, source="letter")
    crm.open_case(
        {
            "customer_id": "sten",
            "summary": "Broken lamp",
            "opened_at": dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC),
        }
    )
    said = {name: verdict(crm.explain(name, DAY), "surprise") for name in ("pia", "quinn")}
    [drawn] = [name for name, found in said.items() if found.verdict == Verdict.DUE]
    [other] = [name for name in said if name != drawn]
    assert (said[other].verdict, said[other].code, said[other].reason) == (
        Verdict.NOT_DUE,
        "not_drawn",
        "in the top segment, but not drawn for 2026-12: 1 gifts a month among the customers "
        "who may have one",
    )
    rolf = verdict(crm.explain("rolf", DAY), "surprise")
    assert (rolf.code, rolf.reason) == (
        "do_not_contact",
        "in the top segment, but asked not to be contacted",
    )
    sten = verdict(crm.explain("sten", DAY), "surprise")
    assert (sten.code, sten.reason) == (
        "open_case",
        "in the top segment, but a complaint is still open",
    )
    crm.plan(DAY)
    assert [t.customer_id for t in crm.find_tasks(rule="surprise")] == [drawn]


def test_an_unknown_customer_is_not_found(build: Build) -> None:
    crm = build()
    with pytest.raises(NotFoundError, match="no customer with external_id 'nobody'"):
        crm.explain("nobody", DAY)


def test_every_enabled_rule_has_a_verdict_and_nothing_is_written(
    build: Build, engine: Engine
) -> None:
    crm = build()
    customer(crm, "anna", birthday="1980-12-06", email="anna@example.fi", tags=["vip"])
    crm.record_purchase(
        {
            "customer_id": "anna",
            "external_id": "order-1",
            "occurred_at": dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC),
            "amount": "900.00",
        }
    )
    before = _dump(engine)
    explanation = crm.explain("anna", DAY)
    assert _dump(engine) == before
    assert {v.rule for v in explanation.verdicts} == {r.name for r in crm.planner.enabled_rules}
    for found in explanation.verdicts:
        assert (found.reason is None) == (found.verdict in (Verdict.DUE, Verdict.PLANNED))


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for table in metadata.sorted_tables
        }


# -------------------------------------------------------------- explain agrees with plan


NAMES = [f"c{n}" for n in range(4)]
customers_st = st.lists(
    st.fixed_dictionaries(
        {
            # Days from the planned day to the birthday: most fall near it.
            "birthday": st.one_of(st.none(), st.integers(-40, 40)),
            "consent_mail": st.sampled_from(["granted", "refused", "unknown"]),
            "consent_email": st.sampled_from(["granted", "refused", "unknown"]),
            "email": st.sampled_from([None, "x@example.fi"]),
            "phone": st.sampled_from([None, "+358401234567"]),
            "tags": st.sampled_from([[], ["vip"]]),
        }
    ),
    min_size=1,
    max_size=len(NAMES),
)
purchases_st = st.lists(
    st.tuples(
        st.integers(0, len(NAMES) - 1),
        st.integers(0, 60),
        st.sampled_from(["30.00", "600.00", "2500.00"]),
    ),
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=customers_st,
    purchases=purchases_st,
    offset=st.integers(0, 40),
    caps=st.sampled_from(
        [{"max_touches": 1, "per_days": 30}, {"max_touches": 1, "per_days": 7}, {}]
    ),
)
def test_explain_agrees_with_what_plan_then_does(
    tmp_path_factory: pytest.TempPathFactory,
    people: list[dict[str, Any]],
    purchases: list[tuple[int, int, str]],
    offset: int,
    caps: dict[str, int],
) -> None:
    """Over random small histories (SQLite): what explain says is due is exactly what the
    plan for that day creates, and what it says is skipped for a closed window is what
    the plan records missed."""
    day = D(2026, 11, 1) + dt.timedelta(days=offset)
    url = f"sqlite:///{tmp_path_factory.mktemp('agree') / 'shop.db'}"
    engine = create_engine(url)
    now = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    crm = Rapport(engine, settings=parse_settings({"caps": caps}), clock=lambda: now)
    try:
        crm.migrate()
        for name, person in zip(NAMES, people, strict=False):
            fields = {k: v for k, v in person.items() if v is not None}
            if "birthday" in fields:
                on = day + dt.timedelta(days=fields["birthday"])
                fields["birthday"] = on.replace(year=1980).isoformat()
            crm.upsert_customer({"external_id": name, **ADDRESS, **fields})
        for n, (who, days_ago, amount) in enumerate(purchases):
            crm.record_purchase(
                {
                    "customer_id": NAMES[who % len(people)],
                    "external_id": f"order-{n}",
                    "occurred_at": now - dt.timedelta(days=days_ago, hours=1),
                    "amount": amount,
                }
            )
        said = {name: crm.explain(name, day) for name in NAMES[: len(people)]}
        report = crm.plan(day)
        # The plan's skip counts per rule are the explanations' skipped occasions.
        skipped: dict[str, Counter[str]] = defaultdict(Counter)
        for explanation in said.values():
            for found in explanation.verdicts:
                if found.verdict == Verdict.SKIPPED and found.code != "window_passed":
                    skipped[found.rule][str(found.code)] += 1
        for rule, counts in report.rules.items():
            assert counts.skipped == dict(skipped[rule]), rule
        made = crm.find_tasks(status=[TaskStatus.PLANNED, TaskStatus.MISSED])
        for name, explanation in said.items():
            due = sorted(
                (v.rule, v.due_on, v.channel) for v in explanation.verdicts if v.verdict == "due"
            )
            created = sorted(
                (t.rule, t.due_on, t.channel)
                for t in made
                if t.customer_id == name and t.status == TaskStatus.PLANNED
            )
            assert due == created, (name, explanation.verdicts)
            passed = sorted(
                (v.rule, v.due_on)
                for v in explanation.verdicts
                if v.verdict == Verdict.SKIPPED and v.code == "window_passed" and v.task_id is None
            )
            missed = sorted(
                (t.rule, t.due_on)
                for t in made
                if t.customer_id == name and t.status == TaskStatus.MISSED
            )
            assert passed == missed, (name, explanation.verdicts)
            for found in explanation.verdicts:
                event(f"{found.rule}: {found.verdict.value} {found.code or ''}".strip())
    finally:
        crm.close()
        engine.dispose()


# ------------------------------------------------------------------- the command line


def test_the_command_prints_a_table_and_json(tmp_path: Path) -> None:
    """The installed console script, on a SQLite file (the command is the same on both)."""
    shop = tmp_path
    url = f"sqlite:///{shop / 'shop.db'}"
    (shop / "rapport.toml").write_text(f'database = "{url}"\n')
    crm = Rapport.from_url(url, settings=parse_settings({}))
    crm.migrate()
    customer(crm, "anna", birthday="--03-04", consent_mail="refused", consent_source="call")
    crm.close()
    table = rapport_cli("explain", "anna", "--as-of", "2026-12-01", cwd=shop)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "anna on 2026-12-01 (occasions due 2026-11-01 to 2026-12-08)"
    assert lines[1].split() == ["rule", "verdict", "due", "channel", "why"]
    [card] = [line for line in lines if line.startswith("birthday_card")]
    assert card.split()[:4] == ["birthday_card", "not_due", "2027-02-25", "-"]
    assert "the card is due 2027-02-25" in card
    as_json = rapport_cli("explain", "anna", "--as-of", "2026-12-01", "--format", "json", cwd=shop)
    assert as_json.returncode == 0, as_json.stderr
    verdicts = json.loads(as_json.stdout)
    [card_json] = [v for v in verdicts if v["rule"] == "birthday_card"]
    assert {"rule", "verdict", "due_on", "channel", "reason", "detail"} <= card_json.keys()
    assert card_json["detail"]["birthday"] == "2027-03-04"
    missing = rapport_cli("explain", "nobody", cwd=shop)
    assert missing.returncode == 1
    assert "no customer with external_id 'nobody'" in missing.stderr


def test_explain_reads_through_a_hosts_session(engine: Engine, rapport: Rapport) -> None:
    """Inside a host's transaction: the host's uncommitted customer is explained."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        crm = Rapport(session, settings=parse_settings(only("birthday_card")))
        customer(crm, "kim", birthday="--12-06")
        found = verdict(crm.explain("kim", DAY), "birthday_card")
        assert found.verdict == Verdict.DUE
        session.rollback()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM rapport_customer")).scalar() == 0
