"""The staff's load and backlog as the database holds them: the one owner of the
``rapport_waiting`` table's SQL, and the reads the planner and ``rapport staff`` share.

The decisions (who, which day, what waits) are pure logic in :mod:`rapport.capacity`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from rapport.bulk import RowWriter
from rapport.capacity import Roster
from rapport.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from rapport.models.tables import OutreachTask, WaitingOccasion
from rapport.store import chunked

#: Tasks that take a place in a person's day: still to do, or done already.
LOADED_STATUSES = (*OPEN_TASK_STATUSES, TaskStatus.DONE)

ShardCondition = Callable[[Any], ColumnElement[bool]]


def read_load(
    session: Session, names: Collection[str], first: dt.date, last: dt.date
) -> Counter[tuple[str, str, dt.date]]:
    """Tasks due per ``(person, kind, day)`` from ``first`` to ``last``, for ``names``.

    Done tasks count too: a morning's finished calls do not make room for more calls the
    same day.
    """
    stmt = (
        select(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on, func.count())
        .where(
            OutreachTask.assigned_to.in_(sorted(names)),
            OutreachTask.status.in_(LOADED_STATUSES),
            OutreachTask.due_on.between(first, last),
        )
        .group_by(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on)
    )
    return Counter(
        {
            (person or "", TaskKind(kind).value, due_on): count
            for person, kind, due_on, count in session.execute(stmt)
        }
    )


def sticky_people(
    session: Session, customer_ids: Iterable[int], names: Collection[str]
) -> dict[int, str]:
    """The person of each customer's latest task among ``names``, when there is one."""
    found: dict[int, str] = {}
    if not names:
        return found
    connection = session.connection()
    # The person is matched through an expression, not the column: an index on a few
    # staff names would read every task they ever had, once per batch of customers,
    # where the customers' own index reads only their few tasks.
    latest = (
        select(func.max(OutreachTask.id))
        .where(
            OutreachTask.customer_id.in_(bindparam("ids", expanding=True)),
            func.coalesce(OutreachTask.assigned_to, "").in_(sorted(names)),
        )
        .group_by(OutreachTask.customer_id)
    )
    stmt = select(OutreachTask.customer_id, OutreachTask.assigned_to).where(
        OutreachTask.id.in_(latest.scalar_subquery())
    )
    for batch in chunked(sorted(customer_ids)):
        for customer_id, person in connection.execute(stmt, {"ids": batch}):
            found[customer_id] = person or ""
    return found


class Waiting(NamedTuple):
    """One occasion waiting for room, as the planner found it today."""

    occasion_key: str
    customer_id: int
    rule: str
    kind: TaskKind
    channel: str | None
    due_on: dt.date
    window_end: dt.date
    priority: int
    assigned_to: str | None
    context: dict[str, Any]
    anchor_at: dt.datetime | None


