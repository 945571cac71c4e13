"""Complaints: acknowledge at once, keep in touch until resolved, ask afterwards.

"Listen, apologise, fix it, and keep in touch until it is fixed." The case's owner (else
the customer's owner) acknowledges a new case the day it opens, follows up every
``every_days`` while it stays open, and a survey goes out ``delay_days`` after it is
resolved. These are service tasks: contact caps never hold them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Annotated, Any, ClassVar

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import RuleSettings
from rapport.models.enums import CaseStatus, Channel
from rapport.models.tables import Case, OutreachTask
from rapport.rules.base import (
    Absence,
    Occasion,
    PlanContext,
    Rule,
    RuleContext,
    none_to_act_on,
)
from rapport.rules.triggers import Event, occasion_key
from rapport.store.tasks import cancel_open_tasks


class CaseContext(RuleContext):
    """The complaint: what, how serious, when it opened (and was resolved), and which
    follow-up round this is."""

    case_id: int
    summary: str
    severity: str
    opened_on: dt.date
    resolved_on: dt.date | None = None
    round: int | None = None


class _CaseRule(Rule):
    """What the three complaint rules share: their context, reason and sample."""

    context_model = CaseContext

    @classmethod
    def reason(cls, context: CaseContext) -> str:
        return f"{cls.title()}: {context.summary} (opened {context.opened_on})"

    #: The complaints the rule acts on (open ones; the survey's are resolved).
    acts_on: ClassVar[tuple[CaseStatus, ...]] = (CaseStatus.OPEN,)

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        return none_to_act_on(
            ctx, Case, customer_id, self.acts_on, code="no_case", noun="complaint", records="cases"
        )

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        return {
            "case_id": 3,
            "summary": "The espresso machine leaks water",
            "severity": "high",
            "opened_on": dt.date(2026, 11, 18),
            "resolved_on": dt.date(2026, 11, 21) if cls.name == "case_survey" else None,
            "round": 2,
        }


def _case_context(case: Case, ctx: PlanContext) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "summary": case.summary,
        "severity": case.severity.value,
        "opened_on": ctx.local_date(case.opened_at).isoformat(),
        "resolved_on": ctx.local_date(case.resolved_at).isoformat() if case.resolved_at else None,
    }


def _cancel_for_resolved_cases(
    session: Session, rule: str, now: dt.datetime, customer_ids: Collection[int] | None
) -> int:
    """Cancel ``rule``'s open tasks whose case has been resolved."""
    still_open = set(session.scalars(select(Case.id).where(Case.status == CaseStatus.OPEN)))

    def moot(task: OutreachTask) -> str | None:
        case_id = int((task.context or {}).get("case_id", 0))
        return None if case_id in still_open else "case resolved"

    return cancel_open_tasks(session, rule, now, customer_ids, moot)


class CaseAcknowledgeSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE, Channel.EMAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 95
    window_days: Annotated[int, Field(ge=0, le=30)] = 2


class CaseAcknowledge(_CaseRule):
    """Get in touch the day a complaint is opened: we heard you, and we are on it."""

    name = "case_acknowledge"
    label = "New complaint: acknowledge"
    settings_model = CaseAcknowledgeSettings
    settings: CaseAcknowledgeSettings
    service = True

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        opened = Event(0)
        cases = ctx.session.scalars(
            select(Case).where(Case.status == CaseStatus.OPEN, opened.where(Case.opened_at, ctx))
        )
        for case in cases:
            opened_on = opened.happened_on(case.opened_at, ctx)
            yield Occasion(
                customer_id=case.customer_id,
                occasion_key=occasion_key(self.name, case.id),
                due_on=opened_on,
                window_end=opened_on + dt.timedelta(days=self.settings.window_days),
                priority=self.settings.priority,
                context=_case_context(case, ctx),
                assigned_to=case.owner,
            )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        return _cancel_for_resolved_cases(session, self.name, now, customer_ids)


class CaseFollowUpSettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.PHONE, Channel.EMAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 85
    every_days: Annotated[int, Field(ge=1, le=90)] = 3


class CaseFollowUp(_CaseRule):
    """Keep in touch every ``every_days`` while a complaint stays open."""

    name = "case_follow_up"
    label = "Open complaint: follow up"
    settings_model = CaseFollowUpSettings
    settings: CaseFollowUpSettings
    service = True

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        every = self.settings.every_days
        cases = ctx.session.scalars(
            select(Case).where(
                Case.status == CaseStatus.OPEN,
                Case.opened_at < ctx.day_start(ctx.last_due - dt.timedelta(days=every - 1)),
                ctx.history.before(Case.opened_at),
            )
        )
        for case in cases:
            opened_on = ctx.local_date(case.opened_at)
            # The latest round due by the horizon: an outage never sends several at once.
            round_number = (ctx.last_due - opened_on).days // every
            due_on = opened_on + dt.timedelta(days=round_number * every)
            if round_number < 1 or due_on < ctx.first_due:
                continue
            yield Occasion(
                customer_id=case.customer_id,
                occasion_key=occasion_key(self.name, case.id, round_number),
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=every - 1),
                priority=self.settings.priority,
                context={**_case_context(case, ctx), "round": round_number},
                assigned_to=case.owner,
            )

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        return _cancel_for_resolved_cases(session, self.name, now, customer_ids)


class CaseSurveySettings(RuleSettings):
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.EMAIL, Channel.SMS]
    priority: Annotated[int, Field(ge=0, le=1000)] = 30
    delay_days: Annotated[int, Field(ge=0, le=60)] = 2
    window_days: Annotated[int, Field(ge=0, le=60)] = 14


class CaseSurvey(_CaseRule):
    """Ask how we did, ``delay_days`` after a complaint was resolved."""

    name = "case_survey"
    label = "Complaint resolved: survey"
    settings_model = CaseSurveySettings
    settings: CaseSurveySettings
    service = True
    acts_on = (CaseStatus.RESOLVED,)

    def occasions(self, ctx: PlanContext) -> Iterator[Occasion]:
        resolved = Event(self.settings.delay_days)
        cases = ctx.session.scalars(
            select(Case).where(
                Case.status == CaseStatus.RESOLVED, resolved.where(Case.resolved_at, ctx)
            )
        )
        for case in cases:
            assert case.resolved_at is not None
            due_on = resolved.due_on(resolved.happened_on(case.resolved_at, ctx))
            yield Occasion(
                customer_id=case.customer_id,
                occasion_key=occasion_key(self.name, case.id),
                due_on=due_on,
                window_end=due_on + dt.timedelta(days=self.settings.window_days),
                priority=self.settings.priority,
                context=_case_context(case, ctx),
                assigned_to=case.owner,
            )
