"""kill -9 in the middle of a plan and of an import, then run again.

A child process runs the real work with a hook that stops it at its N-th SQL statement
(or just before it commits) and says so; the test then kills it with SIGKILL, as an
out-of-memory killer or a power cut would, runs the same work again in a new process,
and compares the database with one where nothing was interrupted: the same tasks, each
occasion once, no words stored by planning, the same purchases, rollups equal to their
sums.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import case, func, select, text
from sqlalchemy.engine import make_url

from rapport import Rapport, create_engine
from rapport.models import Customer, Interaction, OutreachTask, Purchase
from tests.conftest import postgres_url, tried

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate

AS_OF = dt.date(2026, 11, 23)
CUSTOMERS = 1500
#: Where to stop the work: at these fractions of its SQL statements, and just before
#: each of its commits (an import commits once per file).
STATEMENT_POINTS = (0.1, 0.4, 0.7, 0.95)

CHILD = """
import datetime as dt, sys, time
from pathlib import Path
from sqlalchemy import Engine, event
from rapport import Rapport, parse_settings

url, work, stop_at, folder = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
statements = commits = 0

def pause(where):
    print(f"stopped {where}", flush=True)
    time.sleep(600)  # the test kills the process here

def counted(*_):
    global statements
    statements += 1
    if stop_at.isdigit() and statements == int(stop_at):
        pause(f"at statement {statements}")

def committing(*_):
    global commits
    commits += 1
    if stop_at == f"commit:{commits}":
        pause(f"before commit {commits}")

event.listen(Engine, "before_cursor_execute", counted)
event.listen(Engine, "commit", committing)
settings = parse_settings({"business": {"timezone": "Europe/Helsinki", "country": "FI"}})
now = dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC)
with Rapport.from_url(url, settings=settings, clock=lambda: now) as crm:
    if work == "plan":
        crm.plan(dt.date(2026, 11, 23))
    else:
        for kind in ("customers", "purchases", "interactions"):
            crm.import_file(kind, folder / f"{kind}.csv")
print(f"finished after {statements} statements and {commits} commits", flush=True)
"""


def run_child(url: str, work: str, folder: Path, stop_at: str = "never") -> str:
    """Run the work in a new process; with a stop point, kill -9 it there."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, work, stop_at, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    if first.startswith("stopped"):
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=60)  # reaps the process and closes its pipes
        assert child.returncode == -signal.SIGKILL
        return first.strip()
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    return (first + out).strip()


def counts_in(message: str) -> tuple[int, int]:
    """(statements, commits) from the child's last line."""
    words = message.split()
    return int(words[2]), int(words[5])


class Databases:
    """Copies of one starting database, one per run, on SQLite or PostgreSQL."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.made: list[str] = []
        if backend == "sqlite":
            self.template = f"sqlite:///{folder / 'template.db'}"
        else:
            self.template_name = f"rapport_tpl_{uuid.uuid4().hex[:10]}"
            self._admin(f'CREATE DATABASE "{self.template_name}"')
            self.template = self._url(self.template_name)

    def _url(self, name: str) -> str:
        return make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()

    def copy(self) -> str:
        """A new database holding what the template holds now."""
        if self.backend == "sqlite":
            path = self.folder / f"copy-{len(self.made)}.db"
            shutil.copy(self.folder / "template.db", path)
            url = f"sqlite:///{path}"
        else:
            name = f"rapport_{uuid.uuid4().hex[:12]}"
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
            url = self._url(name)
        self.made.append(url)
        return url

    def drop_all(self) -> None:
        if self.backend == "postgresql":
            for url in self.made:
                self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            self._admin(f'DROP DATABASE IF EXISTS "{self.template_name}" WITH (FORCE)')


@contextmanager
def databases(backend: str, folder: Path) -> Iterator[Databases]:
    made = Databases(backend, folder)
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-data")
    generate(CUSTOMERS, folder, as_of=AS_OF)
    return folder


def tasks_state(url: str) -> list[tuple[Any, ...]]:
    """Every task: its occasion, status, lateness, and whether it holds words."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(
                connection.execute(
                    select(
                        OutreachTask.occasion_key,
                        OutreachTask.status,
                        OutreachTask.late,
                        OutreachTask.rendered_at.is_not(None),
                    )
                ).all()
            )
    finally:
        engine.dispose()


