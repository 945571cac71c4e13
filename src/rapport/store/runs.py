"""The planner's runs: the one owner of ``rapport_planner_run``.

Each real (not dry) plan leaves its report here, so metrics can say later what the
planner decided not to plan and why, even for occasions that never became a task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rapport.models.tables import PlannerRun


def record_run(
    session: Session, as_of: dt.date, horizon_days: int, now: dt.datetime, report: Mapping[str, Any]
) -> None:
    """Keep one plan's report (its JSON form) for the day it planned."""
    session.execute(
        insert(PlannerRun).values(
            as_of=as_of,
            horizon_days=horizon_days,
            started_at=now,
            finished_at=now,
            report=dict(report),
        )
    )


def run_reports(session: Session, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
    """The reports of the plans for the days from ``start`` to ``end``, both included."""
    for (report,) in session.execute(
        select(PlannerRun.report).where(PlannerRun.as_of >= start, PlannerRun.as_of <= end)
    ):
        yield report or {}
