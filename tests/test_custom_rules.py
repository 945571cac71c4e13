"""A host app's own rule: "car service due 11 months after a car purchase"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from dateutil.relativedelta import relativedelta
from pydantic import Field
from sqlalchemy import Engine, select, update

from rapport import (
    ConfigError,
    Occasion,
    PlanContext,
    Rapport,
    Rule,
    RuleContext,
    TemplateError,
    occasion_key,
    parse_settings,
)
from rapport.config import RuleSettings
from rapport.models import Channel, OutreachTask, Purchase, PurchaseStatus
from tests.conftest import FixedClock


class CarServiceSettings(RuleSettings):
    channels: list[Channel] = Field(default_factory=lambda: [Channel.PHONE])
    months_after: Annotated[int, Field(ge=1)] = 11
    category: str = "car"


class CarServiceContext(RuleContext):
    """What the call is about: the car purchase and its day."""

    purchase_id: int
    bought_on: dt.date


class CarServiceReminder(Rule):
    """Call car buyers when their first service is coming up."""

    name = "car_service"
    label = "Car service due"
    settings_model = CarServiceSettings
    settings: CarServiceSettings
    context_model = CarServiceContext

    @classmethod
    def reason(cls, context: CarServiceContext) -> str:
        return f"{cls.title()}: car bought {context.bought_on:%d %b %Y}"

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        offset = relativedelta(months=self.settings.months_after)
        bought_from = ctx.day_start(ctx.first_due - offset)
        bought_until = ctx.day_start(ctx.last_due - offset + dt.timedelta(days=1))
        rows = ctx.session.execute(
            select(Purchase.id, Purchase.customer_id, Purchase.occurred_at).where(
                Purchase.category == self.settings.category,
                Purchase.status == PurchaseStatus.COMPLETED,
                Purchase.occurred_at >= bought_from,
                Purchase.occurred_at < bought_until,
            )
        )
        for purchase_id, customer_id, occurred_at in rows:
            bought_on = ctx.local_date(occurred_at)
            due = bought_on + offset
            yield Occasion(
                customer_id=customer_id,
                occasion_key=occasion_key(self.name, customer_id, purchase_id),
                due_on=due,
                window_end=due + dt.timedelta(days=21),
                priority=self.settings.priority,
                context={"purchase_id": purchase_id, "bought_on": bought_on.isoformat()},
            )


def test_a_registered_rule_plans_with_its_own_settings(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    settings = parse_settings({"rules": {"car_service": {"months_after": 10}}})
    crm = Rapport(engine, settings=settings, rules=[CarServiceReminder], clock=clock)
    crm.upsert_customer({"external_id": "C-1", "phone": "+358 40 123 4567"})
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "occurred_at": "2025-05-10T12:00:00Z",
            "amount": "100",
            "category": "car",
        }
    )
    report = crm.plan(dt.date(2026, 3, 5))
    assert report.rules["car_service"].created == 1
    [task] = crm.find_tasks(rule="car_service")
    assert (task.due_on, task.channel, task.kind.value) == (dt.date(2026, 3, 10), "phone", "call")
    assert crm.plan(dt.date(2026, 3, 5)).rules["car_service"].already_planned == 1


def test_a_custom_rules_settings_are_validated_by_key_path(engine: Engine) -> None:
    settings = parse_settings({"rules": {"car_service": {"months_afterr": 10}}})
    with pytest.raises(ConfigError, match=r"rules\.car_service\.months_afterr: unknown key"):
        Rapport(engine, settings=settings, rules=[CarServiceReminder])


def test_a_rule_name_cannot_be_taken_twice(engine: Engine) -> None:
    class Impostor(CarServiceReminder):
        name = "birthday_card"

    with pytest.raises(ConfigError, match="two rules are named 'birthday_card'"):
        Rapport(engine, rules=[Impostor])


def test_a_host_rules_label_reason_and_typed_context_reach_the_list_and_its_templates(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Adding a rule is the rule and its templates: nothing else learns its name."""
    (tmp_path / "car_service").mkdir()
    (tmp_path / "car_service" / "call.en.j2").write_text(
        "{% block greeting %}Hello{% endblock %}"
        "{% block reason %}Your car from {{ occasion.bought_on|date }}"
        " ({{ occasion.bought_on.year }}) is due a service{% endblock %}"
    )
    settings = parse_settings({"templates_dir": str(tmp_path)})
    crm = Rapport(engine, settings=settings, rules=[CarServiceReminder], clock=clock)
    crm.upsert_customer({"external_id": "C-1", "phone": "+358 40 123 4567"})
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2025-04-10T12:00:00Z", "amount": "100",
         "category": "car"}
    )  # fmt: skip
    crm.plan(dt.date(2026, 3, 5))
    [row] = crm.outreach(dt.date(2026, 3, 10), rules=["car_service"])
    assert row.reason == "Car service due: car bought 10 Apr 2025"
    [task] = crm.find_tasks(rule="car_service")
    assert crm.preview(task).reason == "Your car from April 10, 2025 (2025) is due a service"


def test_a_stored_context_the_rules_model_rejects_fails_naming_the_task(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = Rapport(engine, rules=[CarServiceReminder], clock=clock)
    crm.upsert_customer({"external_id": "C-1", "phone": "+358 40 123 4567"})
    crm.record_purchase(
        {"customer_id": "C-1", "occurred_at": "2025-04-10T12:00:00Z", "amount": "100",
         "category": "car"}
    )  # fmt: skip
    crm.plan(dt.date(2026, 3, 5))
    [task] = crm.find_tasks(rule="car_service")
    with engine.begin() as connection:  # an older version of the rule stored less
        connection.execute(
            update(OutreachTask).where(OutreachTask.id == task.id).values(context={"x": 1})
        )
    with pytest.raises(TemplateError, match=rf"task {task.id} \(car_service\).*purchase_id"):
        crm.outreach(dt.date(2026, 3, 10))