def data_state(url: str) -> dict[str, Any]:
    """Customers, purchases, and each customer's rollups beside their true sums."""
    engine = create_engine(url)
    completed = Purchase.status == "completed"
    sums = (
        select(
            Purchase.customer_id,
            func.count().filter(completed).label("count"),
            func.coalesce(func.sum(case((completed, Purchase.amount), else_=0)), 0).label("sum"),
            func.min(Purchase.occurred_at).filter(completed).label("first"),
        )
        .group_by(Purchase.customer_id)
        .subquery()
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    Customer.external_id,
                    Customer.purchase_count,
                    Customer.lifetime_value,
                    Customer.first_purchase_at,
                    func.coalesce(sums.c.count, 0),
                    func.coalesce(sums.c.sum, 0),
                    sums.c.first,
                ).outerjoin(sums, sums.c.customer_id == Customer.id)
            ).all()
            purchases, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(Purchase.external_id)))
            ).one()
            interactions = connection.execute(
                select(func.count()).select_from(Interaction)
            ).scalar_one()
    finally:
        engine.dispose()
    wrong = [
        row[0]
        for row in rows
        if (row[1], row[2]) != (row[4], row[5])
        or (row[3] is None) != (row[6] is None)
        or (row[3] is not None and row[3].replace(tzinfo=None) != row[6].replace(tzinfo=None))
    ]
    return {
        "customers": sorted((row[0], row[1], row[2]) for row in rows),
        "purchases": (purchases, distinct),
        "interactions": interactions,
        "rollups_off": wrong,
    }


def kill_and_recover(
    made: Databases, work: str, files: Path, state: Callable[[str], Any]
) -> list[str]:
    """Kill the work at every stop point, run it again, compare; returns where it stopped."""
    reference = made.copy()
    total, commits = counts_in(run_child(reference, work, files))
    expected = state(reference)
    stops = [str(max(1, int(total * point))) for point in STATEMENT_POINTS]
    stops += [f"commit:{n}" for n in range(1, commits + 1)]
    report = []
    for stop_at in stops:
        url = made.copy()
        stopped = run_child(url, work, files, stop_at)
        assert stopped.startswith("stopped"), stopped
        run_child(url, work, files)  # the next run
        assert state(url) == expected, f"after kill -9 {stopped}"
        report.append(stopped.removeprefix("stopped "))
    tried(
        f"kill -9: {made.backend} {work} of {CUSTOMERS} customers killed {len(report)} times "
        f"({', '.join(report)}; {total} statements, {commits} commits); "
        "each next run matched the uninterrupted one"
    )
    return report


def test_kill_9_during_an_import_then_import_again(
    backend: str, tmp_path: Path, files: Path
) -> None:
    with databases(backend, tmp_path) as made:
        with Rapport.from_url(made.template) as crm:
            crm.migrate()
        report = kill_and_recover(made, "import", files, data_state)
        # One commit per file: customers, purchases, interactions.
        assert report[-3:] == ["before commit 1", "before commit 2", "before commit 3"]


def test_kill_9_during_a_plan_then_plan_again(backend: str, tmp_path: Path, files: Path) -> None:
    with databases(backend, tmp_path) as made:
        with Rapport.from_url(made.template) as crm:
            crm.migrate()
        run_child(made.template, "import", files)
        report = kill_and_recover(made, "plan", files, tasks_state)
        assert report[-1] == "before commit 1"  # a plan is one transaction
        reference = tasks_state(made.made[0])
        keys = [row[0] for row in reference]
        assert len(keys) == len(set(keys)) > CUSTOMERS // 10
        # Planning stores occasions, not words: the messages are rendered when listed.
        assert not any(has_words for *_, has_words in reference)
