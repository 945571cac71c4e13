"""``family_birthday``: for the customers who matter most, a card for a family member's
birthday. Off by default; call sheets show upcoming family birthdays either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select

from rapport.config import RuleSettings
from rapport.models.enums import Relation
from rapport.models.tables import Customer, FamilyMember
from rapport.rules.base import (
    Absence,
    AlreadyPlanned,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    planned,
)
from rapport.rules.check_in_call import top_customers, top_customers_words
from rapport.rules.triggers import YearlyDate, occasion_key, occasion_key_sql


class FamilyBirthdayContext(RuleContext):
    """Who has the birthday (a pet too), on which day, and the age turned if known."""

    member: str
    relation: str
    pet: bool = False
    birthday: dt.date
    turns: int | None = None


class FamilyBirthdaySettings(RuleSettings):
    enabled: bool = False
    priority: Annotated[int, Field(ge=0, le=1000)] = 35
    lead_days: Annotated[int, Field(ge=0, le=60)] = 7
    feb29: Literal["feb28", "mar1"] = "feb28"


class FamilyBirthday(Rule):
    """``lead_days`` before the birthday of a family member (pets included) of a customer
    in the top segment (the check-in call's ``top_share`` and ``tag``)."""

    name = "family_birthday"
    marks_planned = True
    label = "Family birthday"
    context_model = FamilyBirthdayContext

    @classmethod
    def reason(cls, context: FamilyBirthdayContext) -> str:
        return f"{cls.title()}: {context.member} ({context.relation}) on {context.birthday}"

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "member": "Eero",
            "relation": "child" if full else "pet",
            "pet": not full,
            "birthday": dt.date(2026, 12, 5),
            "turns": 11 if full else None,
        }

    settings_model = FamilyBirthdaySettings
    settings: FamilyBirthdaySettings

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        s = self.settings
        members = ctx.rows(
            select(FamilyMember.name, FamilyMember.birth_month, FamilyMember.birth_day).where(
                FamilyMember.customer_id == customer_id,
                FamilyMember.birth_month.is_not(None),
                FamilyMember.birth_day.is_not(None),
            )
        ).all()
        if not members:
            return Absence("missing_data", "no family member's birthday known")
        member_of = top_customers(ctx, among=ctx.shard)
        if not ctx.rows(select(member_of).where(Customer.id == customer_id)).scalar():
            return Absence(
                "not_in_segment",
                f"not in the top segment ({top_customers_words(ctx)}): family birthdays are "
                "remembered for it alone",
            )
        birthday = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        coming = sorted(
            (birthday.next_after(month, day, ctx), name)
            for name, month, day in members
            if month is not None and day is not None
        )
        on, name = coming[0]
        return Absence(
            "not_yet",
            f"{name}'s birthday on {on}; the card is due {birthday.due_on(on)}, after the "
            f"plan's last day {ctx.last_due}",
            {"birthday": on, "due_on": birthday.due_on(on)},
        )

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        s = self.settings
        birthday = YearlyDate(offset_days=-s.lead_days, feb29=s.feb29)
        month, day_of = FamilyMember.birth_month, FamilyMember.birth_day
        key = occasion_key_sql(self.name, FamilyMember.id, birthday.year_sql(month, day_of, ctx))
        stmt = (
            select(FamilyMember, planned(key))
            .join(Customer, Customer.id == FamilyMember.customer_id)
            .where(
                month.is_not(None),
                day_of.is_not(None),
                birthday.where(month, day_of, ctx),
                top_customers(ctx, among=ctx.shard),
                ctx.in_shard(FamilyMember.customer_id),
            )
        )
        for member, done in ctx.session.execute(stmt):
            assert member.birth_month is not None
            assert member.birth_day is not None
            day = birthday.occurs(member.birth_month, member.birth_day, ctx)
            turns = day.year - member.birth_year if day and member.birth_year else None
            if day is None or (turns is not None and turns <= 0):
                continue
            if done:
                yield AlreadyPlanned(member.customer_id)
                continue
            yield Occasion(
                customer_id=member.customer_id,
                occasion_key=occasion_key(self.name, member.id, day.year),
                due_on=birthday.due_on(day),
                window_end=day,
                priority=s.priority,
                context={
                    "member": member.name,
                    "relation": member.relation.value,
                    "pet": member.relation is Relation.PET,
                    "birthday": day.isoformat(),
                    "turns": turns,
                },
            )
