"""Staff capacity: who carries out a task, and which of their days it fits on.

Pure logic over plain values; the planner reads the staff's load from the database and
writes what this decides. The rules of the game (see docs/rules.md):

* A task goes to the customer's ``owner`` when that person is on staff; otherwise to
  the person who had the customer's earlier tasks (sticky) while they remain on staff;
  otherwise to the least loaded of the staff who speak the customer's language (anyone
  only when nobody on staff speaks it).
* On each of a person's working days at most ``per_day[kind]`` of their tasks of that
  kind fall due. Who gets the room first: priority, then value (trailing spend), then
  the earliest window end. What finds no room on the plan's days **waits**: it is not
  written, and the next run considers it again.
* Service tasks are placed first, on their own day, even past capacity (flagged).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from rapport.config import WEEKDAYS, StaffMember
from rapport.dates import WorkingDays

_DAY = dt.timedelta(days=1)


def primary_language(tag: str) -> str:
    """``"fi-FI"`` -> ``"fi"``: a person who speaks Finnish serves every Finnish variant."""
    return tag.split("-", 1)[0].split("_", 1)[0].lower()


class ContactBudget:
    """One customer's contact cap: at most ``max_touches`` tasks in any ``per_days`` days.

    ``taken`` are the days of the customer's tasks already counted against the cap.
    """

    __slots__ = ("_days", "_max", "_per")

    def __init__(self, taken: Iterable[dt.date], *, max_touches: int, per_days: int) -> None:
        self._days = Counter(taken)
        self._max = max_touches
        self._per = per_days

    def fits(self, day: dt.date) -> bool:
        """Whether one more task on ``day`` keeps every window within the cap."""
        days = self._days
        if days.total() < self._max:  # fewer tasks in all than a window may hold
            return True
        for start in range(self._per):
            first = day - dt.timedelta(days=start)
            count = sum(days[first + dt.timedelta(days=n)] for n in range(self._per))
            if count + 1 > self._max:
                return False
        return True

    def first_fit(self, earliest: dt.date, latest: dt.date) -> dt.date | None:
        """The first day from ``earliest`` to ``latest`` with room, or None."""
        day = earliest
        while day <= latest:
            if self.fits(day):
                return day
            day += _DAY
        return None

    def take(self, day: dt.date) -> None:
        """Count one more task on ``day``."""
        self._days[day] += 1


@dataclass(frozen=True, slots=True)
class Person:
    """One staff member as the planner sees them."""

    name: str
    languages: frozenset[str]
    limits: Mapping[str, int]
    weekdays: frozenset[int]
    off: frozenset[dt.date]


class Roster:
    """The staff: their working days, their limits and who speaks what."""

    def __init__(self, staff: Sequence[StaffMember], working_days: WorkingDays) -> None:
        self.people = {
            member.name: Person(
                name=member.name,
                languages=frozenset(primary_language(tag) for tag in member.languages),
                limits=dict(member.per_day),
                weekdays=frozenset(WEEKDAYS.index(day) for day in member.days),
                off=frozenset(member.off),
            )
            for member in staff
        }
        self._business_days = working_days
        self._works: dict[tuple[str, dt.date], bool] = {}  # asked per occasion and day
        self._speakers = lru_cache(maxsize=256)(self._find_speakers)

    def __bool__(self) -> bool:
        return bool(self.people)

    def __contains__(self, name: object) -> bool:
        return name in self.people

    def works_on(self, name: str, day: dt.date) -> bool:
        """A weekday they work, not one of their days off, not a public holiday."""
        known = self._works.get((name, day))
        if known is None:
            person = self.people[name]
            # Weekends are the person's call (``days``); holidays are the business's.
            known = self._works[name, day] = (
                day.weekday() in person.weekdays
                and day not in person.off
                and not self._business_days.is_holiday(day)
            )
        return known

    def limit(self, name: str, kind: str) -> int | None:
        """Their tasks of ``kind`` a working day may hold; None: unlimited."""
        return self.people[name].limits.get(kind)

    def speakers(self, language: str | None) -> tuple[str, ...]:
        """Who may take a customer who speaks ``language``: those who speak it, or
        everyone when nobody does (or the language is unknown)."""
        return self._speakers(primary_language(language) if language else None)

    def _find_speakers(self, language: str | None) -> tuple[str, ...]:
        found = tuple(
            sorted(name for name, person in self.people.items() if language in person.languages)
        )
        return found or tuple(sorted(self.people))


class Load:
    """Tasks per person, kind and day over the plan's days, and where there is room.

    ``counts`` are the tasks already due (open or done) per ``(person, kind, day)``.
    Room only ever shrinks while a plan places tasks, so full days are skipped with a
    "next day with room" pointer per person and kind (path-compressed, like a
    union-find), which keeps a long backlog's refusals cheap.
    """

    def __init__(
        self,
        roster: Roster,
        first: dt.date,
        last: dt.date,
        counts: Mapping[tuple[str, str, dt.date], int] | None = None,
    ) -> None:
        self.roster = roster
        self.first = first
        self.last = last
        self.counts: Counter[tuple[str, str, dt.date]] = Counter(counts or {})
        #: Tasks placed by this plan per person and kind (to balance unlimited kinds).
        self.placed: Counter[tuple[str, str]] = Counter()
        self._skip: dict[tuple[str, str], dict[dt.date, dt.date]] = {}
        #: Free places over all of the plan's days, per person and kind (kept current).
        self._totals: dict[tuple[str, str], int] = {}

    def room(self, name: str, kind: str, day: dt.date) -> int | None:
        """Free places on ``day`` (0 on a day off); None: the kind is unlimited."""
        limit = self.roster.limit(name, kind)
        if limit is None:
            return None
        if not self.roster.works_on(name, day):
            return 0
        return max(0, limit - self.counts[name, kind, day])

    def next_day_with_room(
        self, name: str, kind: str, start: dt.date, end: dt.date
    ) -> dt.date | None:
        """The first of the plan's days from ``start`` to ``end`` with room, or None."""
        start = max(start, self.first)
        end = min(end, self.last)
        if start > end:
            return None
        skip = self._skip.setdefault((name, kind), {})
        day = start
        path = []
        while day <= end:
            ahead = skip.get(day)
            if ahead is not None:
                path.append(day)
                day = ahead
                continue
            if self.room(name, kind, day):
                break
            skip[day] = day + _DAY
            path.append(day)
            day += _DAY
        for seen in path:  # compress: every day passed points at the day reached
            skip[seen] = day
        return day if day <= end else None

    def room_between(self, name: str, kind: str, start: dt.date, end: dt.date) -> int:
        """Free places from ``start`` to ``end`` among the plan's days."""
        start, end = max(start, self.first), min(end, self.last)
        if (start, end) == (self.first, self.last):  # most windows span the whole plan
            return self._total_room(name, kind)
        day, total = start, 0
        while day <= end:
            total += self.room(name, kind, day) or 0
            day += _DAY
        return total

    def _total_room(self, name: str, kind: str) -> int:
        total = self._totals.get((name, kind))
        if total is None:
            total = self._totals[name, kind] = sum(
                self.room(name, kind, self.first + dt.timedelta(days=n)) or 0
                for n in range((self.last - self.first).days + 1)
            )
        return total

    def take(self, name: str, kind: str, day: dt.date) -> bool:
        """Count one task; False when it goes past the person's capacity that day."""
        room = self.room(name, kind, day)
        self.counts[name, kind, day] += 1
        self.placed[name, kind] += 1
        if room and self.first <= day <= self.last and (name, kind) in self._totals:
            self._totals[name, kind] -= 1
        if room is not None and room <= 1 and self.first <= day <= self.last:
            self._skip.setdefault((name, kind), {})[day] = day + _DAY
        return room is None or room >= 1


