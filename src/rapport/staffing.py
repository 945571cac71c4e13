"""The staff view ``rapport staff`` shows: each person's load and the backlog.

The tasks' load comes from the named queries in :mod:`rapport.store.tasks` and the
backlog from :mod:`rapport.store.waiting`; the decisions (who, which day, what waits)
are pure logic in :mod:`rapport.capacity`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from rapport.capacity import Roster
from rapport.store.tasks import read_load, unassigned_load
from rapport.store.waiting import Backlog


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
