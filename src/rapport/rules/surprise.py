"""``surprise``: each month, a small gift for a few loyal customers — chosen fairly.

The choice is deterministic: customers of the top segment who were not surprised in the
last 12 months are ranked by a hash of the seed, the month and their id, and the first
``count`` (or as many as ``budget`` / ``gift_value`` allows) get a ``gift`` task. Only
customers the planner can reach take part (consent and contact details for one of the
rule's channels, no open complaint). Running again in the same month picks only to fill
what is missing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field
from sqlalchemy import ColumnElement, func, select

from rapport.config import RuleSettings
from rapport.consent import reachable_on
from rapport.models.enums import CaseStatus, Channel, CustomerStatus, TaskKind
from rapport.models.tables import Case, Customer, OutreachTask
from rapport.models.values import Amount
from rapport.rules.base import (
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
)
from rapport.rules.check_in_call import top_customers, top_customers_words
from rapport.rules.triggers import occasion_key


def rank(seed: str, month: str, external_id: str) -> str:
    """A customer's place in a month's draw: stable, and fair across customers."""
    return hashlib.sha256(f"{seed}:{month}:{external_id}".encode()).hexdigest()


class SurpriseContext(RuleContext):
    """The month of the draw and the gift's value (empty: not set)."""

    month: str
    gift_value: str = ""


class SurpriseSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.MAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 40
    count: Annotated[int, Field(ge=0, le=10000)] = 3
    seed: str = "rapport"
    budget: Amount | None = None
    gift_value: Amount | None = None


class Surprise(Rule):
    """A few gifts a month for the top segment, within a budget."""

    name = "surprise"
    # A month's draw skips whoever had a gift in the last 12 months, this month's too.
    marks_planned = True
    label = "Surprise gift"
    context_model = SurpriseContext

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {"month": "2026-11", "gift_value": "25" if full else ""}

    settings_model = SurpriseSettings
    settings: SurpriseSettings
    kinds: ClassVar[Mapping[Channel, TaskKind]] = dict.fromkeys(Channel, TaskKind.GIFT)

    def gifts_per_month(self) -> int:
        s = self.settings
        if s.budget is not None and s.gift_value:
            return min(s.count, int(s.budget // s.gift_value))
        return s.count

    @staticmethod
    def _month(ctx: PlanContext) -> tuple[dt.date, dt.date]:
        """The first and last day of the month drawn (the latest the plan reaches)."""
        start = ctx.last_due.replace(day=1)
        return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])

    def _conditions(
        self, ctx: PlanContext, among: Callable[[Any], ColumnElement[bool]] | None
    ) -> list[tuple[str, ColumnElement[bool]]]:
        """Who may be drawn, each condition with the reason code of failing it. Only
        customers the planner will reach: one it skipped would be drawn again at the top
        of every run, and the month would end short of gifts. ``among`` narrows the
        segment to a plan's shard (see :func:`top_customers`)."""
        month_start, month_end = self._month(ctx)
        # Gifts of the 12 months up to this one, by the month they were for: a gift
        # planned for a later month (a plan for a past month) did not exist yet.
        recently = (
            select(OutreachTask.id)
            .where(
                OutreachTask.customer_id == Customer.id,
                OutreachTask.rule == self.name,
                OutreachTask.due_on >= month_start - dt.timedelta(days=365),
                OutreachTask.due_on <= month_end,
            )
            .exists()
        )
        conditions = [
            (
                "not_in_segment",
                top_customers(ctx, among=among),
            ),
            ("inactive", Customer.status == CustomerStatus.ACTIVE),
            ("do_not_contact", Customer.do_not_contact.is_(False)),
            ("no_consent", reachable_on(self.settings.channels, ctx.settings.consent)),
            ("cadence", ~recently),
        ]
        if self.name in ctx.settings.planner.suppress_during_open_case:
            open_case = select(Case.id).where(
                Case.customer_id == Customer.id, Case.status == CaseStatus.OPEN
            )
            conditions.append(("open_case", ~open_case.exists()))
        return conditions

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        conditions = self._conditions(ctx, ctx.shard)
        passed = ctx.rows(
            select(*(condition.label(code) for code, condition in conditions)).where(
                Customer.id == customer_id
            )
        ).one()
        failed = next(
            (code for (code, _), ok in zip(conditions, passed, strict=True) if not ok), None
        )
        channels = " or ".join(c.value for c in self.settings.channels)
        words = {
            "not_in_segment": f"not in the top segment ({top_customers_words(ctx)}): gifts go "
            "to it alone",
            "inactive": "in the top segment, but not active",
            "do_not_contact": "in the top segment, but asked not to be contacted",
            "no_consent": f"in the top segment, but cannot be reached by {channels}",
            "cadence": "in the top segment, but had a gift in the last 12 months: one a year",
            "open_case": "in the top segment, but a complaint is still open",
        }
        if failed is not None:
            return Absence(failed, words[failed])
        month = self._month(ctx)[0].strftime("%Y-%m")
        return Absence(
            "not_drawn",
            f"in the top segment, but not drawn for {month}: {self.gifts_per_month()} gifts "
            "a month among the customers who may have one",
            {"gifts_per_month": self.gifts_per_month()},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        month_start, month_end = self._month(ctx)  # the latest month only
        if month_start < ctx.first_due.replace(day=1):
            return
        month = month_start.strftime("%Y-%m")
        due_on = max(ctx.working_days.on_or_after(month_start), min(ctx.as_of, month_end))
        due_on = min(due_on, month_end)
        prefix = occasion_key(self.name, month, "")
        # By rule first (an index), so the prefix is matched among this rule's few tasks.
        this_month = (OutreachTask.rule == self.name, OutreachTask.occasion_key.startswith(prefix))
        drawn = ctx.session.scalars(select(OutreachTask.customer_id).where(*this_month)).all()
        context = {"month": month, "gift_value": str(self.settings.gift_value or "")}
        for customer_id in drawn:  # this month's draw so far
            yield AlreadyPlanned(customer_id)
        if len(drawn) >= self.gifts_per_month():
            return
        # The draw is over every candidate; a plan narrowed to some customers (a shard, or
        # one customer explained) with none among them has nothing to draw.
        if ctx.shard is not None:
            narrowed = [condition for _, condition in self._conditions(ctx, ctx.shard)]
            mine = select(Customer.id).where(*narrowed, ctx.in_shard(Customer.id))
            if ctx.rows(mine.limit(1)).first() is None:
                return
        conditions = [condition for _, condition in self._conditions(ctx, None)]
        # The gifts drawn so far are counted in the candidates' own statement, so both are
        # read as of one moment: a shard planning beside another sees the other's gifts
        # in both (they are drawn, and no longer candidates) or in neither, and the month
        # never gets more than its gifts.
        so_far = select(func.count()).select_from(OutreachTask).where(*this_month)
        candidates = ctx.rows(
            select(
                Customer.id, Customer.external_id, so_far.scalar_subquery().label("so_far")
            ).where(*conditions)
        ).all()
        wanted = self.gifts_per_month() - (candidates[0].so_far if candidates else 0)
        chosen = sorted(
            candidates, key=lambda row: rank(self.settings.seed, month, row.external_id)
        )
        for row in chosen[: max(wanted, 0)]:
            yield Occasion(
                customer_id=row.id,
                occasion_key=occasion_key(self.name, month, row.id),
                due_on=due_on,
                window_end=month_end,
                priority=self.settings.priority,
                context=context,
            )
