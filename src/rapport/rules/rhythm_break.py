"""``rhythm_break``: a regular who stopped coming. "We miss you" — once per lapse."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session

from rapport.config import RuleSettings
from rapport.dates import LocalDays
from rapport.models._columns import RawTimestamp
from rapport.models.enums import Channel, PurchaseStatus
from rapport.models.tables import Customer, Purchase
from rapport.rhythm import Visit, lapse, rhythm_of, rhythm_window
from rapport.rules.base import (
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    planned_for_anchor,
)
from rapport.rules.triggers import occasion_key
from rapport.store import chunked
from rapport.store.tasks import cancel_superseded


class RhythmBreakContext(RuleContext):
    """The last visit, the usual item and weekdays, and the usual gap between visits."""

    last_purchase_on: dt.date
    usual_item: str | None = None
    usual_weekdays: list[int] = Field(default_factory=list)
    median_gap_days: float


class RhythmBreakSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE, Channel.EMAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 50
    min_purchases: Annotated[int, Field(ge=3, le=1000)] = 5
    window_days: Annotated[int, Field(ge=0, le=60)] = 14


class RhythmBreak(Rule):
    """For regulars (at least ``min_purchases`` in the two years up to their last one):
    due the day the time since their last purchase passes their threshold, if that is
    within a year; a new purchase ends the lapse and cancels a call still planned for it.

    The due day is a rollup on the customer (``rhythm_due_on``, indexed, kept by every
    purchase write), so a day's plan reads only the regulars who fall due, never the
    purchase history of every customer. A plan for a day before later purchases
    recomputes the lapse from the purchases dated by then instead.
    """

    name = "rhythm_break"
    marks_planned = True
    label = "We miss you"
    context_model = RhythmBreakContext

    @classmethod
    def reason(cls, context: RhythmBreakContext) -> str:
        return (
            f"{cls.title()}: usually every {context.median_gap_days:g} days, "
            f"last {context.last_purchase_on}"
        )

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "last_purchase_on": dt.date(2026, 10, 2),
            "usual_item": "Coffee beans, 1 kg" if full else None,
            "usual_weekdays": [0, 4] if full else [],
            "median_gap_days": 14.0,
        }

    settings_model = RhythmBreakSettings
    settings: RhythmBreakSettings

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        if not ctx.history.current:
            return None  # the rollups hold today's rhythm, not the plan's day's
        s = self.settings
        visits, due_on = ctx.rows(
            select(Customer.rhythm_visits, Customer.rhythm_due_on).where(Customer.id == customer_id)
        ).one()
        if (visits or 0) < s.min_purchases:
            return Absence(
                "not_regular",
                f"not a regular: {visits or 0} purchase{'' if visits == 1 else 's'} in the "
                "two years to the last one, "
                f"{s.min_purchases} make a regular",
                {"visits": visits or 0, "min_purchases": s.min_purchases},
            )
        if due_on is None:
            return Absence(
                "cadence", "a regular with no lapse ahead: no steady rhythm between purchases"
            )
        if due_on > ctx.last_due:
            return Absence(
                "cadence",
                f"a regular ({visits} purchases); a lapse would start on {due_on}, after the "
                f"plan's last day {ctx.last_due}",
                {"visits": visits, "due_on": due_on},
            )
        if due_on >= ctx.first_due:
            return None
        return Absence(
            "window_passed",
            f"a regular ({visits} purchases) whose lapse began on {due_on}, before the plan's "
            f"first day {ctx.first_due}",
            {"visits": visits, "due_on": due_on},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        last_bought = ctx.history.last_purchase_at
        # A "we miss you" planned for this very last purchase has this occasion's key.
        done = planned_for_anchor(self.name, last_bought)
        rows: Iterable[Any]
        if ctx.history.current:
            rows = ctx.rows(
                select(Customer.id, Customer.last_purchase_at, Customer.rhythm_due_on, done).where(
                    Customer.rhythm_visits >= s.min_purchases,
                    Customer.rhythm_due_on >= ctx.first_due,
                    Customer.rhythm_due_on <= ctx.last_due,
                    ctx.in_shard(Customer.id),
                )
            )
        else:
            rows = self._due_as_of(ctx, last_bought, done)
        due: dict[int, tuple[dt.datetime | None, dt.date | None]] = {}
        for customer_id, last_purchase, due_on, is_done in rows:
            if is_done:
                yield AlreadyPlanned(customer_id)
            else:
                due[customer_id] = (last_purchase, due_on)
        # Their purchases, for the usual item and days the message mentions.
        days = LocalDays(ctx.zone)
        visits: dict[int, list[Visit]] = defaultdict(list)
        for batch in chunked(sorted(due)):
            rows = ctx.rows(
                select(
                    Purchase.customer_id,
                    type_coerce(Purchase.occurred_at, RawTimestamp()),
                    Purchase.description,
                ).where(
                    Purchase.customer_id.in_(batch),
                    Purchase.status == PurchaseStatus.COMPLETED,
                    ctx.history.before(Purchase.occurred_at),
                )
            )
            for customer_id, occurred_at, description in rows:
                visits[customer_id].append(Visit(days.of(occurred_at), description))
        for customer_id, (last_purchase_at, due_on) in sorted(due.items()):
            rhythm = rhythm_of(rhythm_window(visits[customer_id]), min_visits=s.min_purchases)
            if last_purchase_at is None or due_on is None or rhythm.median_gap_days is None:
                continue  # the rollup is behind the purchases; the next write fixes it
            last_day = ctx.local_date(last_purchase_at)
            yield Occasion(
                customer_id=customer_id,
                occasion_key=occasion_key(self.name, customer_id, last_day.isoformat()),
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=s.window_days),
                priority=s.priority,
                context={
                    "last_purchase_on": last_day.isoformat(),
                    "usual_item": rhythm.usual_item,
                    "usual_weekdays": list(rhythm.usual_weekdays),
                    "median_gap_days": rhythm.median_gap_days,
                },
                anchor_at=last_purchase_at,
            )

    def _due_as_of(
        self, ctx: PlanContext, last_purchase_at: Any, done: Any
    ) -> Iterator[tuple[int, dt.datetime | None, dt.date, bool]]:
        """(customer, last purchase, due day, planned) of the regulars falling due, from
        the purchases dated by the plan's day: the rollup counts later ones too. A lapse
        lasts under a year, so only customers who bought in the year before the plan's
        first day can fall due in it."""
        days = LocalDays(ctx.zone)
        completed = (
            Purchase.status == PurchaseStatus.COMPLETED,
            ctx.history.before(Purchase.occurred_at),
        )
        bought = select(Purchase.customer_id).where(
            *completed,
            Purchase.occurred_at >= ctx.day_start(ctx.first_due - dt.timedelta(days=366)),
            ctx.in_shard(Purchase.customer_id),
        )
        for batch in chunked(sorted(set(ctx.session.scalars(bought)))):
            visits: dict[int, list[Visit]] = defaultdict(list)
            purchases = ctx.rows(
                select(
                    Purchase.customer_id, type_coerce(Purchase.occurred_at, RawTimestamp())
                ).where(Purchase.customer_id.in_(batch), *completed)
            )
            for customer_id, occurred_at in purchases:
                visits[customer_id].append(Visit(days.of(occurred_at), None))
            lapses: dict[int, dt.date] = {}
            for customer_id, mine in visits.items():
                count, due_on = lapse(mine)
                wanted = due_on is not None and ctx.first_due <= due_on <= ctx.last_due
                if count >= self.settings.min_purchases and wanted:
                    assert due_on is not None
                    lapses[customer_id] = due_on
            if not lapses:
                continue
            found = ctx.rows(
                select(Customer.id, last_purchase_at, done).where(Customer.id.in_(sorted(lapses)))
            )
            for customer_id, last_purchase, is_done in found:
                yield customer_id, last_purchase, lapses[customer_id], bool(is_done)

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """A purchase after the lapse began ends it: cancel the open "we miss you"."""
        return cancel_superseded(
            session,
            self.name,
            Customer.last_purchase_at,
            reason="came back",
            now=now,
            customer_ids=customer_ids,
        )
