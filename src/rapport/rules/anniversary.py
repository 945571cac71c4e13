"""``anniversary``: years as a customer, and the yearly important dates customers shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import func, select

from rapport.config import RuleSettings
from rapport.models.enums import Channel
from rapport.models.tables import Customer, ImportantDate
from rapport.rules.base import (
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    PlannedCount,
    Rule,
    RuleContext,
    count_planned,
    planned,
)
from rapport.rules.triggers import YearlyDate, occasion_key, occasion_key_sql


class AnniversaryContext(RuleContext):
    """Whose anniversary (``customer_since`` or ``important_date``), its label, day and
    years."""

    anniversary: str
    label: str | None = None
    anniversary_on: dt.date
    years: int | None = None


class AnniversarySettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.EMAIL, Channel.MAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 45
    lead_days: Annotated[int, Field(ge=0, le=60)] = 3
    customer_since: bool = True
    important_dates: bool = True
    feb29: Literal["feb28", "mar1"] = "feb28"


class Anniversary(Rule):
    """``lead_days`` before a customer's anniversary with the business (one year or more),
    and before each important date marked yearly (a wedding, a company's founding)."""

    name = "anniversary"
    marks_planned = True
    label = "Anniversary"
    context_model = AnniversaryContext

    @classmethod
    def reason(cls, context: AnniversaryContext) -> str:
        what = context.label or "customer"
        return f"{cls.title()}: {what}, {context.years} years on {context.anniversary_on}"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "anniversary": "important_date" if full else "customer_since",
            "label": "Wedding anniversary" if full else None,
            "anniversary_on": dt.date(2026, 11, 26),
            "years": 20 if full else 1,
        }

    settings_model = AnniversarySettings
    settings: AnniversarySettings

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        dates = ctx.rows(
            select(func.count())
            .select_from(ImportantDate)
            .where(ImportantDate.customer_id == customer_id, ImportantDate.yearly.is_(True))
        ).scalar_one()
        if s.important_dates and dates:
            return None  # each date's day is its own; the plan's days hold none of them
        since = ctx.rows(
            select(Customer.customer_since).where(Customer.id == customer_id)
        ).scalar_one()
        if not s.customer_since or since is None:
            return Absence("missing_data", "no customer-since date or yearly important date known")
        yearly = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        on = yearly.next_after(since.month, since.day, ctx)
        due = yearly.due_on(on)
        years = on.year - since.year
        return Absence(
            "not_yet",
            f"customer since {since}: {years} year{'' if years == 1 else 's'} on {on}; the "
            "note is due "
            f"{due}, after the plan's last day {ctx.last_due}",
            {"customer_since": since, "anniversary_on": on, "due_on": due},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned | PlannedCount]:
        s = self.settings
        yearly = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        if s.customer_since:
            # The generated, indexed month and day of customer_since.
            month, day_of = Customer.since_month, Customer.since_day
            year = yearly.year_sql(month, day_of, ctx)
            done = planned(occasion_key_sql(self.name, Customer.id, "since", year))
            candidates = (
                yearly.where(month, day_of, ctx),
                ctx.in_shard(Customer.id),
            )
            yield count_planned(ctx, select(Customer.id).where(*candidates, done))
            since = ctx.rows(select(Customer.id, Customer.customer_since).where(*candidates, ~done))
            for customer_id, started in since:
                assert started is not None
                day = yearly.occurs(started.month, started.day, ctx)
                if day is None or day.year - started.year < 1:
                    continue
                yield self._occasion(
                    customer_id,
                    occasion_key(self.name, customer_id, "since", day.year),
                    day,
                    {
                        "anniversary": "customer_since",
                        "label": None,
                        "anniversary_on": day.isoformat(),
                        "years": day.year - started.year,
                    },
                )
        if s.important_dates:
            on_month, on_day = ImportantDate.month, ImportantDate.day
            key = occasion_key_sql(
                self.name,
                ImportantDate.customer_id,
                "date",
                ImportantDate.id,
                yearly.year_sql(on_month, on_day, ctx),
            )
            dates = ctx.session.execute(
                select(ImportantDate, planned(key)).where(
                    ImportantDate.yearly.is_(True), yearly.where(on_month, on_day, ctx)
                )
            )
            for important, is_planned in dates:
                day = yearly.occurs(important.month, important.day, ctx)
                date_years = day.year - important.year if day and important.year else None
                if day is None or (date_years is not None and date_years < 1):
                    continue
                if is_planned:
                    yield AlreadyPlanned(important.customer_id)
                    continue
                yield self._occasion(
                    important.customer_id,
                    occasion_key(self.name, important.customer_id, "date", important.id, day.year),
                    day,
                    {
                        "anniversary": "important_date",
                        "label": important.label,
                        "anniversary_on": day.isoformat(),
                        "years": date_years,
                    },
                )

    def _occasion(
        self, customer_id: int, key: str, day: dt.date, context: dict[str, object]
    ) -> Occasion:
        return Occasion(
            customer_id=customer_id,
            occasion_key=key,
            due_on=day - dt.timedelta(days=self.settings.lead_days),
            window_end=day,
            priority=self.settings.priority,
            context=context,
        )
