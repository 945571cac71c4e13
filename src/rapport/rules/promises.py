"""Promises: remind staff before one is due, and tell the customer first when one is late.

"Do what you say, when you say it; warn before a delay." ``promise_reminder`` is an
internal task for the staff member who made the promise; ``promise_delay_notice`` reaches
the customer as soon as an open promise is overdue, so they hear about the delay from the
business before they have to ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import RuleSettings
from rapport.models.enums import Channel, PromiseStatus
from rapport.models.tables import OutreachTask, Promise
from rapport.rules.base import (
    Absence,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    none_to_act_on,
)
from rapport.rules.triggers import DueDate, occasion_key
from rapport.store.tasks import cancel_open_tasks


class PromiseContext(RuleContext):
    """The promise: what, for when, and who made it."""

    promise_id: int
    what: str
    promised_on: dt.date
    staff: str | None = None


class _PromiseRule(Rule):
    """What the two promise rules share: their context, reason and sample."""

    context_model = PromiseContext

    @classmethod
    def reason(cls, context: PromiseContext) -> str:
        return f"{cls.title()}: {context.what} (promised for {context.promised_on})"

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        return none_to_act_on(
            ctx,
            Promise,
            customer_id,
            (PromiseStatus.OPEN,),
            code="no_promise",
            noun="promise",
            records="promises",
        )

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "promise_id": 7,
            "what": "Order the blue raincoat in size 40",
            "promised_on": dt.date(2026, 11, 21),
            "staff": "Maria" if full else None,
        }


def _promise_context(promise: Any, ctx: PlanContext) -> dict[str, Any]:
    return {
        "promise_id": promise.id,
        "what": promise.what,
        "promised_on": ctx.local_date(promise.due_at).isoformat(),
        "staff": promise.staff,
    }


def cancel_tasks_of_closed_promises(
    session: Session,
    rule: str,
    now: dt.datetime,
    customer_ids: Collection[int] | None,
    still_relevant: Collection[PromiseStatus],
) -> int:
    """Cancel open tasks of ``rule`` whose promise is no longer in ``still_relevant``."""
    relevant = set(session.scalars(select(Promise.id).where(Promise.status.in_(still_relevant))))

    def moot(task: OutreachTask) -> str | None:
        promise_id = int((task.context or {}).get("promise_id", 0))
        if promise_id in relevant:
            return None
        promise = session.get(Promise, promise_id)
        return f"promise {promise.status.value if promise else 'removed'}"

    return cancel_open_tasks(session, rule, now, customer_ids, moot)


class PromiseReminderSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE]  # unused: internal
    priority: Annotated[int, Field(ge=0, le=1000)] = 80
    lead_days: Annotated[int, Field(ge=0, le=60)] = 1


class PromiseReminder(_PromiseRule):
    """A reminder for the promise's staff member ``lead_days`` before it is due."""

    name = "promise_reminder"
    label = "Promise due soon"
    settings_model = PromiseReminderSettings
    settings: PromiseReminderSettings
    internal = True

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        ahead = DueDate(-self.settings.lead_days)
        promises = ctx.session.execute(
            select(Promise).where(
                Promise.status == PromiseStatus.OPEN,
                ahead.where(Promise.due_at, Promise.created_at, ctx),
            )
        ).scalars()
        for promise in promises:
            yield Occasion(
                customer_id=promise.customer_id,
                occasion_key=occasion_key(self.name, promise.id),
                due_on=ahead.due_on(promise.due_at, ctx),
                window_end=ctx.local_date(promise.due_at),
                priority=self.settings.priority,
                context=_promise_context(promise, ctx),
                assigned_to=promise.staff,
            )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """A promise kept, broken or renegotiated needs no reminder."""
        return cancel_tasks_of_closed_promises(
            session, self.name, now, customer_ids, (PromiseStatus.OPEN,)
        )


class PromiseDelayNoticeSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [
        Channel.EMAIL,
        Channel.SMS,
        Channel.PHONE,
    ]
    priority: Annotated[int, Field(ge=0, le=1000)] = 90
    window_days: Annotated[int, Field(ge=0, le=60)] = 7


class PromiseDelayNotice(_PromiseRule):
    """Tell the customer about a delay the day after an open promise fell due."""

    name = "promise_delay_notice"
    label = "Promise late: tell the customer"
    settings_model = PromiseDelayNoticeSettings
    settings: PromiseDelayNoticeSettings
    service = True

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        # Overdue from the day after it was due; looked for over the whole catch-up period.
        overdue = DueDate(1)
        promises = ctx.session.execute(
            select(Promise).where(
                Promise.status == PromiseStatus.OPEN,
                overdue.where(Promise.due_at, Promise.created_at, ctx),
            )
        ).scalars()
        for promise in promises:
            overdue_on = overdue.due_on(promise.due_at, ctx)
            yield Occasion(
                customer_id=promise.customer_id,
                occasion_key=occasion_key(self.name, promise.id),
                due_on=overdue_on,
                window_end=overdue_on + dt.timedelta(days=self.settings.window_days),
                priority=self.settings.priority,
                context=_promise_context(promise, ctx),
                assigned_to=promise.staff,
            )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """A kept or renegotiated promise needs no apology; a broken one still does."""
        return cancel_tasks_of_closed_promises(
            session,
            self.name,
            now,
            customer_ids,
            (PromiseStatus.OPEN, PromiseStatus.BROKEN),
        )
