"""Fixtures shared by the whole suite: every database test runs on SQLite and PostgreSQL.

PostgreSQL tests need ``RAPPORT_TEST_POSTGRES_URL`` (``scripts/test`` starts a throwaway
server and sets it). Without it they skip with a reason, unless
``RAPPORT_REQUIRE_POSTGRES=1`` (set in CI), where a missing server fails the run.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import Engine, delete, text
from sqlalchemy.engine import make_url

from rapport import Rapport, create_engine, metadata, migrate

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_URL_VARIABLE = "RAPPORT_TEST_POSTGRES_URL"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    reason = f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (scripts/test sets it)"
    if os.environ.get("RAPPORT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}; RAPPORT_REQUIRE_POSTGRES=1 forbids skipping them")
    pytest.skip(reason)


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database for one test; drop it afterwards."""
    base = postgres_url()
    name = f"rapport_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the current backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["postgresql"])
def fresh_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database, for tests of what only a server database can do."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database shared by the tests of one backend (emptied after each test)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rapport.db'}"
    else:
        url = worker_postgres_url()
    engine = create_engine(url)
    if backend == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


def worker_postgres_url() -> str:
    """The shared test database, or under pytest-xdist one database per worker (the
    workers' tests would otherwise empty each other's tables)."""
    base = postgres_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return base
    name = f"{make_url(base).database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def key_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The occasion keys the planner looks up from now on (rules that mark their planned
    occasions in SQL should need none)."""
    from rapport import planner
    from rapport.store.tasks import planned_keys as lookup

    looked_up: list[str] = []

    def counting(session: Any, keys: Any) -> set[str]:
        keys = list(keys)
        looked_up.extend(keys)
        return lookup(session, keys)

    monkeypatch.setattr(planner, "planned_keys", counting)
    return looked_up


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC))


def empty_tables(engine: Engine) -> None:
    """Delete every row of every rapport table (children first)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def rapport(engine: Engine, clock: FixedClock) -> Iterator[Rapport]:
    yield Rapport(engine, currency="EUR", clock=clock)
    empty_tables(engine)


def count_rows(engine: Engine, table_name: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table_name}")).scalar_one())


#: What the reliability tests tried (processes, kill points, fuzz cases), one line each;
#: printed at the end of the run, and quoted in docs/reliability.md.
TRIED: list[str] = []


def tried(line: str) -> None:
    TRIED.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database, so a log shows PostgreSQL really ran,
    and what the reliability tests tried."""
    if TRIED:
        terminalreporter.write_sep("-", "what the reliability tests tried")
        for line in TRIED:
            terminalreporter.write_line(line)
    counts: dict[str, dict[str, int]] = {backend: {} for backend in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            for backend in BACKENDS:
                if f"[{backend}" in getattr(report, "nodeid", ""):
                    counts[backend][outcome] = counts[backend].get(outcome, 0) + 1
    for backend, by_outcome in counts.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(by_outcome.items()))
        terminalreporter.write_line(f"{backend} tests: {summary or 'none ran'}")


# CI replays the same generated examples on every run (a failure there is reproducible);
# local runs explore new ones each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def only_rules(*enabled: str) -> dict[str, dict[str, bool]]:
    """``[rules.*]`` settings with only these built-in rules switched on."""
    from rapport.rules import BUILTIN_RULES

    return {rule.name: {"enabled": rule.name in enabled} for rule in BUILTIN_RULES}
