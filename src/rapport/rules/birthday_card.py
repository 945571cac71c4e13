"""``birthday_card``: a card by post, sent ``lead_days`` before the birthday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import select, tuple_

from rapport.config import BirthdayCardSettings
from rapport.dates import MILESTONE_AGES, latest_yearly_on_or_before, month_days_between
from rapport.models.tables import Customer
from rapport.rules.base import (
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    key_sql,
    planned,
    yearly_year,
)


class BirthdayCard(Rule):
    """A birthday card for every customer whose birthday is known.

    The card is due ``lead_days`` before the birthday so the post can deliver it, and it
    still makes sense up to the birthday itself. Each year's date comes from the stored
    month and day, so 29 February birthdays fall on 28 February (or 1 March, setting
    ``feb29``) in common years without drifting. With a known birth year the age is in
    the context, and round-number ages raise the priority.
    """

    name = "birthday_card"
    settings_model = BirthdayCardSettings
    settings: BirthdayCardSettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        lead = dt.timedelta(days=self.settings.lead_days)
        first_birthday, last_birthday = ctx.first_due + lead, ctx.last_due + lead
        feb29 = self.settings.feb29
        pairs = month_days_between(first_birthday, last_birthday, feb29)
        # The latest year only: an outage never brings back last year's birthday.
        year = yearly_year(Customer.birth_month, Customer.birth_day, pairs, last_birthday, feb29)
        stmt = select(
            Customer.id,
            Customer.birth_month,
            Customer.birth_day,
            Customer.birth_year,
            planned(key_sql(f"{self.name}:", Customer.id, ":", year)),
        ).where(Customer.birth_month.is_not(None), Customer.birth_day.is_not(None))
        if len(pairs) < 366:
            birthday = tuple_(Customer.birth_month, Customer.birth_day)
            stmt = stmt.where(birthday.in_(sorted(pairs)))
        for customer_id, month, day, born, done in ctx.session.execute(stmt):
            assert month is not None
            assert day is not None
            birthday_on = latest_yearly_on_or_before(month, day, last_birthday, feb29)
            if birthday_on < first_birthday:
                continue
            age = birthday_on.year - born if born is not None else None
            if age is not None and age <= 0:
                continue  # not born yet, or the day of birth itself
            if done:
                yield AlreadyPlanned(customer_id)
                continue
            milestone = age in MILESTONE_AGES
            yield Occasion(
                customer_id=customer_id,
                occasion_key=f"{self.name}:{customer_id}:{birthday_on.year}",
                due_on=birthday_on - lead,
                window_end=birthday_on,
                priority=self.settings.milestone_priority if milestone else self.settings.priority,
                context={"birthday": birthday_on.isoformat(), "age": age, "milestone": milestone},
            )
