"""``family_birthday``: for the customers who matter most, a card for a family member's
birthday. Off by default; call sheets show upcoming family birthdays either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import select, tuple_

from rapport.config import FamilyBirthdaySettings
from rapport.dates import latest_yearly_on_or_before, month_days_between
from rapport.models.enums import Relation
from rapport.models.tables import Customer, FamilyMember
from rapport.rules.base import Occasion, PlanContext, Rule
from rapport.rules.segments import top_segment


class FamilyBirthday(Rule):
    """``lead_days`` before the birthday of a family member (pets included) of a customer
    in the top segment (the check-in call's ``top_share`` and ``tag``)."""

    name = "family_birthday"
    settings_model = FamilyBirthdaySettings
    settings: FamilyBirthdaySettings

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        s = self.settings
        lead = dt.timedelta(days=s.lead_days)
        first, last = ctx.first_due + lead, ctx.last_due + lead
        pairs = sorted(month_days_between(first, last, s.feb29))
        segment = ctx.settings.rules.check_in_call
        stmt = (
            select(FamilyMember)
            .join(Customer, Customer.id == FamilyMember.customer_id)
            .where(
                FamilyMember.birth_month.is_not(None),
                FamilyMember.birth_day.is_not(None),
                top_segment(
                    ctx.session,
                    segment.top_share,
                    segment.tag,
                    thresholds=ctx.spend_thresholds,
                    spend=ctx.history.spend_365d,
                ),
            )
        )
        if len(pairs) < 366:
            stmt = stmt.where(tuple_(FamilyMember.birth_month, FamilyMember.birth_day).in_(pairs))
        for member in ctx.session.scalars(stmt):
            assert member.birth_month is not None
            assert member.birth_day is not None
            day = latest_yearly_on_or_before(member.birth_month, member.birth_day, last, s.feb29)
            turns = day.year - member.birth_year if member.birth_year else None
            if day < first or (turns is not None and turns <= 0):
                continue
            yield Occasion(
                customer_id=member.customer_id,
                occasion_key=f"{self.name}:{member.id}:{day.year}",
                due_on=day - lead,
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
