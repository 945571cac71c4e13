"""A host app's own rule: "car service due 11 months after a car purchase"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

import pytest
from dateutil.relativedelta import relativedelta
from pydantic import Field
from sqlalchemy import Engine, select

from rapport import ConfigError, Occasion, PlanContext, Rapport, Rule, parse_settings
from rapport.config import RuleSettings
from rapport.models import Channel, Purchase, PurchaseStatus
from tests.conftest import FixedClock


class CarServiceSettings(RuleSettings):
    channels: list[Channel] = Field(default_factory=lambda: [Channel.PHONE])
    months_after: Annotated[int, Field(ge=1)] = 11
    category: str = "car"


class CarServiceReminder(Rule):
    """Call car buyers when their first service is coming up."""

    name = "car_service"
    settings_model = CarServiceSettings
    settings: CarServiceSettings

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
            due = ctx.local_date(occurred_at) + offset
            yield Occasion(
                customer_id=customer_id,
                occasion_key=f"{self.name}:{customer_id}:{purchase_id}",
                due_on=due,
                window_end=due + dt.timedelta(days=21),
                priority=self.settings.priority,
                context={"purchase_id": purchase_id},
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