@dataclass(frozen=True, slots=True)
class Wanted:
    """One occasion that wants a day and a person."""

    key: str
    customer_id: int
    kind: str
    earliest: dt.date
    latest: dt.date
    priority: int
    value: Decimal
    language: str | None
    #: Who must do it: the owner on staff, or the person the customer sticks to.
    person: str | None

    def rank(self) -> tuple[int, Decimal, dt.date, dt.date, str]:
        """Who gets the room first: priority, value, the earliest window end."""
        return (-self.priority, -self.value, self.latest, self.earliest, self.key)


@dataclass(frozen=True, slots=True)
class Placed:
    """Where and by whom a wanted occasion is done."""

    day: dt.date
    person: str


#: What became of a wanted occasion: placed, or why not (``capped``: the customer's
#: contact budget has no day in its window; ``waiting``: the staff have no room).
Outcome = Placed | Literal["capped", "waiting"]


def assign_service(
    wanted: Wanted, day: dt.date, load: Load, chosen: dict[int, str]
) -> tuple[str, bool]:
    """A service task's person, counted on ``day`` even past capacity.

    Returns the person and whether the task fits their capacity.
    """
    person = wanted.person or chosen.get(wanted.customer_id)
    if person is None:
        group = load.roster.speakers(wanted.language)
        working = [name for name in group if load.roster.works_on(name, day)]
        person = _least_loaded(load, working or group, wanted, day, day)
        chosen[wanted.customer_id] = person
    return person, load.take(person, wanted.kind, day)


