"""``rhythm_break``: a regular who stopped coming. "We miss you" — once per lapse."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import RhythmBreakSettings
from rapport.models.enums import PurchaseStatus
from rapport.models.tables import Customer, Purchase
from rapport.rhythm import Visit, rhythm_of
from rapport.rules.base import Occasion, PlanContext, Rule, cancel_superseded
from rapport.store import chunked

HISTORY_DAYS = 730
YEAR = dt.timedelta(days=365)
SHORTEST = dt.timedelta(days=14)


def overdue_after(median_gap: float) -> int:
    """Days without a purchase after which a regular is overdue: more than
    max(2 x the usual gap, the usual gap + 14)."""
    return math.floor(max(2 * median_gap, median_gap + 14))


class RhythmBreak(Rule):
    """For regulars (at least ``min_purchases``): due the day the time since their last
    purchase passes their threshold, if that is within a year; a new purchase ends the
    lapse and cancels a call still planned for it."""

    name = "rhythm_break"
    settings_model = RhythmBreakSettings
    settings: RhythmBreakSettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        s = self.settings
        # The shortest threshold is 15 days (gap + 14, gap >= 1): nobody bought later.
        candidates = {
            row.id: row.last_purchase_at
            for row in ctx.session.execute(
                select(Customer.id, Customer.last_purchase_at).where(
                    Customer.purchase_count >= s.min_purchases,
                    Customer.last_purchase_at >= ctx.day_start(ctx.first_due - YEAR),
                    Customer.last_purchase_at < ctx.day_start(ctx.last_due - SHORTEST),
                )
            )
        }
        visits: dict[int, list[Visit]] = defaultdict(list)
        since = ctx.day_start(ctx.last_due - dt.timedelta(days=HISTORY_DAYS))
        for batch in chunked(sorted(candidates)):
            rows = ctx.session.execute(
                select(Purchase.customer_id, Purchase.occurred_at, Purchase.description).where(
                    Purchase.customer_id.in_(batch),
                    Purchase.status == PurchaseStatus.COMPLETED,
                    Purchase.occurred_at >= since,
                )
            )
            for customer_id, occurred_at, description in rows:
                visits[customer_id].append(Visit(ctx.local_date(occurred_at), description))
        for customer_id, last_purchase_at in candidates.items():
            rhythm = rhythm_of(visits[customer_id], min_visits=s.min_purchases)
            if rhythm.median_gap_days is None:
                continue
            last_day = ctx.local_date(last_purchase_at)
            threshold = overdue_after(rhythm.median_gap_days)
            due_on = last_day + dt.timedelta(days=threshold + 1)
            if (due_on - last_day).days >= 365 or not ctx.first_due <= due_on <= ctx.last_due:
                continue
            yield Occasion(
                customer_id=customer_id,
                occasion_key=f"{self.name}:{customer_id}:{last_day.isoformat()}",
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
