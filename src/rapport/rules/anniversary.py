"""``anniversary``: years as a customer, and the yearly important dates customers shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select, tuple_

from rapport.config import AnniversarySettings
from rapport.dates import latest_yearly_on_or_before, month_days_between
from rapport.models.tables import Customer, ImportantDate
from rapport.rules.base import (
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    key_sql,
    planned,
    yearly_year,
)


class Anniversary(Rule):
    """``lead_days`` before a customer's anniversary with the business (one year or more),
    and before each important date marked yearly (a wedding, a company's founding)."""

    name = "anniversary"
    settings_model = AnniversarySettings
    settings: AnniversarySettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        lead = dt.timedelta(days=s.lead_days)
        first, last = ctx.first_due + lead, ctx.last_due + lead
        pairs = sorted(month_days_between(first, last, s.feb29))
        if s.customer_since:
            month = func.extract("month", Customer.customer_since)
            day_of = func.extract("day", Customer.customer_since)
            year = yearly_year(month, day_of, pairs, last, s.feb29)
            since = ctx.session.execute(
                select(
                    Customer.id,
                    Customer.customer_since,
                    planned(key_sql(f"{self.name}:", Customer.id, ":since:", year)),
                ).where(
                    Customer.customer_since.is_not(None),
                    tuple_(month, day_of).in_(pairs)
                    if len(pairs) < 366
                    else Customer.customer_since.is_not(None),
                )
            )
            for customer_id, started, done in since:
                assert started is not None
                day = latest_yearly_on_or_before(started.month, started.day, last, s.feb29)
                years_since = day.year - started.year
                if day < first or years_since < 1:
                    continue
                if done:
                    yield AlreadyPlanned(customer_id)
                    continue
                yield self._occasion(
                    customer_id,
                    f"{self.name}:{customer_id}:since:{day.year}",
                    day,
                    {
                        "anniversary": "customer_since",
                        "label": None,
                        "anniversary_on": day.isoformat(),
                        "years": years_since,
                    },
                )
        if s.important_dates:
            year = yearly_year(ImportantDate.month, ImportantDate.day, pairs, last, s.feb29)
            key = key_sql(
                f"{self.name}:", ImportantDate.customer_id, ":date:", ImportantDate.id, ":", year
            )
            dates = ctx.session.execute(
                select(ImportantDate, planned(key)).where(
                    ImportantDate.yearly.is_(True),
                    tuple_(ImportantDate.month, ImportantDate.day).in_(pairs)
                    if len(pairs) < 366
                    else ImportantDate.yearly.is_(True),
                )
            )
            for important, done in dates:
                day = latest_yearly_on_or_before(important.month, important.day, last, s.feb29)
                date_years = day.year - important.year if important.year else None
                if day < first or (date_years is not None and date_years < 1):
                    continue
                if done:
                    yield AlreadyPlanned(important.customer_id)
                    continue
                yield self._occasion(
                    important.customer_id,
                    f"{self.name}:{important.customer_id}:date:{important.id}:{day.year}",
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
