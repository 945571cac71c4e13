"""Rules written in rapport.toml: four kinds of trigger, conditions compiled to SQL,
mistakes found at load time with their key path."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from rapport import ConfigError, Rapport, TaskStatus, load_settings, parse_settings
from tests.conftest import FixedClock, only_rules

D = dt.date

RULES_TOML = """
[[custom_rules]]
name = "mothers_day"
trigger = { rrule = "FREQ=YEARLY;BYMONTH=5;BYDAY=+2SU" }
condition = { tags_any = ["vip"], interests_any = ["Gardening"] }
action = { kind = "card", channels = ["mail", "email"], priority = 40, window_days = 3 }

[[custom_rules]]
name = "membership_renewal"
trigger = { date_field = "customer_since", offset_days = -14 }
action = { channels = ["email"], template = "renewal" }

[[custom_rules]]
name = "car_service"
trigger = { event = "purchase", category = "car", offset_days = 330 }
condition = { min_lifetime_value = 1000 }
action = { channels = ["phone"] }

[[custom_rules]]
name = "quiet_regulars"
trigger = { inactive_days = 60 }
condition = { min_purchase_count = 3, languages = ["fi"] }
action = { channels = ["email"] }
"""


def test_a_settings_file_with_every_kind_of_trigger_loads(tmp_path: Path) -> None:
    (tmp_path / "rapport.toml").write_text(RULES_TOML)
    settings = load_settings(tmp_path / "rapport.toml")
    assert [rule.name for rule in settings.custom_rules] == [
        "mothers_day",
        "membership_renewal",
        "car_service",
        "quiet_regulars",
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"name": "x1", "trigger": {"rrule": "FREQ=YEARLY", "inactive_days": 3}},
            "custom_rules.0.trigger: give exactly one of date_field, rrule, event or "
            "inactive_days (got rrule, inactive_days)",
        ),
        ({"name": "x1", "trigger": {}}, "custom_rules.0.trigger: give exactly one"),
        (
            {"name": "x1", "trigger": {"rrule": "FREQ=SOMETIMES"}},
            "custom_rules.0.trigger: rrule 'FREQ=SOMETIMES' is not an RFC 5545 rule",
        ),
        (
            {"name": "x1", "trigger": {"inactive_days": 30}, "condition": {"tag": "vip"}},
            "custom_rules.0.condition.tag: unknown key",
        ),
        (
            {"name": "x1", "trigger": {"event": "visit"}},
            "custom_rules.0.trigger.event",
        ),
        ({"name": "Bad Name", "trigger": {"inactive_days": 30}}, "custom_rules.0.name"),
        (
            {"name": "x1", "trigger": {"inactive_days": 30}, "action": {"channels": ["fax"]}},
            "custom_rules.0.action.channels.0",
        ),
    ],
)
def test_invalid_rules_fail_at_load_with_the_key_path(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"custom_rules": [rule]})
    assert message in str(caught.value)


def test_a_custom_rule_cannot_take_a_built_in_name(engine: Engine) -> None:
    settings = parse_settings(
        {"custom_rules": [{"name": "welcome", "trigger": {"inactive_days": 30}}]}
    )
    with pytest.raises(ConfigError, match="two rules are named 'welcome'"):
        Rapport(engine, settings=settings)


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path) -> Rapport:
    for folder, kinds in (("mothers_day", ("card", "email")), ("renewal", ("email",)),
                          ("quiet_regulars", ("email",))):  # fmt: skip
        (tmp_path / folder).mkdir()
        for kind in kinds:
            (tmp_path / folder / f"{kind}.en.j2").write_text(
                "{% block subject %}Hello{% endblock %}"
                "{% block text %}Dear {{ customer.name }}: " + folder + "{% endblock %}"
            )
    (tmp_path / "car_service").mkdir()
    (tmp_path / "car_service" / "call.en.j2").write_text(
        "{% block greeting %}Hi{% endblock %}{% block reason %}Service is due{% endblock %}"
    )
    data = load_settings_from(RULES_TOML)
    settings = parse_settings({**data, "rules": only_rules(), "templates_dir": str(tmp_path)})
    return Rapport(engine, settings=settings, clock=clock)


def load_settings_from(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def person(crm: Rapport, external_id: str, **fields: Any) -> None:
    crm.upsert_customer(
        {
            "external_id": external_id,
            "first_name": external_id,
            "email": f"{external_id.lower()}@example.com",
            "consent_email": "granted",
            "phone": "+358 40 123 4567",
            "address_line1": "Kuja 1",
            "city": "Oulu",
            **fields,
        }
    )


def on(clock: FixedClock, day: dt.date) -> dt.date:
    clock.now = dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)
    return day


def test_a_calendar_rule_finds_the_second_sunday_of_may(crm: Rapport, clock: FixedClock) -> None:
    person(crm, "GARDENER", tags=["vip"], interests=["gardening"])
    person(crm, "NOT-VIP", interests=["gardening"])
    person(crm, "VIP-ONLY", tags=["vip"])
    report = crm.plan(on(clock, D(2027, 5, 3)))
    [task] = crm.find_tasks(rule="mothers_day")
    assert (task.customer_id, task.due_on, task.window_end) == (
        "GARDENER",
        D(2027, 5, 9),
        D(2027, 5, 12),
    )
    assert task.kind.value == "card"
    assert crm.preview(task).text == "Dear GARDENER: mothers_day"
    assert report.rules["mothers_day"].created == 1


def test_a_date_field_with_an_offset_and_its_own_template(crm: Rapport, clock: FixedClock) -> None:
    person(crm, "MEMBER", customer_since="2020-06-15")
    person(crm, "NEW", customer_since="2026-06-10")  # not a year yet
    crm.plan(on(clock, D(2026, 6, 1)), horizon_days=0)
    [task] = crm.find_tasks(rule="membership_renewal")
    assert (task.customer_id, task.due_on) == ("MEMBER", D(2026, 6, 1))
    assert task.context is not None
    assert task.context["years"] == 6
    assert crm.preview(task).text == "Dear MEMBER: renewal"


def test_an_event_rule_with_a_condition_on_rollups(crm: Rapport, clock: FixedClock) -> None:
    person(crm, "DRIVER")
    person(crm, "SMALL")
    on(clock, D(2025, 12, 1))
    crm.record_purchase(
        {
            "customer_id": "DRIVER",
            "occurred_at": "2025-12-01T10:00:00Z",
            "amount": 25000,
            "category": "car",
            "description": "Estate car",
        }
    )
    crm.record_purchase(
        {
            "customer_id": "SMALL",
            "occurred_at": "2025-12-01T10:00:00Z",
            "amount": 300,
            "category": "car",
        }
    )
    crm.plan(on(clock, D(2026, 10, 27)))
    [task] = crm.find_tasks(rule="car_service")
    assert (task.customer_id, task.due_on, task.kind.value) == ("DRIVER", D(2026, 10, 27), "call")
    assert task.context is not None
    assert task.context["about"] == "Estate car"


def test_an_inactivity_rule_is_reset_by_a_new_contact(crm: Rapport, clock: FixedClock) -> None:
    person(crm, "QUIET", language="fi")
    person(crm, "SWEDE", language="sv")
    for customer_id in ("QUIET", "SWEDE"):
        for day in (1, 5, 9):
            crm.record_purchase(
                {
                    "customer_id": customer_id,
                    "occurred_at": f"2026-09-{day:02d}T10:00:00Z",
                    "amount": 10,
                }
            )
    crm.plan(on(clock, D(2026, 11, 8)))
    [task] = crm.find_tasks(rule="quiet_regulars")
    assert (task.customer_id, task.due_on) == ("QUIET", D(2026, 11, 8))
    crm.record_interaction(
        {
            "customer_id": "QUIET",
            "occurred_at": "2026-11-08T12:00:00Z",
            "kind": "visit",
            "direction": "inbound",
        }
    )
    assert crm.get_task(task.id).status is TaskStatus.CANCELLED
