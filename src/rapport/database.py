"""Engines, migrations and the helpers a host app needs to share its database with rapport."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, event, exc

from rapport._errors import ConfigError, DatabaseError, SchemaError

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
#: Held while a plan reads and fills the staff's days (``[[staff]]``): capacity is per
#: person, not per shard, so every planner and shard takes the same one.
CAPACITY_LOCK = PLANNER_LOCK - 2


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that do not name a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: The databases rapport's migrations and SQL are written and tested for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_URL_EXAMPLES = "sqlite:///rapport.db or postgresql://USER@HOST/DATABASE"


def parse_url(url: str) -> URL:
    """``url`` parsed, or :class:`ConfigError` saying how to write one rapport can use."""
    try:
        parsed = sqlalchemy.make_url(normalize_url(url))
    except exc.ArgumentError:
        raise ConfigError(
            f"{_without_password(url)!r} is not a database URL; write {_URL_EXAMPLES}"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"rapport works with SQLite and PostgreSQL, not {parsed.get_backend_name()} "
            f"({parsed.render_as_string(hide_password=True)}); use {_URL_EXAMPLES}"
        )
    return parsed


def _without_password(url: str) -> str:
    """A URL-like text with anything between ``:`` and ``@`` hidden, for messages."""
    return re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", url)


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL, or None for another database or an in-memory one."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or name in (None, "", ":memory:"):
        return None
    if name.startswith("file:"):  # a URI filename (?uri=true); rare, leave it alone
        return None
    return Path(name)


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine set up the way rapport expects.

    SQLite gets foreign keys on, WAL journaling (for files) and a busy timeout, so a
    reader never blocks the daily planner and a second writer waits instead of failing.
    A URL rapport cannot use, or a missing database driver, raises :class:`ConfigError`
    saying what to do.
    """
    parsed = parse_url(url)
    try:
        engine = sqlalchemy.create_engine(parsed, **kwargs)
    except (ImportError, exc.NoSuchModuleError) as error:
        # SQLAlchemy imports the driver here; psycopg comes with the [postgres] extra.
        raise ConfigError(
            f"the {parsed.get_backend_name()} driver {parsed.get_driver_name()} cannot be "
            f"imported ({error}); install it with pip install 'rapport[postgres]'"
            if parsed.get_backend_name() == "postgresql"
            else f"the database driver cannot be imported ({error})"
        ) from error
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


def connection_failure(error: exc.SQLAlchemyError, url: str | URL) -> DatabaseError:
    """What went wrong reaching the database at ``url``, and what to do, as one message.

    For the command line, which builds the engine: a server that is down, a SQLite file
    in a folder that does not exist, or a file that is not a database.
    """
    parsed = url if isinstance(url, URL) else parse_url(url)
    shown = parsed.render_as_string(hide_password=True)
    detail = str(getattr(error, "orig", None) or error).strip()
    first_line = detail.splitlines()[0] if detail else type(error).__name__
    path = sqlite_file(parsed)
    if path is not None:
        if "file is not a database" in detail:
            return DatabaseError(
                f"{path} is not a SQLite database; check --db (or the database setting), "
                "or move the file away and run `rapport init` to create a new one"
            )
        if "unable to open" in detail and not path.absolute().parent.is_dir():
            return DatabaseError(
                f"cannot create the SQLite database {path}: the folder "
                f"{path.absolute().parent} does not exist; create it or choose another --db"
            )
        return DatabaseError(
            f"cannot use the SQLite database {path}: {first_line}; check the path and its "
            "permissions"
        )
    if isinstance(error, exc.OperationalError) and parsed.get_backend_name() == "postgresql":
        return DatabaseError(
            f"cannot connect to PostgreSQL at {shown}: {first_line}; check that the server "
            "is running and that the URL (--db, $RAPPORT_DATABASE_URL or the database "
            "setting) is right"
        )
    return DatabaseError(f"the database at {shown} refused the operation: {first_line}")


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
