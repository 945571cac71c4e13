"""The staff's load and backlog as the database holds them: the one owner of the
``rapport_waiting`` table's SQL, and the staff view ``rapport staff`` shows.

The tasks' load comes from the named queries in :mod:`rapport.store.tasks`; the
decisions (who, which day, what waits) are pure logic in :mod:`rapport.capacity`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from rapport.capacity import Roster
from rapport.models.enums import TaskKind
from rapport.models.tables import WaitingOccasion
from rapport.store import chunked, insert_values
from rapport.store.tasks import read_load, unassigned_load

ShardCondition = Callable[[Any], ColumnElement[bool]]


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
        columns = (*Waiting._fields, "since", "seen_on")
        insert_values(self.session, WaitingOccasion, columns, rewrite)

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
    others = unassigned_load(session, roster.people, start, last)
    backlog = Backlog(session)
    return StaffLoad(
        start=start,
        days=days,
        staff=people,
        unassigned=dict(sorted(others.items())),
        waiting=backlog.counts(),
        waiting_since=backlog.since(),
    )
