"""Rules written in ``rapport.toml`` (``[[custom_rules]]``), without Python.

A trigger (a date field with an offset, an RFC 5545 calendar rule, a purchase or
interaction event, or inactivity), a condition over customer fields, tags, interests and
rollups that compiles to SQL — never ``eval`` — and an action (kind, channels, template,
priority). Everything is validated when the settings are loaded; see docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, or_, select, true
from sqlalchemy.orm import Session

from rapport.config import CustomCondition, CustomRuleSpec
from rapport.models.enums import Channel, TaskKind
from rapport.models.tables import (
    Customer,
    CustomerTag,
    Interaction,
    Interest,
    Purchase,
)
from rapport.rules.anniversary import Anniversary
from rapport.rules.base import (
    DEFAULT_KINDS,
    SAMPLE_DAY,
    AlreadyPlanned,
    Occasion,
    OccasionContext,
    PlanContext,
    Rule,
    planned,
)
from rapport.rules.birthday_card import BirthdayCard
from rapport.rules.check_in_call import top_customers
from rapport.rules.triggers import (
    Calendar,
    Event,
    Inactivity,
    YearlyDate,
    completed_purchases,
    occasion_key,
    occasion_key_sql,
)
from rapport.store.tasks import cancel_superseded


def condition_sql(condition: CustomCondition, ctx: PlanContext) -> ColumnElement[bool]:
    """The condition as one SQL boolean over ``Customer``."""
    parts: list[ColumnElement[bool]] = [true()]
    if condition.tags_any:
        parts.append(
            select(CustomerTag.customer_id)
            .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(condition.tags_any))
            .exists()
        )
    if condition.interests_any:
        keys = [topic.strip().casefold() for topic in condition.interests_any]
        parts.append(
            select(Interest.id)
            .where(Interest.customer_id == Customer.id, Interest.topic_key.in_(keys))
            .exists()
        )
    if condition.languages:
        parts.append(
            or_(
                *(
                    or_(Customer.language == tag, Customer.language.startswith(f"{tag}-"))
                    for tag in condition.languages
                )
            )
        )
    if condition.countries:
        parts.append(Customer.country.in_([c.upper() for c in condition.countries]))
    if condition.owners:
        parts.append(Customer.owner.in_(condition.owners))
    if condition.top_segment:
        parts.append(top_customers(ctx))
    if condition.min_spend_365d is not None:
        parts.append(ctx.history.spend_365d >= condition.min_spend_365d)
    if condition.min_lifetime_value is not None:
        parts.append(ctx.history.lifetime_value >= condition.min_lifetime_value)
    if condition.min_purchase_count is not None:
        parts.append(ctx.history.purchase_count >= condition.min_purchase_count)
    return and_(*parts)


class CustomRuleContext(OccasionContext):
    """What a ``[[custom_rules]]`` occasion carries, by trigger: the date and years (date
    fields, calendar rules), the event's day and text, or the day the quiet began; and
    the template folder when the rule names one."""

    date_on: dt.date | None = None
    years: int | None = None
    event_on: dt.date | None = None
    about: str | None = None
    quiet_since_on: dt.date | None = None
    template: str | None = None


class DeclarativeRule(Rule):
    """A rule built from a ``[[custom_rules]]`` entry."""

    spec: ClassVar[CustomRuleSpec]
    context_model = CustomRuleContext
    marks_planned = True

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {"date_on": SAMPLE_DAY, "years": 3 if full else None, "template": cls.name}

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        trigger = self.spec.trigger
        if trigger.date_field is not None:
            yield from self._date_field(ctx)
        elif trigger.rrule is not None:
            yield from self._calendar(ctx)
        elif trigger.event is not None:
            yield from self._events(ctx)
        else:
            yield from self._inactivity(ctx)

    def _occasion(
        self,
        customer_id: int,
        key: str,
        due_on: dt.date,
        context: dict[str, Any],
        anchor_at: dt.datetime | None = None,
    ) -> Occasion:
        action = self.spec.action
        template = action.template or self.name
        return Occasion(
            customer_id=customer_id,
            occasion_key=occasion_key(self.name, customer_id, key),
            due_on=due_on,
            window_end=due_on + dt.timedelta(days=action.window_days),
            priority=action.priority,
            context={**context, "template": template},
            anchor_at=anchor_at,
        )

    def _date_field(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        trigger = self.spec.trigger
        month: Any
        day: Any
        year: Any
        if trigger.date_field == "birthday":
            month, day, year = Customer.birth_month, Customer.birth_day, Customer.birth_year
            feb29 = trigger.feb29 or BirthdayCard.configured(ctx.settings).settings.feb29
        else:
            month, day = Customer.since_month, Customer.since_day  # generated, indexed
            year = func.extract("year", Customer.customer_since)
            feb29 = trigger.feb29 or Anniversary.configured(ctx.settings).settings.feb29
        yearly = YearlyDate(offset_days=trigger.offset_days, feb29=feb29)
        key = occasion_key_sql(self.name, Customer.id, yearly.year_sql(month, day, ctx))
        stmt = select(Customer.id, month, day, year, planned(key)).where(
            month.is_not(None),
            yearly.where(month, day, ctx),
            condition_sql(self.spec.condition, ctx),
        )
        for customer_id, m, d, y, done in ctx.rows(stmt):
            occurs = yearly.occurs(int(m), int(d), ctx)
            if occurs is None or (y is not None and occurs.year <= int(y)):
                continue
            if done:
                yield AlreadyPlanned(customer_id)
                continue
            yield self._occasion(
                customer_id,
                str(occurs.year),
                yearly.due_on(occurs),
                {"date_on": occurs.isoformat(), "years": occurs.year - int(y) if y else None},
            )

    def _calendar(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        trigger = self.spec.trigger
        calendar = Calendar(str(trigger.rrule), trigger.offset_days)
        occurs = calendar.latest(ctx)
        if occurs is None:
            return
        key = occasion_key_sql(self.name, Customer.id, occurs.isoformat())
        customers = ctx.rows(
            select(Customer.id, planned(key)).where(condition_sql(self.spec.condition, ctx))
        )
        for customer_id, done in customers:
            if done:
                yield AlreadyPlanned(customer_id)
                continue
            yield self._occasion(
                customer_id,
                occurs.isoformat(),
                calendar.due_on(occurs),
                {"date_on": occurs.isoformat()},
            )

    def _events(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        trigger = self.spec.trigger
        event = Event(trigger.offset_days)
        model: Any = Purchase if trigger.event == "purchase" else Interaction
        conditions: list[Any] = [event.where(model.occurred_at, ctx)]
        if trigger.event == "purchase":
            conditions += completed_purchases(
                ctx, category=trigger.category, min_amount=trigger.min_amount
            )
            label = Purchase.description
        else:
            if trigger.interaction_kind is not None:
                conditions.append(Interaction.kind == trigger.interaction_kind)
            label = Interaction.summary
        which = literal(f"{trigger.event}-") + cast(model.id, String)
        key = occasion_key_sql(self.name, model.customer_id, which)
        rows = ctx.rows(
            select(model.id, model.customer_id, model.occurred_at, label, planned(key))
            .join(Customer, Customer.id == model.customer_id)
            .where(*conditions, condition_sql(self.spec.condition, ctx))
        )
        for event_id, customer_id, occurred_at, text, done in rows:
            if done:
                yield AlreadyPlanned(customer_id)
                continue
            happened = event.happened_on(occurred_at, ctx)
            yield self._occasion(
                customer_id,
                f"{trigger.event}-{event_id}",
                event.due_on(happened),
                {"event_on": happened.isoformat(), "about": text},
            )

    def _inactivity(self, ctx: PlanContext) -> Iterator[Occasion | AlreadyPlanned]:
        days = int(self.spec.trigger.inactive_days or 0)
        quiet = Inactivity(self.name)
        rows = ctx.rows(
            select(Customer.id, quiet.anchor(ctx), quiet.planned(ctx)).where(
                quiet.where(ctx, days), condition_sql(self.spec.condition, ctx)
            )
        )
        for customer_id, anchored, is_done in rows:
            if is_done:
                yield AlreadyPlanned(customer_id)
                continue
            since = ctx.local_date(anchored)
            due_on = quiet.quiet_until(since, days)
            if due_on < ctx.first_due:
                due_on = ctx.as_of  # quiet for longer than the catch-up period: now
            yield self._occasion(
                customer_id,
                since.isoformat(),
                due_on,
                {"quiet_since_on": since.isoformat()},
                anchor_at=anchored,
            )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """For inactivity rules: any newer contact cancels the planned task."""
        if self.spec.trigger.inactive_days is None:
            return 0
        return cancel_superseded(
            session,
            self.name,
            Customer.last_contact_at,
            reason="contact_reset",
            now=now,
            customer_ids=customer_ids,
        )


def declarative_rule(spec: CustomRuleSpec) -> type[Rule]:
    """A rule class for one ``[[custom_rules]]`` entry."""
    mail_kind = TaskKind(spec.action.kind)
    kinds: Mapping[Channel, TaskKind] = {**DEFAULT_KINDS, Channel.MAIL: mail_kind}
    return type(
        f"Custom_{spec.name}",
        (DeclarativeRule,),
        {
            "name": spec.name,
            "spec": spec,
            "kinds": kinds,
            "__doc__": f"[[custom_rules]] {spec.name}",
        },
    )
