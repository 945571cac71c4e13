"""``check_in_call``: a call to a top customer who has not heard from the business in a while."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from rapport.config import RuleSettings
from rapport.models.enums import Channel
from rapport.models.tables import Customer
from rapport.rules.base import (
    Absence,
    Occasion,
    PlanContext,
    PlannedCount,
    Rule,
    RuleContext,
    count_planned,
)
from rapport.rules.segments import top_segment
from rapport.rules.triggers import Inactivity
from rapport.store.tasks import cancel_superseded


class CheckInCallContext(RuleContext):
    """The last contact (None: none on record) and the cycle in days."""

    last_contact: dt.date | None = None
    every_days: int


class CheckInCallSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE]
    priority: Annotated[int, Field(ge=0, le=1000)] = 40
    top_share: Annotated[float, Field(ge=0, le=1)] = 0.2
    tag: str | None = "vip"
    every_days: Annotated[int, Field(ge=1, le=3650)] = 90
    quiet_after_purchase_days: Annotated[int, Field(ge=0, le=3650)] = 14
    window_days: Annotated[int, Field(ge=0, le=365)] = 14


class CheckInCall(Rule):
    """A "how is everything going?" call for the customers who matter most.

    The segment: the top ``top_share`` of active customers by trailing-365-day spend
    (among those who spent anything), customers tagged ``tag`` (``vip``), and customers
    with their own ``check_in_every_days``. One is due when their last contact
    (interaction, purchase or completed task) is ``every_days`` old and they have not
    bought in the last ``quiet_after_purchase_days``; the call goes on the next working
    day of the business, to the customer's owner. Any newer contact starts a new cycle and
    cancels a call still planned for the old one.
    """

    name = "check_in_call"
    marks_planned = True
    label = "Check-in call"
    context_model = CheckInCallContext

    @classmethod
    def reason(cls, context: CheckInCallContext) -> str:
        if context.last_contact is None:
            return f"{cls.title()}: no contact on record"
        return f"{cls.title()}: last contact {context.last_contact}"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {"last_contact": dt.date(2026, 8, 14) if full else None, "every_days": 90}

    settings_model = CheckInCallSettings
    settings: CheckInCallSettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | PlannedCount]:
        s = self.settings
        history = ctx.history
        quiet = Inactivity(self.name)
        anchor = quiet.anchor(ctx)
        shortest = ctx.session.scalar(select(func.min(Customer.check_in_every_days)))
        every_min = min(s.every_days, shortest or s.every_days)
        # Coarse filter in SQL: nobody whose last contact is too recent for any cycle.
        # A check-in planned for this very anchor (the same last contact) has this
        # occasion's key: those rows are only counted.
        done = quiet.planned(ctx)
        candidates = (self._segment(ctx), quiet.where(ctx, every_min), ctx.in_shard(Customer.id))
        yield count_planned(ctx, select(Customer.id).where(*candidates, done))
        rows = ctx.rows(
            select(
                Customer.id,
                anchor.label("anchor"),
                history.last_contact_at.label("last_contact_at"),
                history.last_purchase_at.label("last_purchase_at"),
                Customer.check_in_every_days,
            ).where(*candidates, ~done)
        )
        for row in rows:
            if (occasion := self._occasion(ctx, row)) is not None:
                yield occasion

    def _segment(self, ctx: PlanContext) -> ColumnElement[bool]:
        """SQL for "in the check-in segment": the top segment, or an own rhythm."""
        return top_segment(
            ctx.session,
            self.settings.top_share,
            self.settings.tag,
            Customer.check_in_every_days.is_not(None),
            thresholds=ctx.spend_thresholds,
            spend=ctx.history.spend_365d,
            among=ctx.shard,  # every query of this rule is narrowed to the shard
        )

    def _due_on(self, ctx: PlanContext, row: Any) -> dt.date:
        """The call's day for a candidate row (maybe after the plan's last day)."""
        s = self.settings
        every = row.check_in_every_days or s.every_days
        start = Inactivity.quiet_until(ctx.local_date(row.anchor), every)
        if row.last_purchase_at is not None:
            quiet_until = ctx.local_date(row.last_purchase_at) + dt.timedelta(
                days=s.quiet_after_purchase_days
            )
            start = max(start, quiet_until)
        if start + dt.timedelta(days=s.window_days) < ctx.as_of:
            # Out of touch for longer than a call's window: call now. A check-in follows
            # the customer's state, not a date, so it is never "missed".
            start = ctx.as_of
        return ctx.working_days.on_or_after(start)

    def _occasion(self, ctx: PlanContext, row: Any) -> Occasion | None:
        s = self.settings
        every = row.check_in_every_days or s.every_days
        anchor_day = ctx.local_date(row.anchor)
        window = dt.timedelta(days=s.window_days)
        due_on = self._due_on(ctx, row)
        if due_on > ctx.last_due:
            return None
        last_contact = ctx.local_date(row.last_contact_at) if row.last_contact_at else None
        return Occasion(
            customer_id=row.id,
            occasion_key=Inactivity(self.name).key(row.id, anchor_day),
            due_on=due_on,
            window_end=due_on + window,
            priority=s.priority,
            context={
                "last_contact": last_contact.isoformat() if last_contact else None,
                "every_days": every,
            },
            anchor_at=row.anchor,
        )

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        history = ctx.history
        row = ctx.rows(
            select(
                Customer.id,
                Inactivity.anchor(ctx).label("anchor"),
                history.last_contact_at.label("last_contact_at"),
                history.last_purchase_at.label("last_purchase_at"),
                Customer.check_in_every_days,
                history.spend_365d.label("spend"),
                self._segment(ctx).label("member"),
            ).where(Customer.id == customer_id)
        ).one()
        currency = ctx.settings.business.currency
        if not row.member:
            threshold = ctx.spend_thresholds.get(s.top_share)
            spend = Decimal(row.spend or 0)
            top = f"top {s.top_share:.0%}"
            detail = {"spend": spend, "threshold": threshold, "top_share": s.top_share}
            if threshold is None:
                return Absence(
                    "not_in_segment",
                    f"not in the top segment: nobody spent anything in the 365 days to "
                    f"{ctx.as_of} ({top})",
                    detail,
                )
            tagged = f", and not tagged {s.tag!r}" if s.tag else ""
            return Absence(
                "not_in_segment",
                f"not in the top segment: spend {spend:,.2f} {currency}, threshold "
                f"{Decimal(threshold):,.2f} {currency} ({top}){tagged}",
                detail,
            )
        every = row.check_in_every_days or s.every_days
        due_on = self._due_on(ctx, row)
        if row.last_contact_at is None:
            last = "no contact on record"
        else:
            days = (ctx.as_of - ctx.local_date(row.last_contact_at)).days
            last = f"contacted {days} days ago"
        return Absence(
            "cadence",
            f"{last}; calls every {every} days, next on {due_on}",
            {"last_contact_at": row.last_contact_at, "every_days": every, "due_on": due_on},
        )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """Cancel open check-ins whose cycle a newer contact has reset."""
        return cancel_superseded(
            session,
            self.name,
            Customer.last_contact_at,
            reason="contact_reset",
            now=now,
            customer_ids=customer_ids,
        )


def top_customers(
    ctx: PlanContext, among: Callable[[Any], ColumnElement[bool]] | None = None
) -> ColumnElement[bool]:
    """SQL for the top segment as the check-in call's settings draw it (its
    ``top_share`` and ``tag``): the one segment surprise gifts, family birthdays and
    custom rules' ``top_segment`` condition share. ``among``: see :func:`top_segment`."""
    s = CheckInCall.configured(ctx.settings).settings
    return top_segment(
        ctx.session,
        s.top_share,
        s.tag,
        thresholds=ctx.spend_thresholds,
        spend=ctx.history.spend_365d,
        among=among,
    )


def top_customers_words(ctx: PlanContext) -> str:
    """The top segment in words: ``top 20% by spend or tagged 'vip'``."""
    s = CheckInCall.configured(ctx.settings).settings
    return f"top {s.top_share:.0%} by spend" + (f" or tagged {s.tag!r}" if s.tag else "")
