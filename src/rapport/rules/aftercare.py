"""``aftercare``: a call some days after a purchase, to check it works and offer help.

Several may coexist: ``[rules.aftercare]`` and any number of ``[rules.aftercare_<name>]``
sections, each with its own category, amount and timing (the planner makes one rule of
each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select

from rapport.config import RuleSettings
from rapport.models.enums import Channel
from rapport.models.tables import Purchase
from rapport.models.values import Amount
from rapport.rules.base import (
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    planned,
)
from rapport.rules.triggers import Event, completed_purchases, occasion_key, occasion_key_sql

PREFIX = "aftercare"


class AftercareContext(RuleContext):
    """The item bought and the day it was bought."""

    item: str | None = None
    bought_on: dt.date


class AftercareSettings(RuleSettings):
    """Several may coexist: ``[rules.aftercare]`` and ``[rules.aftercare_<name>]``."""

    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE, Channel.EMAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 65
    days_after: Annotated[int, Field(ge=0, le=3650)] = 14
    window_days: Annotated[int, Field(ge=0, le=60)] = 7
    category: str | None = None
    min_amount: Amount | None = Decimal(200)


class Aftercare(Rule):
    """``days_after`` a completed purchase matching ``category`` and ``min_amount``."""

    name = PREFIX
    marks_planned = True
    label = "Aftercare"
    context_model = AftercareContext

    @classmethod
    def reason(cls, context: AftercareContext) -> str:
        if not context.item:
            return cls.title()
        return f"{cls.title()}: {context.item} (bought {context.bought_on})"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {"item": "Espresso machine" if full else None, "bought_on": dt.date(2026, 11, 9)}

    settings_model = AftercareSettings
    settings: AftercareSettings

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        last = ctx.rows(
            select(func.max(Purchase.occurred_at)).where(
                Purchase.customer_id == customer_id,
                ctx.history.before(Purchase.occurred_at),
                *completed_purchases(ctx, category=s.category, min_amount=s.min_amount),
            )
        ).scalar()
        which = " ".join(
            part
            for part in (
                f"in {s.category!r}" if s.category else "",
                f"of {Decimal(s.min_amount):,.2f} {ctx.settings.business.currency} or more"
                if s.min_amount is not None
                else "",
            )
            if part
        )
        purchase = f"completed purchase {which}".strip()
        if last is None:
            return Absence("no_purchase", f"no {purchase}")
        bought = Event(s.days_after)
        bought_on = bought.happened_on(last, ctx)
        due_on = bought.due_on(bought_on)
        if ctx.first_due <= due_on <= ctx.last_due:
            return None
        when = "before the plan's first day" if due_on < ctx.first_due else "after its last day"
        limit = ctx.first_due if due_on < ctx.first_due else ctx.last_due
        return Absence(
            "window_passed" if due_on < ctx.first_due else "not_yet",
            f"the last {purchase} was on {bought_on}; aftercare {s.days_after} days later is "
            f"due {due_on}, {when} {limit}",
            {"bought_on": bought_on, "due_on": due_on},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        bought = Event(s.days_after)
        conditions = [
            bought.where(Purchase.occurred_at, ctx),
            *completed_purchases(ctx, category=s.category, min_amount=s.min_amount),
            ctx.in_shard(Purchase.customer_id),
        ]
        rows = ctx.rows(
            select(
                Purchase.id,
                Purchase.customer_id,
                Purchase.occurred_at,
                Purchase.description,
                planned(occasion_key_sql(self.name, Purchase.customer_id, Purchase.id)),
            ).where(*conditions)
        )
        for purchase_id, customer_id, occurred_at, description, done in rows:
            if done:
                yield AlreadyPlanned(customer_id)
                continue
            bought_on = bought.happened_on(occurred_at, ctx)
            due_on = bought.due_on(bought_on)
            yield Occasion(
                customer_id=customer_id,
                occasion_key=occasion_key(self.name, customer_id, purchase_id),
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=s.window_days),
                priority=s.priority,
                context={"item": description, "bought_on": bought_on.isoformat()},
            )


def named_aftercare(name: str) -> type[Aftercare]:
    """An aftercare rule under another name, for a ``[rules.aftercare_<name>]`` section."""
    return type(f"Aftercare_{name}", (Aftercare,), {"name": name, "__doc__": Aftercare.__doc__})
