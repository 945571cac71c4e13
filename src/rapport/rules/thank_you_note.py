"""``thank_you_note``: a personal note after a big purchase."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import RuleSettings
from rapport.models.enums import OPEN_TASK_STATUSES, Channel, PurchaseStatus, TaskKind
from rapport.models.tables import Customer, OutreachTask, Purchase
from rapport.models.values import Amount
from rapport.rules.base import (
    DEFAULT_KINDS,
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
)
from rapport.rules.triggers import occasion_key
from rapport.rules.welcome import Welcome, is_new_customer, welcomes_and_thanks
from rapport.store import chunked
from rapport.store.tasks import cancel_tasks, revise_tasks


class ThankedPurchase(RuleContext):
    """One purchase a note thanks for, as templates see it."""

    description: str | None = None
    category: str | None = None
    amount: Decimal
    currency: str | None = None
    date: dt.date


class ThankYouNoteContext(RuleContext):
    """The purchases of the group and what they add up to."""

    purchases: list[ThankedPurchase] = Field(default_factory=list)
    total: Decimal | None = None
    currency: str | None = None


class ThankYouNoteSettings(RuleSettings):
    priority: Annotated[int, Field(ge=0, le=1000)] = 60
    min_amount: Amount = Decimal(500)
    delay_days: Annotated[int, Field(ge=0, le=365)] = 1
    window_days: Annotated[int, Field(ge=0, le=365)] = 14
    coalesce_days: Annotated[int, Field(ge=0, le=365)] = 7


class ThankYouNote(Rule):
    """A note for completed purchases of at least ``min_amount`` (business currency).

    Due ``delay_days`` after the purchase, sensible until ``window_days`` after the
    group's latest purchase. Qualifying purchases within ``coalesce_days`` of the first
    one of a group share one note that lists them all; the group is keyed by that first
    purchase. A refund takes the purchase out of a note not yet done, and cancels the
    note when nothing is left. A new customer's first purchase is thanked by the welcome
    note instead (see :func:`~rapport.rules.welcome.welcomes_and_thanks`).
    """

    name = "thank_you_note"
    marks_planned = True
    label = "Thank-you note"
    context_model = ThankYouNoteContext

    @classmethod
    def reason(cls, context: ThankYouNoteContext) -> str:
        # Amounts as Babel writes them in English (the staff's words), like the messages
        # write them in the customer's language: "€308.90", never "308.9 EUR". Imported
        # here: only a list being written needs Babel's number formats.
        from babel.numbers import format_currency, format_decimal

        if not context.purchases:
            return cls.title()
        items = [
            f"{p.description or 'purchase'} ("
            + (
                format_currency(p.amount, p.currency, locale="en")
                if p.currency
                else format_decimal(p.amount, format="#,##0.00", locale="en")
            )
            + ")"
            for p in context.purchases
        ]
        return f"{cls.title()}: " + "; ".join(items)

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        purchases: list[dict[str, Any]] = [
            {"description": "Espresso machine", "category": "kitchen",
             "amount": Decimal("649.90"), "currency": "EUR", "date": dt.date(2026, 11, 20)},
            {"description": "Milk jug", "category": "kitchen",
             "amount": Decimal("24.50"), "currency": "EUR", "date": dt.date(2026, 11, 21)},
        ]  # fmt: skip
        if not full:
            purchases = [{**purchases[0], "description": None}]
        total = sum((p["amount"] for p in purchases), Decimal(0))
        return {"purchases": purchases, "total": total, "currency": "EUR"}

    settings_model = ThankYouNoteSettings
    settings: ThankYouNoteSettings
    kinds: ClassVar[Mapping[Channel, TaskKind]] = {**DEFAULT_KINDS, Channel.MAIL: TaskKind.NOTE}

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        currency = ctx.settings.business.currency
        last = ctx.rows(
            self._qualifying(currency)
            .where(Purchase.customer_id == customer_id, ctx.history.before(Purchase.occurred_at))
            .order_by(Purchase.occurred_at.desc())
            .limit(1)
        ).first()
        least = f"{Decimal(s.min_amount):,.2f} {currency}"
        if last is None:
            return Absence("no_purchase", f"no completed purchase of {least} or more")
        bought_on = ctx.local_date(last.occurred_at)
        due_on = bought_on + dt.timedelta(days=s.delay_days)
        if due_on >= ctx.first_due:
            return None  # thanked by the welcome, or joined to an earlier note's group
        return Absence(
            "window_passed",
            f"the last purchase of {least} or more was on {bought_on}; its note was due "
            f"{due_on}, before the plan's first day {ctx.first_due}",
            {"bought_on": bought_on, "due_on": due_on, "min_amount": s.min_amount},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        coalesce = dt.timedelta(days=s.coalesce_days)
        delay = dt.timedelta(days=s.delay_days)
        # Purchases that could head a group whose note is due in the window, and those
        # that could belong to such a group.
        since = ctx.day_start(ctx.first_due - delay - coalesce)
        until = ctx.day_start(ctx.last_due - delay + dt.timedelta(days=1))
        purchases = ctx.rows(
            self._qualifying(ctx.settings.business.currency)
            .add_columns(
                ctx.history.first_purchase_at.label("first_purchase_at"), Customer.customer_since
            )
            .join(Customer, Customer.id == Purchase.customer_id)
            .where(
                Purchase.occurred_at >= since,
                Purchase.occurred_at < until,
                ctx.history.before(Purchase.occurred_at),
                ctx.in_shard(Purchase.customer_id),
            )
            .order_by(Purchase.customer_id, Purchase.occurred_at, Purchase.id)
        ).all()
        welcome = Welcome.configured(ctx.settings).settings
        by_customer: dict[int, list[Any]] = defaultdict(list)
        for row in purchases:
            if (
                row.occurred_at == row.first_purchase_at
                and welcomes_and_thanks(ctx.settings, row.amount, row.currency)
                and is_new_customer(
                    row.customer_since,
                    ctx.local_date(row.occurred_at),
                    welcome.new_within_days,
                )
            ):
                continue  # the welcome note thanks for a newcomer's first purchase
            by_customer[row.customer_id].append(row)
        groups = self._existing_groups(ctx, by_customer.keys(), since - coalesce)
        for customer_id, rows in by_customer.items():
            pending: list[Any] = []
            covered: dict[str, list[Any]] = defaultdict(list)
            for row in rows:
                day = ctx.local_date(row.occurred_at)
                key = next(
                    (
                        key
                        for key, start in groups.get(customer_id, [])
                        if 0 <= (day - start).days <= s.coalesce_days
                    ),
                    None,
                )
                if key is None:
                    pending.append(row)
                else:
                    covered[key].append(row)
            # Groups with a task already are counted as planned; a group whose first
            # purchase heads no note yet is new (a note's key is its first purchase).
            fresh = [
                (occasion_key(self.name, customer_id, g[0].id), g)
                for g in _coalesce(pending, s.coalesce_days, ctx)
            ]
            for key, group in [*covered.items(), *fresh]:
                first_day = ctx.local_date(group[0].occurred_at)
                due_on = first_day + delay
                if not ctx.first_due <= due_on <= ctx.last_due:
                    continue
                if key in covered:
                    yield AlreadyPlanned(customer_id)
                    continue
                # A later purchase of the group still deserves its thanks for as long
                # as it would alone: the window runs from the latest purchase.
                latest_day = ctx.local_date(group[-1].occurred_at)
                yield Occasion(
                    customer_id=customer_id,
                    occasion_key=key,
                    due_on=due_on,
                    window_end=max(due_on, latest_day + dt.timedelta(days=s.window_days)),
                    priority=s.priority,
                    context=_note_context(group, ctx),
                    anchor_at=group[0].occurred_at,
                )

    def _qualifying(self, currency: str) -> Any:
        return select(
            Purchase.id,
            Purchase.customer_id,
            Purchase.external_id,
            Purchase.occurred_at,
            Purchase.amount,
            Purchase.currency,
            Purchase.description,
            Purchase.category,
        ).where(
            Purchase.status == PurchaseStatus.COMPLETED,
            Purchase.currency == currency,
            Purchase.amount >= self.settings.min_amount,
        )

    def _existing_groups(
        self, ctx: PlanContext, customer_ids: Collection[int], since: dt.datetime
    ) -> dict[int, list[tuple[str, dt.date]]]:
        """Key and first-purchase day of the notes these customers already have (any status)."""
        groups: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
        for batch in chunked(sorted(customer_ids)):
            rows = ctx.session.execute(
                select(
                    OutreachTask.customer_id, OutreachTask.occasion_key, OutreachTask.anchor_at
                ).where(
                    OutreachTask.rule == self.name,
                    OutreachTask.customer_id.in_(batch),
                    OutreachTask.anchor_at >= since,
                )
            )
            for customer_id, key, anchor_at in rows:
                if anchor_at is not None:
                    groups[customer_id].append((key, ctx.local_date(anchor_at)))
        return groups

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """Keep open notes in step with the purchases of their group.

        A refunded purchase leaves the note, a purchase that arrived later within the
        group's days joins it, and a note with nothing left to thank for is cancelled.
        """
        stmt = select(
            OutreachTask.id,
            OutreachTask.customer_id,
            OutreachTask.context,
            OutreachTask.anchor_at,
            OutreachTask.window_end,
        ).where(
            OutreachTask.rule == self.name,
            OutreachTask.status.in_(OPEN_TASK_STATUSES),
            OutreachTask.anchor_at.is_not(None),
        )
        if customer_ids is not None:
            stmt = stmt.where(OutreachTask.customer_id.in_(sorted(customer_ids)))
        notes = session.execute(stmt).all()
        if not notes:
            return 0
        span = dt.timedelta(days=self.settings.coalesce_days + 1)
        purchases: dict[int, list[Any]] = defaultdict(list)
        for currency in {str((note.context or {}).get("currency")) for note in notes}:
            for batch in chunked(sorted({note.customer_id for note in notes})):
                rows = session.execute(
                    self._qualifying(currency)
                    .where(
                        Purchase.customer_id.in_(batch),
                        Purchase.occurred_at >= min(n.anchor_at for n in notes if n.anchor_at),
                        Purchase.occurred_at
                        < max(n.anchor_at for n in notes if n.anchor_at) + span,
                    )
                    .order_by(Purchase.occurred_at, Purchase.id)
                )
                for row in rows:
                    purchases[row.customer_id].append(row)
        refunded: list[int] = []
        revised: list[tuple[int, dict[str, Any], dt.date]] = []
        for note in notes:
            context = dict(note.context or {})
            assert note.anchor_at is not None
            start, end = note.anchor_at, note.anchor_at + span
            group = [
                row
                for row in purchases[note.customer_id]
                if start <= row.occurred_at < end and row.currency == context.get("currency")
            ]
            refreshed = _purchase_list(group, str(context.get("timezone", "UTC")))
            if not refreshed:
                refunded.append(note.id)
            elif refreshed != context.get("purchases"):
                context["purchases"] = refreshed
                context["total"] = str(sum(Decimal(p["amount"]) for p in refreshed))
                latest_day = dt.date.fromisoformat(refreshed[-1]["date"])
                window_end = latest_day + dt.timedelta(days=self.settings.window_days)
                revised.append((note.id, context, max(note.window_end, window_end)))
        revise_tasks(session, revised)
        return cancel_tasks(session, refunded, "refunded", now)


def _coalesce(rows: Sequence[Any], days: int, ctx: PlanContext) -> Iterator[list[Any]]:
    """Group purchases: each group holds its first purchase and those within ``days`` of it."""
    group: list[Any] = []
    for row in rows:
        day = ctx.local_date(row.occurred_at)
        if group and (day - ctx.local_date(group[0].occurred_at)).days <= days:
            group.append(row)
            continue
        if group:
            yield group
        group = [row]
    if group:
        yield group


def _purchase_list(rows: Sequence[Any], zone: str) -> list[dict[str, Any]]:
    tz = zoneinfo.ZoneInfo(zone)
    return [
        {
            "id": row.id,
            "external_id": row.external_id,
            "date": row.occurred_at.astimezone(tz).date().isoformat(),
            "amount": str(row.amount),
            "currency": row.currency,
            "description": row.description,
            "category": row.category,
        }
        for row in rows
    ]


def _note_context(group: Sequence[Any], ctx: PlanContext) -> dict[str, Any]:
    purchases = _purchase_list(group, ctx.settings.business.timezone)
    return {
        "purchases": purchases,
        "total": str(sum(Decimal(p["amount"]) for p in purchases)),
        "currency": ctx.settings.business.currency,
        "timezone": ctx.settings.business.timezone,
    }
