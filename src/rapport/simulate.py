"""Plan a period on a throwaway copy of the data: how many tasks, for whom, each day.

``rapport simulate`` answers "how many calls will this give my staff each week?" before
anything is sent. Each day of the period is planned in turn, as the morning job would
plan it, on a copy of the data that is thrown away at the end: a copied SQLite file, or
a PostgreSQL transaction that is rolled back. Rules judge the history as it stood on
each day; by default each task is taken as done on its due day (a contact recorded that
day, as ``rapport done`` records it), so a check-in done today is not due again
tomorrow. The real database is never changed.

On PostgreSQL the rolled-back transaction is the real database's: while it runs it holds
the planner's locks and the rows it changed, so a real plan, or ``rapport done`` on a
task it marked done, waits until it ends; and the ids it drew from sequences are not
given back (sequences are not transactional). Simulate outside the morning job's hour.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rapport import database
from rapport._errors import ConfigError
from rapport.planner import Planner
from rapport.store import Store
from rapport.store.tasks import complete_tasks, due_tasks, task_contact
from rapport.store.waiting import Backlog

#: Who a task without a person goes to, in the per-person counts.
UNASSIGNED = "(unassigned)"
#: The longest period one simulation plans.
MAX_DAYS = 366


class SimulatedDay(BaseModel):
    """One planned day: the tasks on that day's list per rule and per person, and how
    many occasions wait for room in the staff's days after its plan."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    rules: dict[str, int]
    staff: dict[str, int]
    waiting: int


class Simulation(BaseModel):
    """Every day of a period planned in turn, and the tasks per rule over all of them
    (each task once, however many days it stayed on the list).

    ``config`` names the settings file of a comparison (``other``): the same period
    planned with other settings, on its own copy of the same data.
    """

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    done_on_due_day: bool
    days: list[SimulatedDay]
    totals: dict[str, int]
    config: str | None = None
    other: Simulation | None = None


def simulate(
    engine: Engine,
    planner: Planner,
    start: dt.date,
    end: dt.date,
    *,
    done_on_due_day: bool = True,
) -> Simulation:
    """Plan every day from ``start`` to ``end`` on a throwaway copy of ``engine``'s data."""
    if end < start:
        raise ConfigError(
            f"the period ends ({end}) before it starts ({start}); swap --from and --to"
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise ConfigError(
            f"simulate at most {MAX_DAYS} days at a time, not {(end - start).days + 1}; "
            "split the period"
        )
    listed: dict[int, str] = {}  # every task on some day's list: its rule
    with _throwaway(engine) as session:
        days = list(_plan_days(session, planner, start, end, done_on_due_day, listed))
    # Each task once, however many days it stayed on the list (``done_on_due_day=False``).
    totals = Counter(listed.values())
    return Simulation(
        start=start,
        end=end,
        done_on_due_day=done_on_due_day,
        days=days,
        totals=dict(sorted(totals.items())),
    )


def _plan_days(
    session: Session,
    planner: Planner,
    start: dt.date,
    end: dt.date,
    done: bool,
    listed: dict[int, str],
) -> Iterator[SimulatedDay]:
    """Each day planned in turn; ``listed`` gathers every task on a day's list."""
    settings = planner.settings
    zone = zoneinfo.ZoneInfo(settings.business.timezone)
    store = Store(session, currency=settings.business.currency, timezone=settings.business.timezone)
    day = start
    while day <= end:
        # The morning job's run, then the day's list: every open task due by today.
        morning = dt.datetime.combine(day, dt.time(6), tzinfo=zone).astimezone(dt.UTC)
        planner.plan(session, as_of=day, now=morning)
        todo = due_tasks(session, day)
        listed.update((task.id, task.rule) for task in todo)
        waiting = sum(Backlog(session).counts().values())
        yield SimulatedDay(
            day=day,
            rules=dict(sorted(Counter(task.rule for task in todo).items())),
            staff=dict(sorted(Counter(task.assigned_to or UNASSIGNED for task in todo).items())),
            waiting=waiting,
        )
        if done and todo:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone).astimezone(dt.UTC)
            complete_tasks(session, [task.id for task in todo], noon)
            contacts = [
                task_contact(
                    task_id=task.id,
                    customer_id=task.external_id,
                    kind=task.kind,
                    rule=task.rule,
                    staff=task.assigned_to,
                    at=noon,
                    summary=f"{task.rule.replace('_', ' ')} done (simulated)",
                )
                for task in todo
            ]
            store.record_interactions([c for c in contacts if c is not None], noon)
        day += dt.timedelta(days=1)


@contextmanager
def _throwaway(engine: Engine) -> Iterator[Session]:
    """A session on a copy of the data that nothing keeps: a copied SQLite file (the
    original is only read), or a PostgreSQL transaction rolled back at the end."""
    file = database.sqlite_file(engine.url)
    if engine.dialect.name == "sqlite":
        if file is None:
            raise ConfigError(
                "simulate needs a database file or a PostgreSQL server, not an in-memory "
                "SQLite database"
            )
        with tempfile.TemporaryDirectory(prefix="rapport-simulate-") as folder:
            copy = Path(folder) / "simulated.db"
            _copy_sqlite(file, copy)
            scratch = database.create_engine(f"sqlite:///{copy}")
            try:
                with Session(scratch) as session, session.begin():
                    yield session
            finally:
                scratch.dispose()
        return
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                yield session
        finally:
            transaction.rollback()


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (its write-ahead log included), by SQLite's
    own backup; the source is opened read-only, so nothing about it changes."""
    # As a URI, so that ``mode=ro`` holds whatever characters (#, ?, %) the path has.
    reader = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
