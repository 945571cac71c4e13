"""``birthday_card``: a card by post, sent ``lead_days`` before the birthday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select

from rapport.config import RuleSettings
from rapport.dates import MILESTONE_AGES
from rapport.models.tables import Customer
from rapport.rules.base import (
    SAMPLE_DAY,
    Absence,
    Occasion,
    PlanContext,
    PlannedCount,
    Rule,
    RuleContext,
    count_planned,
    planned,
)
from rapport.rules.triggers import YearlyDate, occasion_key, occasion_key_sql


class BirthdayCardContext(RuleContext):
    """The birthday (this year's date) and, with a known birth year, the age turned."""

    birthday: dt.date
    age: int | None = None
    milestone: bool = False


class BirthdayCardSettings(RuleSettings):
    lead_days: Annotated[int, Field(ge=0, le=60)] = 7
    feb29: Literal["feb28", "mar1"] = "feb28"
    milestone_priority: Annotated[int, Field(ge=0, le=1000)] = 70


class BirthdayCard(Rule):
    """A birthday card for every customer whose birthday is known.

    The card is due ``lead_days`` before the birthday so the post can deliver it, and it
    still makes sense up to the birthday itself. Each year's date comes from the stored
    month and day, so 29 February birthdays fall on 28 February (or 1 March, setting
    ``feb29``) in common years without drifting. With a known birth year the age is in
    the context, and round-number ages raise the priority.
    """

    name = "birthday_card"
    marks_planned = True
    label = "Birthday card"
    context_model = BirthdayCardContext

    @classmethod
    def reason(cls, context: BirthdayCardContext) -> str:
        # The day as Babel writes it in English ("Dec 5"), whatever the process's
        # C locale would make of strftime's month names.
        from babel.dates import format_skeleton

        age = f", turns {context.age}" if context.age else ""
        day = format_skeleton("MMMd", context.birthday, locale="en")
        return f"{cls.title()}: birthday {day}{age}"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        birthday = SAMPLE_DAY + dt.timedelta(days=7)
        return {"birthday": birthday, "age": 50 if full else None, "milestone": full}

    settings_model = BirthdayCardSettings
    settings: BirthdayCardSettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | PlannedCount]:
        s = self.settings
        birthday = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        month, day = Customer.birth_month, Customer.birth_day
        done = planned(occasion_key_sql(self.name, Customer.id, birthday.year_sql(month, day, ctx)))
        candidates = (
            month.is_not(None),
            day.is_not(None),
            birthday.where(month, day, ctx),
            ctx.in_shard(Customer.id),
        )
        yield count_planned(ctx, select(Customer.id).where(*candidates, done))
        stmt = select(Customer.id, month, day, Customer.birth_year).where(*candidates, ~done)
        for customer_id, birth_month, birth_day, born in ctx.rows(stmt):
            assert birth_month is not None
            assert birth_day is not None
            birthday_on = birthday.occurs(birth_month, birth_day, ctx)
            if birthday_on is None:
                continue
            age = birthday_on.year - born if born is not None else None
            if age is not None and age <= 0:
                continue  # not born yet, or the day of birth itself
            milestone = age in MILESTONE_AGES
            yield Occasion(
                customer_id=customer_id,
                occasion_key=occasion_key(self.name, customer_id, birthday_on.year),
                due_on=birthday.due_on(birthday_on),
                window_end=birthday_on,
                priority=s.milestone_priority if milestone else s.priority,
                context={"birthday": birthday_on.isoformat(), "age": age, "milestone": milestone},
            )

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        row = ctx.rows(
            select(Customer.birth_month, Customer.birth_day, Customer.birth_year).where(
                Customer.id == customer_id
            )
        ).one_or_none()
        if row is None or row.birth_month is None or row.birth_day is None:
            return Absence("missing_data", "no birthday known")
        birthday = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        on = birthday.next_after(row.birth_month, row.birth_day, ctx)
        due = birthday.due_on(on)
        return Absence(
            "not_yet",
            f"birthday on {on}; the card is due {due} ({s.lead_days} days before), after "
            f"the plan's last day {ctx.last_due}",
            {"birthday": on, "due_on": due, "last_due": ctx.last_due},
        )