def place_with_capacity(
    wanted: Sequence[Wanted],
    *,
    budgets: Mapping[int, ContactBudget],
    load: Load,
    chosen: dict[int, str],
) -> dict[str, Outcome]:
    """Give each wanted occasion a person and a day, best ranked first.

    A kind the person has a limit for goes on the first of their working days with room
    (from ``earliest``, and no later than the plan's last day) where the customer's
    contact budget also fits; with none it is ``waiting``. An unlimited kind goes on the
    first day the budget allows, up to ``latest``, as without staff. Either is
    ``capped`` when the budget allows no day of its window at all. ``chosen`` holds the
    customers' people so far (sticky); it is updated.
    """
    placed: dict[str, Outcome] = {}

    def refuse(item: Wanted, budget: ContactBudget) -> Outcome:
        # Waiting only if the budget has a day still to come in the window: a late
        # occasion cannot use the days that have passed.
        first = max(item.earliest, load.first)
        return "waiting" if budget.first_fit(first, item.latest) else "capped"

    # The earliest day anyone in a group has room, as a lower bound: once a group's
    # people are full, every later occasion for them is refused without a look.
    group_next: dict[tuple[tuple[str, ...], str], dt.date | None] = {}
    roster = load.roster
    for item in sorted(wanted, key=Wanted.rank):
        budget = budgets[item.customer_id]
        person = item.person or chosen.get(item.customer_id)
        start = max(item.earliest, load.first)
        day: dt.date | None
        if person is not None:
            if roster.limit(person, item.kind) is None:
                day = budget.first_fit(item.earliest, item.latest)
            else:
                day = _first_day_with_room(load, budget, person, item.kind, start, item.latest)
        else:
            group = roster.speakers(item.language)
            key = (group, item.kind)
            bound = group_next.get(key, load.first)
            if bound is None or bound > min(item.latest, load.last):
                placed[item.key] = refuse(item, budget)
                continue
            day, person = _from_group(load, budget, group, item, start)
            if all(roster.limit(name, item.kind) is not None for name in group):
                firsts = [
                    load.next_day_with_room(name, item.kind, load.first, load.last)
                    for name in group
                ]
                group_next[key] = min((first for first in firsts if first), default=None)
        if day is None or person is None:
            placed[item.key] = refuse(item, budget)
            continue
        chosen.setdefault(item.customer_id, person)
        budget.take(day)
        load.take(person, item.kind, day)
        placed[item.key] = Placed(day, person)
    return placed


def _first_day_with_room(
    load: Load, budget: ContactBudget, person: str, kind: str, start: dt.date, latest: dt.date
) -> dt.date | None:
    day: dt.date | None = start
    while day is not None:
        day = load.next_day_with_room(person, kind, day, latest)
        if day is None or budget.fits(day):
            return day
        day += _DAY
    return None


def _from_group(
    load: Load, budget: ContactBudget, group: Sequence[str], item: Wanted, start: dt.date
) -> tuple[dt.date | None, str | None]:
    """The least loaded person of ``group`` who can take the occasion, and their day:
    the most room for its kind in its window (unlimited counts as most), then the
    fewest of the kind placed by this plan, then the name."""
    end = min(item.latest, load.last)
    scored = []
    for name in group:
        if load.roster.limit(name, item.kind) is None:
            room = 1 << 30
        elif load.next_day_with_room(name, item.kind, start, end) is None:
            continue
        else:
            room = load.room_between(name, item.kind, start, end)
        scored.append((-room, load.placed[name, item.kind], name))
    for _, _, name in sorted(scored):
        if load.roster.limit(name, item.kind) is None:
            day = budget.first_fit(item.earliest, item.latest)
        else:
            day = _first_day_with_room(load, budget, name, item.kind, start, item.latest)
        if day is not None:
            return day, name
    return None, None


def _least_loaded(
    load: Load, group: Sequence[str], item: Wanted, start: dt.date, end: dt.date
) -> str:
    """The person of ``group`` with the most room for the kind from ``start`` to ``end``
    (unlimited counts as most), then with the fewest of the kind placed by this plan."""

    def score(name: str) -> tuple[int, int, str]:
        if load.roster.limit(name, item.kind) is None:
            room = 1 << 30
        else:
            room = load.room_between(name, item.kind, start, end)
        return (-room, load.placed[name, item.kind], name)

    return min(group, key=score)
