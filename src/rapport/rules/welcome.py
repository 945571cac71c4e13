"""``welcome``: a note after a customer's first purchase — a small "wow" for a newcomer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import ClassVar

from sqlalchemy import and_, select

from rapport.config import WelcomeSettings
from rapport.models.enums import Channel, PurchaseStatus, TaskKind
from rapport.models.tables import Customer, Purchase
from rapport.rules.base import DEFAULT_KINDS, Occasion, PlanContext, Rule


class Welcome(Rule):
    """A welcome note ``delay_days`` after the first purchase, once per customer."""

    name = "welcome"
    settings_model = WelcomeSettings
    settings: WelcomeSettings
    kinds: ClassVar[Mapping[Channel, TaskKind]] = {**DEFAULT_KINDS, Channel.MAIL: TaskKind.NOTE}

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        delay = dt.timedelta(days=self.settings.delay_days)
        first_purchase_at = ctx.history.first_purchase_at
        first = ctx.session.execute(
            select(Customer.id, first_purchase_at, Purchase.description)
            .outerjoin(
                Purchase,
                and_(
                    Purchase.customer_id == Customer.id,
                    Purchase.occurred_at == first_purchase_at,
                    Purchase.status == PurchaseStatus.COMPLETED,
                ),
            )
            .where(
                first_purchase_at >= ctx.day_start(ctx.first_due - delay),
                first_purchase_at < ctx.day_start(ctx.last_due - delay + dt.timedelta(days=1)),
            )
            .order_by(Customer.id)
        )
        seen: set[int] = set()
        for customer_id, first_purchase_at, item in first:
            if customer_id in seen:
                continue  # two purchases at the same instant: one welcome
            seen.add(customer_id)
            assert first_purchase_at is not None
            first_day = ctx.local_date(first_purchase_at)
            due_on = first_day + delay
            yield Occasion(
                customer_id=customer_id,
                occasion_key=f"{self.name}:{customer_id}",
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=self.settings.window_days),
                priority=self.settings.priority,
                context={"first_purchase_on": first_day.isoformat(), "item": item},
            )
