"""Service metrics over a date range: what was planned, done, on time, late and missed,
per rule; coverage of the top customers; complaint handling (first-contact resolution,
time to resolution); promises kept on time; survey scores; and why things were skipped.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from rapport.models.enums import (
    OPEN_TASK_STATUSES,
    CaseStatus,
    CustomerStatus,
    PromiseStatus,
    TaskStatus,
)
from rapport.models.tables import (
    Case,
    Customer,
    OutreachTask,
    PlannerRun,
    Promise,
    SurveyAnswer,
)
from rapport.rules.segments import top_segment


class RuleMetrics(BaseModel):
    """One rule's tasks due in the range, by what became of them."""

    model_config = ConfigDict(frozen=True)

    tasks: int = 0
    planned: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    expired: int = 0
    skipped: int = 0
    cancelled: int = 0
    on_time_rate: float | None = None


class ServiceMetrics(BaseModel):
    """How well the business keeps in touch and keeps its word."""

    model_config = ConfigDict(frozen=True)

    top_segment: int = 0
    top_segment_contacted_90d: int = 0
    coverage: float | None = None
    cases_opened: int = 0
    cases_resolved: int = 0
    first_contact_resolution_rate: float | None = None
    median_days_to_resolution: float | None = None
    promises_due: int = 0
    promises_kept_on_time: int = 0
    promises_kept_on_time_rate: float | None = None
    survey_answers: int = 0
    average_survey_score: float | None = None
    skipped_by_reason: dict[str, int] = {}
    not_planned_by_reason: dict[str, int] = {}


class OutreachReport(BaseModel):
    """Tasks due from ``start`` to ``end`` (inclusive), per rule and in total, and the
    service metrics of the same days."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    rules: dict[str, RuleMetrics]
    total: RuleMetrics
    service: ServiceMetrics = ServiceMetrics()


def outreach_report(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    top_share: float = 0.2,
    tag: str | None = "vip",
) -> OutreachReport:
    """Counts per rule in one grouped query, and the service metrics."""

    def count(*statuses: TaskStatus) -> Any:
        return func.sum(case((OutreachTask.status.in_(statuses), 1), else_=0))

    rows = session.execute(
        select(
            OutreachTask.rule,
            func.count(),
            count(*OPEN_TASK_STATUSES),
            count(TaskStatus.DONE),
            func.sum(case((OutreachTask.late.is_(True), 1), else_=0)),
            count(TaskStatus.MISSED),
            count(TaskStatus.EXPIRED),
            count(TaskStatus.SKIPPED),
            count(TaskStatus.CANCELLED),
            func.sum(
                case(
                    (
                        (OutreachTask.status == TaskStatus.DONE) & (OutreachTask.late.is_(False)),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .where(OutreachTask.due_on >= start, OutreachTask.due_on <= end)
        .group_by(OutreachTask.rule)
        .order_by(OutreachTask.rule)
    )
    rules: dict[str, RuleMetrics] = {}
    totals = [0] * 9
    for rule, *values in rows:
        numbers = [int(v or 0) for v in values]
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        rules[rule] = _metrics(numbers)
    return OutreachReport(
        start=start,
        end=end,
        rules=rules,
        total=_metrics(totals),
        service=service_metrics(session, start, end, top_share=top_share, tag=tag),
    )


def service_metrics(
    session: Session, start: dt.date, end: dt.date, *, top_share: float, tag: str | None
) -> ServiceMetrics:
    """Coverage of the top segment, complaint handling, promises, surveys, skips."""
    first = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    recent = after - dt.timedelta(days=90)

    segment = top_segment(session, top_share, tag)
    members, contacted = session.execute(
        select(
            func.count(),
            func.sum(case((Customer.last_contact_at >= recent, 1), else_=0)),
        ).where(segment, Customer.status == CustomerStatus.ACTIVE)
    ).one()

    opened = session.scalar(
        select(func.count()).where(Case.opened_at >= first, Case.opened_at < after)
    )
    resolved_rows = session.execute(
        select(Case.opened_at, Case.resolved_at, Case.resolved_on_first_contact).where(
            Case.status == CaseStatus.RESOLVED, Case.resolved_at >= first, Case.resolved_at < after
        )
    ).all()
    flagged = [
        r.resolved_on_first_contact
        for r in resolved_rows
        if r.resolved_on_first_contact is not None
    ]
    durations = [
        (r.resolved_at - r.opened_at).total_seconds() / 86400
        for r in resolved_rows
        if r.resolved_at is not None
    ]

    promises = session.execute(
        select(Promise.status, Promise.due_at, Promise.closed_at).where(
            Promise.due_at >= first,
            Promise.due_at < after,
            Promise.status != PromiseStatus.RENEGOTIATED,
        )
    ).all()
    kept = sum(
        1
        for p in promises
        if p.status is PromiseStatus.KEPT and p.closed_at is not None and p.closed_at <= p.due_at
    )

    answers = session.execute(
        select(func.count(), func.avg(SurveyAnswer.score)).where(
            SurveyAnswer.answered_at >= first, SurveyAnswer.answered_at < after
        )
    ).one()

    skipped = {
        reason or "no reason": int(n)
        for reason, n in session.execute(
            select(OutreachTask.reason, func.count())
            .where(
                OutreachTask.status == TaskStatus.SKIPPED,
                OutreachTask.due_on >= start,
                OutreachTask.due_on <= end,
            )
            .group_by(OutreachTask.reason)
        )
    }
    not_planned: dict[str, int] = {}
    for (report,) in session.execute(
        select(PlannerRun.report).where(PlannerRun.as_of >= start, PlannerRun.as_of <= end)
    ):
        for rule in (report or {}).get("rules", {}).values():
            for reason, n in rule.get("skipped", {}).items():
                not_planned[reason] = not_planned.get(reason, 0) + int(n)

    return ServiceMetrics(
        top_segment=int(members or 0),
        top_segment_contacted_90d=int(contacted or 0),
        coverage=round(int(contacted or 0) / members, 4) if members else None,
        cases_opened=int(opened or 0),
        cases_resolved=len(resolved_rows),
        first_contact_resolution_rate=round(sum(flagged) / len(flagged), 4) if flagged else None,
        median_days_to_resolution=round(statistics.median(durations), 2) if durations else None,
        promises_due=len(promises),
        promises_kept_on_time=kept,
        promises_kept_on_time_rate=round(kept / len(promises), 4) if promises else None,
        survey_answers=int(answers[0] or 0),
        average_survey_score=round(float(answers[1]), 2) if answers[1] is not None else None,
        skipped_by_reason=dict(sorted(skipped.items())),
        not_planned_by_reason=dict(sorted(not_planned.items())),
    )


def _metrics(numbers: list[int]) -> RuleMetrics:
    tasks, planned, done, late, missed, expired, skipped, cancelled, on_time = numbers
    finished = done + missed + expired
    return RuleMetrics(
        tasks=tasks,
        planned=planned,
        done=done,
        late=late,
        missed=missed,
        expired=expired,
        skipped=skipped,
        cancelled=cancelled,
        on_time_rate=round(on_time / finished, 4) if finished else None,
    )
