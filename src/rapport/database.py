"""Engines, migrations and the helpers a host app needs to share its database with rapport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event

from rapport._errors import SchemaError

#: Alembic version table of rapport's own migrations, apart from the host app's.
VERSION_TABLE = "rapport_alembic_version"
#: Branch label of rapport's migrations, for hosts that run them from their own Alembic.
BRANCH_LABEL = "rapport"
TABLE_PREFIX = "rapport_"
#: Page cache per connection: large imports and plans touch far more than the 2 MB default.
SQLITE_CACHE_KB = 65_536
#: A plan's page cache on SQLite: at a million customers a plan reads the customer and
#: task tables several times over, more than the usual cache holds (see plan_page_cache).
SQLITE_PLAN_CACHE_KB = 262_144
#: How long a SQLite writer waits for another one (SQLite retries the lock meanwhile);
#: ``?timeout=SECONDS`` in the URL sets another wait.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: PostgreSQL advisory lock keys: the planner takes ``PLANNER_LOCK`` (plus its shard
#: number), a file import ``IMPORT_LOCK``; each is held until its transaction ends.
PLANNER_LOCK = 0x7261_7070  # "rapp"
IMPORT_LOCK = PLANNER_LOCK - 1


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that do not name a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine set up the way rapport expects.

    SQLite gets foreign keys on, WAL journaling (for files) and a busy timeout, so a
    reader never blocks the daily planner and a second writer waits instead of failing.
    """
    engine = sqlalchemy.create_engine(normalize_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    return engine


def configure_sqlite(engine: Engine) -> None:
    """Install rapport's per-connection SQLite settings on an engine."""
    in_memory = engine.url.database in (None, "", ":memory:")
    own_timeout = "timeout" in engine.url.query  # the driver's own busy timeout

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not own_timeout:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        cursor.close()


def hold_lock(connection: Connection, key: int) -> None:
    """Serialise this transaction with others that take the same lock.

    On PostgreSQL: wait for the advisory lock ``key`` and hold it until the transaction
    ends. On SQLite, which has one writer at a time: take the database's write lock now
    (``BEGIN IMMEDIATE``, waiting up to the busy timeout), so that nothing the
    transaction reads can change under it before it writes.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        raw: Any = connection.connection.dbapi_connection
        if not raw.in_transaction:  # after a write it holds the lock already
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def plan_each_query(connection: Connection) -> None:
    """On PostgreSQL, plan every statement with its own values until the transaction ends.

    psycopg prepares a statement it has run five times, and PostgreSQL may then reuse a
    generic plan that cannot see the values of a long ``IN (...)`` list: looking up 500
    occasion keys became a linear scan of the whole task table, 400 ms a query instead
    of 2. A plan runs many such lookups. (Imports do not need it: their lookups go
    through unique indexes, and planning each of their statements made them slower.)
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


@contextmanager
def plan_page_cache(connection: Connection) -> Iterator[None]:
    """A larger SQLite page cache for one plan, back to the usual size after it.

    The planner's rules read the same customer pages one after another; with the usual
    cache a large database reads them from disk again (the machine's file cache does not
    keep them), so the plan's own connection holds more, within its memory target.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_PLAN_CACHE_KB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(files("rapport") / "migrations"))
    return config


def migrate(bind: Engine | Connection, revision: str = "heads") -> None:
    """Create or upgrade rapport's tables to ``revision`` (the newest by default).

    With a ``Connection`` the migration runs in the caller's transaction; with an
    ``Engine`` it runs in a transaction of its own.
    """
    config = alembic_config()
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    else:
        config.attributes["connection"] = bind
        command.upgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    """The rapport migration the database is at, or None before the first one."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def require_current_schema(connection: Connection) -> None:
    """Raise :class:`SchemaError` unless the database is at rapport's newest migration."""
    current = current_revision(connection)
    if current != head_revision():
        state = "has no rapport tables" if current is None else f"is at migration {current}"
        raise SchemaError(
            f"the database {state}, but this rapport needs {head_revision()}; "
            "run `rapport init` or Rapport.migrate()"
        )


def is_rapport_object(name: str | None, type_: str) -> bool:
    """True for rapport's tables and their indexes and constraints."""
    return name is not None and name.startswith(TABLE_PREFIX) if type_ == "table" else True


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """An Alembic ``include_object`` hook for a *host app's* autogenerate.

    Pass it to ``context.configure(include_object=rapport.include_object)`` in the host's
    ``env.py``: the host's autogenerate then leaves rapport's tables (and rapport's own
    version table) alone, since rapport migrates them itself.
    """
    if type_ == "table":
        return not (name or "").startswith(TABLE_PREFIX)
    table = getattr(obj, "table", None)
    if table is not None:
        return not str(table.name).startswith(TABLE_PREFIX)
    return True
