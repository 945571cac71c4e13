"""The one way rapport inserts rows, and the one way it asks which keys are stored.

Imports and the daily run write hundreds of thousands of rows, and SQLAlchemy's
per-row statement machinery (parameter dictionaries, ORM bookkeeping, RETURNING spliced
row by row) costs more than the database's own work. So every bulk insert goes through
:func:`insert_values`: one INSERT compiled for fixed columns, plain tuples handed to the
driver's ``executemany`` (or PostgreSQL's ``COPY``), every value still converted by its
column type's own bind processor, so what is stored is exactly what an ORM write stores.

"Which of these keys are stored, and what goes with them" is :func:`stored_rows`: one
``IN`` list per chunk of keys, so no statement nears a driver's parameter limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Insert, Row, Table, any_, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rapport.models.tables import Base

#: Keys per ``IN`` list, rows per UPDATE batch: well under every driver's parameter limit.
CHUNK = 500
#: Rows per executemany: larger batches amortise the statement's overhead.
INSERT_BATCH = 5000

_T = TypeVar("_T")


def chunked(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rowcount(result: Any) -> int:
    """The rows an UPDATE or DELETE changed (0 when the driver does not say)."""
    return int(result.rowcount or 0)


# ------------------------------------------------------------------------- inserting


def _insert_statement(dialect: Dialect, target: Any, skip: str | None) -> Insert:
    """INSERT into ``target`` (a table or mapped class); with ``skip`` (a unique column)
    rows whose value is already stored are skipped: ON CONFLICT DO NOTHING, which keeps
    a concurrent writer's row. The one place that knows the dialects apart."""
    if skip is None:
        return insert(target)
    if dialect.name == "postgresql":
        return postgresql.insert(target).on_conflict_do_nothing(index_elements=[skip])
    if dialect.name == "sqlite":
        return sqlite.insert(target).on_conflict_do_nothing(index_elements=[skip])
    raise ValueError(f"inserting with skip=... supports SQLite and PostgreSQL, not {dialect.name}")