class Backlog:
    """The occasions waiting for staff capacity (``rapport_waiting``)."""

    def __init__(self, session: Session, shard: ShardCondition | None = None) -> None:
        self.session = session
        self.shard = shard

    def _in_shard(self) -> list[ColumnElement[bool]]:
        return [] if self.shard is None else [self.shard(WaitingOccasion.customer_id)]

    def stored(self) -> dict[str, tuple[Waiting, dt.date]]:
        """What waited after the last run (of this shard) and since when, by key."""
        columns = [getattr(WaitingOccasion, name) for name in Waiting._fields]
        rows = self.session.connection().execute(
            select(*columns, WaitingOccasion.since).where(*self._in_shard())
        )
        return {row[0]: (Waiting(*row[:-1]), row[-1]) for row in rows}

    def replace(
        self,
        stored: Mapping[str, tuple[Waiting, dt.date]],
        waiting: Sequence[Waiting],
        as_of: dt.date,
    ) -> None:
        """Make the table hold exactly ``waiting`` for this shard. A row that waits
        again keeps the day it first waited; the rest of ``stored`` goes."""
        unchanged: list[str] = []
        rewrite: list[tuple[Any, ...]] = []
        for row in waiting:
            before = stored.get(row.occasion_key)
            if before is not None and before[0] == row:
                unchanged.append(row.occasion_key)
            else:
                rewrite.append((*row, as_of if before is None else before[1], as_of))
        kept = set(unchanged)
        for batch in chunked(sorted(key for key in stored if key not in kept)):
            self.session.execute(
                delete(WaitingOccasion)
                .where(WaitingOccasion.occasion_key.in_(batch))
                .execution_options(synchronize_session=False)
            )
        for batch in chunked(unchanged):
            self.session.execute(
                update(WaitingOccasion)
                .where(WaitingOccasion.occasion_key.in_(batch))
                .values(seen_on=as_of)
                .execution_options(synchronize_session=False)
            )
        if rewrite:
            RowWriter(self.session, WaitingOccasion, (*Waiting._fields, "since", "seen_on")).write(
                rewrite
            )

    def counts(self) -> dict[str, int]:
        """Occasions waiting per rule."""
        stmt = (
            select(WaitingOccasion.rule, func.count())
            .where(*self._in_shard())
            .group_by(WaitingOccasion.rule)
            .order_by(WaitingOccasion.rule)
        )
        return dict(self.session.execute(stmt).all())

    def since(self) -> dt.date | None:
        """The day the longest-waiting occasion first waited (None: nothing waits)."""
        return self.session.scalar(select(func.min(WaitingOccasion.since)).where(*self._in_shard()))


# ------------------------------------------------------------------------- the staff view


class DayLoad(BaseModel):
    """One person's tasks due on one day, per kind, against their capacity."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    working: bool
    due: dict[str, int]
    capacity: dict[str, int]

    @property
    def over(self) -> list[str]:
        """The kinds due past capacity (service tasks may exceed it)."""
        return [kind for kind, count in self.due.items() if count > self.capacity.get(kind, count)]


class PersonLoad(BaseModel):
    """One staff member over the days shown."""

    model_config = ConfigDict(frozen=True)

    name: str
    languages: list[str]
    days: list[DayLoad]


class StaffLoad(BaseModel):
    """Load against capacity per person and day, and the backlog waiting per rule."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    days: int
    staff: list[PersonLoad]
    #: Tasks due in the days shown assigned to nobody on staff, per kind.
    unassigned: dict[str, int]
    waiting: dict[str, int]
    #: The first day the oldest waiting occasion waited (None: nothing waits).
    waiting_since: dt.date | None = None


def staff_load(
    session: Session, roster: Roster, languages: dict[str, list[str]], start: dt.date, days: int
) -> StaffLoad:
    """What ``rapport staff`` shows: each person's days from ``start``, and the backlog."""
    last = start + dt.timedelta(days=days - 1)
    due_by_day: dict[tuple[str, dt.date], dict[str, int]] = defaultdict(dict)
    for (who, kind, on), count in sorted(read_load(session, roster.people, start, last).items()):
        due_by_day[who, on][kind] = count
    people = []
    for name in roster.people:
        person_days = []
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            working = roster.works_on(name, day)
            due = due_by_day.get((name, day), {})
            limits = roster.people[name].limits
            person_days.append(
                DayLoad(
                    day=day,
                    working=working,
                    due=due,
                    capacity={kind: (limit if working else 0) for kind, limit in limits.items()},
                )
            )
        people.append(PersonLoad(name=name, languages=languages[name], days=person_days))
    others: dict[str, int] = defaultdict(int)
    stmt = (
        select(OutreachTask.kind, func.count())
        .where(
            OutreachTask.status.in_(LOADED_STATUSES),
            OutreachTask.due_on.between(start, last),
            OutreachTask.assigned_to.is_(None)
            | OutreachTask.assigned_to.not_in(sorted(roster.people)),
        )
        .group_by(OutreachTask.kind)
    )
    for kind, count in session.execute(stmt):
        others[TaskKind(kind).value] += count
    backlog = Backlog(session)
    return StaffLoad(
        start=start,
        days=days,
        staff=people,
        unassigned=dict(sorted(others.items())),
        waiting=backlog.counts(),
        waiting_since=backlog.since(),
    )
