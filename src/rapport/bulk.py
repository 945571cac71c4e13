"""Bulk loading: many rows handed straight to the database driver's ``executemany``.

Imports of whole files write hundreds of thousands of rows; SQLAlchemy's per-row
statement machinery (parameter dictionaries, ORM bookkeeping) costs more than the
database's own work. A :class:`RowWriter` compiles one INSERT for fixed columns and
passes tuples to the driver — but every value still goes through its column type's own
bind processor, so what is stored is exactly what an ORM write would store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rapport.store import INSERT_BATCH


class RowWriter:
    """An INSERT of ``columns`` into ``model``'s table, compiled once per session.

    With ``skip`` (a unique column) rows whose value is already stored are skipped
    (ON CONFLICT DO NOTHING) and :meth:`write` returns the rows inserted.
    """

    def __init__(
        self, session: Session, model: type[Any], columns: Sequence[str], *, skip: str | None = None
    ) -> None:
        self._session = session
        dialect = session.get_bind().dialect
        table = model.__table__
        self._skip = skip
        statement: Any = insert(table)
        if skip is not None:
            upserts = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
            if dialect.name not in upserts:
                raise ValueError(
                    f"RowWriter(skip=...) supports SQLite and PostgreSQL, not {dialect.name}"
                )
            upsert: Any = upserts[dialect.name](table)
            statement = upsert.on_conflict_do_nothing(index_elements=[skip])
        self.columns = tuple(columns)
        processors: list[Callable[[Any], Any] | None] = [
            table.c[name].type._cached_bind_processor(dialect) for name in self.columns
        ]
        self._processors = tuple(processors)
        compiled = statement.compile(
            dialect=dialect, column_keys=list(self.columns), for_executemany=True
        )
        self._sql = str(compiled)
        self._positional = bool(compiled.positional)
        bound = list(compiled.positiontup or ()) if self._positional else list(compiled.binds)
        if sorted(bound) != sorted(self.columns):
            # A column left out would take a Python-side default SQLAlchemy fills per row.
            raise ValueError(f"give every column of {table.name}: {sorted(bound)}")
        where = {name: index for index, name in enumerate(self.columns)}
        self._order = tuple(where[name] for name in bound)
        # PostgreSQL loads new rows fastest with COPY (about three times psycopg's
        # executemany); rows that may already be stored need ON CONFLICT, so INSERT.
        self._copy: str | None = None
        if dialect.name == "postgresql" and skip is None:
            quote = dialect.identifier_preparer.quote
            names = ", ".join(quote(name) for name in self.columns)
            self._copy = f"COPY {quote(table.name)} ({names}) FROM STDIN"

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert the rows (each a value per column, in order); returns how many."""
        table = list(rows)
        if not table:
            return 0
        # Converted a column at a time; many values repeat (a status, the import's
        # timestamp), so each distinct value of a column is converted once per call.
        columns: list[Sequence[Any]] = list(zip(*table, strict=True))
        for index, process in enumerate(self._processors):
            if process is not None:
                columns[index] = _converted(columns[index], process)
        if self._copy is not None:
            return self._copy_rows(zip(*columns, strict=True), len(table))
        params: list[Any]
        if self._positional:
            params = list(zip(*(columns[i] for i in self._order), strict=True))
        else:
            named = zip(*columns, strict=True)
            params = [dict(zip(self.columns, row, strict=True)) for row in named]
        connection = self._session.connection()
        inserted = 0
        for start in range(0, len(params), INSERT_BATCH):
            batch = params[start : start + INSERT_BATCH]
            result = connection.exec_driver_sql(self._sql, batch)
            inserted += result.rowcount if self._skip is not None else len(batch)
        return inserted

    def _copy_rows(self, rows: Iterable[Sequence[Any]], count: int) -> int:
        raw: Any = self._session.connection().connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(self._copy) as copy:
            for row in rows:
                copy.write_row(row)
        return count


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
