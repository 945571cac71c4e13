"""``welcome``: a note after a customer's first purchase — a small "wow" for a newcomer.

Only a customer new to the business is welcomed: one whose ``customer_since`` (when
known) is at most ``new_within_days`` before the first purchase rapport records. A
first purchase big enough for a thank-you note gets this one note, which both welcomes
and thanks (see :func:`welcomes_and_thanks`); the thank-you rule leaves it alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field
from sqlalchemy import and_, select

from rapport.config import RuleSettings, Settings
from rapport.models.enums import Channel, PurchaseStatus, TaskKind
from rapport.models.tables import Customer, Purchase
from rapport.rules.base import (
    DEFAULT_KINDS,
    SAMPLE_DAY,
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    planned,
)
from rapport.rules.triggers import occasion_key, occasion_key_sql

if TYPE_CHECKING:
    from rapport.rules.thank_you_note import ThankYouNoteSettings


def is_new_customer(
    customer_since: dt.date | None, first_purchase_on: dt.date, new_within_days: int
) -> bool:
    """Whether a first recorded purchase is the start of the relationship.

    An unknown ``customer_since`` means the first purchase is the first; a customer
    since long before it (imported history, a shop that kept no orders) is not new.
    """
    if customer_since is None:
        return True
    return (first_purchase_on - customer_since).days <= new_within_days


def welcomes_and_thanks(settings: Settings, amount: Decimal | None, currency: str | None) -> bool:
    """Whether a new customer's first purchase also earns the thank-you note, which the
    welcome note then carries (one note, not two on the same day).

    Only when the welcome can reach whoever the thank-you could: it tries every channel
    the thank-you would, and an open complaint holds it back only if it holds the
    thank-you back too. Otherwise the two notes stay apart, so nobody goes unthanked.
    """
    thanks = _thank_you_settings(settings)
    welcome = Welcome.configured(settings).settings
    held_back = set(settings.planner.suppress_during_open_case)
    return (
        welcome.enabled
        and thanks.enabled
        and set(thanks.channels) <= set(welcome.channels)
        and (Welcome.name not in held_back or THANK_YOU_NOTE in held_back)
        and amount is not None
        and currency == settings.business.currency
        and amount >= thanks.min_amount
    )


#: The thank-you rule's name (that rule imports this module, not the other way round).
THANK_YOU_NOTE = "thank_you_note"


def _thank_you_settings(settings: Settings) -> ThankYouNoteSettings:
    from rapport.rules.thank_you_note import ThankYouNote  # it builds on this module

    return ThankYouNote.configured(settings).settings


class WelcomeContext(RuleContext):
    """The first purchase's day and item; ``thanks`` when it also earned a thank-you."""

    first_purchase_on: dt.date
    item: str | None = None
    thanks: bool = False


class WelcomeSettings(RuleSettings):
    priority: Annotated[int, Field(ge=0, le=1000)] = 55
    delay_days: Annotated[int, Field(ge=0, le=60)] = 1
    window_days: Annotated[int, Field(ge=0, le=60)] = 14
    #: A customer since longer than this before their first recorded purchase is not new.
    new_within_days: Annotated[int, Field(ge=0, le=3650)] = 30


class Welcome(Rule):
    """A welcome note ``delay_days`` after a new customer's first purchase, once each."""

    name = "welcome"
    marks_planned = True
    label = "Welcome"
    context_model = WelcomeContext

    @classmethod
    def reason(cls, context: WelcomeContext) -> str:
        thanks = " (and thanks)" if context.thanks else ""
        if context.item:
            return f"{cls.title()}{thanks}: first purchase {context.item}"
        return f"{cls.title()}{thanks}"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "first_purchase_on": SAMPLE_DAY - dt.timedelta(days=3),
            "item": "Espresso machine" if full else None,
            "thanks": full,
        }

    settings_model = WelcomeSettings
    settings: WelcomeSettings
    kinds: ClassVar[Mapping[Channel, TaskKind]] = {**DEFAULT_KINDS, Channel.MAIL: TaskKind.NOTE}

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        row = ctx.rows(
            select(
                ctx.history.first_purchase_at.label("first_purchase_at"), Customer.customer_since
            ).where(Customer.id == customer_id)
        ).one()
        if row.first_purchase_at is None:
            return Absence("no_purchase", "no purchase yet: the welcome follows the first one")
        first_day = ctx.local_date(row.first_purchase_at)
        if not is_new_customer(row.customer_since, first_day, s.new_within_days):
            return Absence(
                "not_new",
                f"customer since {row.customer_since}, before the first recorded purchase on "
                f"{first_day} by more than {s.new_within_days} days",
                {"customer_since": row.customer_since, "first_purchase_on": first_day},
            )
        due_on = first_day + dt.timedelta(days=s.delay_days)
        if due_on >= ctx.first_due:
            return None
        return Absence(
            "window_passed",
            f"first purchase on {first_day}; the welcome was due {due_on}, before the plan's "
            f"first day {ctx.first_due}",
            {"first_purchase_on": first_day, "due_on": due_on},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        delay = dt.timedelta(days=s.delay_days)
        first_purchase_at = ctx.history.first_purchase_at
        first = ctx.rows(
            select(
                Customer.id,
                planned(occasion_key_sql(self.name, Customer.id)).label("done"),
                first_purchase_at.label("first_purchase_at"),
                Customer.customer_since,
                Purchase.description,
                Purchase.amount,
                Purchase.currency,
            )
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
                ctx.in_shard(Customer.id),
            )
            # Two purchases at the first instant: the one in the business currency and
            # the larger first, so the welcome carries the thanks if either earns it.
            .order_by(
                Customer.id,
                (Purchase.currency == ctx.settings.business.currency).desc(),
                Purchase.amount.desc(),
            )
        )
        thanks_priority = _thank_you_settings(ctx.settings).priority
        seen: set[int] = set()
        for row in first:
            if row.id in seen:
                continue  # two purchases at the same instant: one welcome (the larger)
            seen.add(row.id)
            if row.done:
                yield AlreadyPlanned(row.id)
                continue
            assert row.first_purchase_at is not None
            first_day = ctx.local_date(row.first_purchase_at)
            if not is_new_customer(row.customer_since, first_day, s.new_within_days):
                continue
            thanks = welcomes_and_thanks(ctx.settings, row.amount, row.currency)
            due_on = first_day + delay
            yield Occasion(
                customer_id=row.id,
                occasion_key=occasion_key(self.name, row.id),
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=s.window_days),
                # The note that also thanks weighs as much as the thank-you it replaces.
                priority=max(s.priority, thanks_priority) if thanks else s.priority,
                context={
                    "first_purchase_on": first_day.isoformat(),
                    "item": row.description,
                    "thanks": thanks,
                },
            )
