"""Outreach metrics over a date range: what was planned, done, late and missed, per rule.

A first version; the metrics issue adds coverage, timeliness and complaint handling.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from rapport.models.enums import TaskStatus
from rapport.models.tables import OutreachTask


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


class OutreachReport(BaseModel):
    """Tasks due from ``start`` to ``end`` (inclusive), per rule and in total."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    rules: dict[str, RuleMetrics]
    total: RuleMetrics


def outreach_report(session: Session, start: dt.date, end: dt.date) -> OutreachReport:
    """Counts per rule in one grouped query."""

    def count(*statuses: TaskStatus) -> Any:
        return func.sum(case((OutreachTask.status.in_(statuses), 1), else_=0))

    rows = session.execute(
        select(
            OutreachTask.rule,
            func.count(),
            count(TaskStatus.PLANNED, TaskStatus.SNOOZED),
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
    return OutreachReport(start=start, end=end, rules=rules, total=_metrics(totals))


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