def insert_values(
    session: Session,
    model: type[Any],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    skip: str | None = None,
) -> int:
    """Insert ``rows`` (each a value per column of ``columns``, in order) into ``model``'s
    table; returns how many went in.

    Every column without a database-side value must be given: one left out would take
    a Python-side default that SQLAlchemy fills row by row. With ``skip`` (a unique
    column) rows whose value is already stored are skipped and not counted. Pending ORM
    changes are flushed first, as any statement run through the session would.
    """
    table = list(rows)
    if not table:
        return 0
    if session.autoflush:
        session.flush()
    dialect = session.get_bind().dialect
    model_table: Table = model.__table__
    names = tuple(columns)
    compiled = _insert_statement(dialect, model_table, skip).compile(
        dialect=dialect, column_keys=list(names), for_executemany=True
    )
    positional = bool(compiled.positional)
    bound = list(compiled.positiontup or ()) if positional else list(compiled.binds)
    if sorted(bound) != sorted(names):
        raise ValueError(f"give every column of {model_table.name}: {sorted(bound)}")
    # Converted a column at a time; many values repeat (a status, the import's
    # timestamp), so each distinct value of a column is converted once per call.
    values: list[Sequence[Any]] = list(zip(*table, strict=True))
    for index, name in enumerate(names):
        # The type as this dialect implements it (sqlite.DATETIME, not DateTime): its
        # processor is the one a compiled statement would apply.
        process = model_table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[index] = _converted(values[index], process)
    connection = session.connection()
    if dialect.name == "postgresql" and skip is None:
        # PostgreSQL loads new rows fastest with COPY (about three times psycopg's
        # executemany); rows that may already be stored need ON CONFLICT, so INSERT.
        quote = dialect.identifier_preparer.quote
        copy_sql = (
            f"COPY {quote(model_table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
        )
        raw: Any = connection.connection.dbapi_connection
        try:
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in zip(*values, strict=True):
                    copy.write_row(row)
        except dialect.loaded_dbapi.Error as error:
            # The driver's own error, raised as SQLAlchemy raises every other one
            # (IntegrityError for a key stored meanwhile), so callers catch one kind.
            raise DBAPIError.instance(
                copy_sql, None, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        return len(table)
    params: list[Any]
    if positional:
        where = {name: index for index, name in enumerate(names)}
        params = list(zip(*(values[where[name]] for name in bound), strict=True))
    else:
        params = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    sql = str(compiled)
    inserted = 0
    for batch in chunked(params, INSERT_BATCH):
        result = connection.exec_driver_sql(sql, list(batch))
        # Both drivers sum executemany's rowcount; without skip every row went in.
        inserted += rowcount(result) if skip is not None else len(batch)
    return inserted


def insert_rows(
    session: Session,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    skip: str | None = None,
) -> int:
    """:func:`insert_values` for rows given as mappings, every one with the same columns."""
    if not rows:
        return 0
    columns = tuple(rows[0])
    return insert_values(
        session, model, columns, [[row[name] for name in columns] for row in rows], skip=skip
    )


def insert_new(
    session: Session,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    key: str,
    *,
    exclusive: bool = False,
) -> tuple[list[dict[str, Any]], list[int]]:
    """Insert the rows whose ``key`` is not stored yet (rows without a key always go in).

    Returns the rows inserted and, for a single row, its id. Many rows are written
    with :func:`insert_values` and no RETURNING; ON CONFLICT DO NOTHING still keeps a
    concurrent writer's row. An ``exclusive`` caller (an import, which holds the import
    lock) inserts plainly — with ``COPY`` on PostgreSQL — so a row stored meanwhile by a
    writer outside any import makes the insert fail instead of being skipped.
    """
    stored = stored_keys(session, getattr(model, key), [r[key] for r in rows if r[key] is not None])
    fresh: list[dict[str, Any]] = []
    for row in rows:
        if row[key] is not None:
            if row[key] in stored:
                continue
            stored.add(row[key])  # the first of repeats in one batch wins
        fresh.append(row)
    if len(fresh) == 1 and not exclusive:
        dialect = session.get_bind().dialect
        stmt = _insert_statement(dialect, model, key).returning(model.id)
        ids = list(session.scalars(stmt, fresh))
        return (fresh if ids else []), ids
    insert_rows(session, model, fresh, skip=None if exclusive else key)
    return fresh, []


def _converted(values: Sequence[Any], process: Callable[[Any], Any]) -> list[Any]:
    """``process`` applied to each value but None, once per distinct hashable value."""
    memo: dict[Any, Any] = {None: None}
    out = []
    for value in values:
        try:
            out.append(memo[value])
        except KeyError:
            out.append(memo.setdefault(value, process(value)))
        except TypeError:  # unhashable (a JSON document): converted every time
            out.append(process(value))
    return out


# ------------------------------------------------------------------------- looking up


def stored_rows(
    session: Session, key: Any, keys: Iterable[Any], *columns: Any, size: int = CHUNK
) -> dict[Any, Row[Any]]:
    """The stored rows whose ``key`` column holds one of ``keys``, by key.

    Each row holds the key and then ``columns`` (so ``row.id`` or ``row[1:]``); keys
    not stored are simply absent. One ``IN`` list per ``size`` keys.
    """
    found: dict[Any, Row[Any]] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for batch in chunked(sorted(set(keys)), size):
        # PostgreSQL takes the keys as one array parameter (``= ANY``): psycopg parses
        # a statement with hundreds of placeholders anew each time, which cost more
        # than the lookup itself.
        where = (
            key == any_(bindparam("keys", list(batch), type_=ARRAY(key.type)))
            if postgres
            else key.in_(batch)
        )
        for row in session.execute(select(key, *columns).where(where)):
            found[row[0]] = row
    return found


def stored_keys(session: Session, key: Any, keys: Iterable[Any]) -> set[Any]:
    """Which of ``keys`` the ``key`` column already holds."""
    return set(stored_rows(session, key, keys))


def analyze(session: Session, models: Iterable[type[Base]]) -> None:
    """Refresh PostgreSQL's planner statistics of the models' tables now, after a bulk
    load inside one transaction (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        session.execute(text(f"ANALYZE {model.__tablename__}"))
