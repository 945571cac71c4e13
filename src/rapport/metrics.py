"""Service metrics over a date range: what was planned, done, on time, late and missed,
per rule; coverage of the top customers; complaint handling (first-contact resolution,
time to resolution); promises kept on time; survey scores; why things were skipped; and,
with ``[[staff]]``, each person's load against their capacity and the backlog waiting.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from rapport.capacity import Roster
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
    Promise,
    SurveyAnswer,
)
from rapport.rules.segments import top_segment
from rapport.store.runs import run_reports
from rapport.store.tasks import read_load
from rapport.store.waiting import Backlog


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


class PersonMetrics(BaseModel):
    """One staff member's tasks due over the report's days against what their working
    days could hold, so a manager sees who is stretched and who has room."""

    model_config = ConfigDict(frozen=True)

    name: str
    working_days: int
    #: Tasks due per kind, to do or done (as the planner counts a day's load).
    due: dict[str, int]
    #: ``per_day`` summed over their working days, for the kinds they have a limit for.
    capacity: dict[str, int]
    #: Days on which some kind was due past capacity (service tasks may go past it).
    days_over: int


class StaffMetrics(BaseModel):
    """The staff's load over the report's days, and the backlog waiting now."""

    model_config = ConfigDict(frozen=True)

    people: list[PersonMetrics]
    #: Occasions waiting for room today, per rule (not limited to the report's days).
    waiting: dict[str, int]
    #: The day the longest-waiting of them first waited (None: nothing waits).
    waiting_since: dt.date | None = None


class OutreachReport(BaseModel):
    """Tasks due from ``start`` to ``end`` (inclusive), per rule and in total, and the
    service metrics of the same days; with staff configured, their load and backlog."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    rules: dict[str, RuleMetrics]
    total: RuleMetrics
    service: ServiceMetrics = ServiceMetrics()
    staff: StaffMetrics | None = None


def outreach_report(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    top_share: float = 0.2,
    tag: str | None = "vip",
    roster: Roster | None = None,
) -> OutreachReport:
    """Counts per rule in one grouped query, and the service metrics; with a ``roster``
    that has people in it, their load and the backlog too."""

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
        staff=staff_metrics(session, roster, start, end) if roster else None,
    )


def staff_metrics(session: Session, roster: Roster, start: dt.date, end: dt.date) -> StaffMetrics:
    """Per person, the tasks due from ``start`` to ``end`` against the capacity of their
    working days in that range; and what waits for room now."""
    by_day: dict[str, dict[dt.date, Counter[str]]] = {name: {} for name in roster.people}
    for (name, kind, day), count in read_load(session, roster.people, start, end).items():
        by_day[name].setdefault(day, Counter())[kind] += count
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    people = []
    for name, person in roster.people.items():
        working = {day for day in days if roster.works_on(name, day)}
        due: Counter[str] = Counter()
        days_over = 0
        for day, kinds in by_day[name].items():
            due.update(kinds)
            # A day off holds nothing: whatever fell due on it went past capacity.
            room = person.limits if day in working else dict.fromkeys(person.limits, 0)
            days_over += any(count > room.get(kind, count) for kind, count in kinds.items())
        people.append(
            PersonMetrics(
                name=name,
                working_days=len(working),
                due=dict(sorted(due.items())),
                capacity={kind: limit * len(working) for kind, limit in person.limits.items()},
                days_over=days_over,
            )
        )
    backlog = Backlog(session)
    return StaffMetrics(people=people, waiting=backlog.counts(), waiting_since=backlog.since())


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
    for report in run_reports(session, start, end):
        for rule in report.get("rules", {}).values():
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
