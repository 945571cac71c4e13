"""Import customers, purchases and interactions from CSV or JSONL files.

Files are streamed: rows are read, validated and written a batch at a time inside one
transaction, so a file of any size needs little memory. By default one bad row means
nothing is written (the caller rolls back); every bad row is reported as
``line N: field: reason``. With ``skip_invalid`` the good rows are kept and the bad ones
are written to a rejects file with their reasons. Importing the same file again changes
nothing.

One path for every file: :mod:`.files` reads the rows (and writes the rejects file),
:mod:`.resync` sets aside the rows unchanged since the last import, :mod:`.rows` turns
each cell into what the pydantic schema reads and validates it, and the store writes
the batch (:meth:`rapport.store.Store.upsert_customers` and its siblings).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pydantic
from sqlalchemy.orm import Session

from rapport.config import Settings
from rapport.database import IMPORT_LOCK, hold_lock
from rapport.importing.files import RejectWriter, Row, Source, check_rejects_path
from rapport.importing.kinds import (
    COLUMNS,
    ERROR_COLUMN,
    OPTIONAL_COLUMNS,
    REQUIRED,
    ImportFileError,
    ImportKind,
    ImportResult,
    RowProblem,
)
from rapport.importing.resync import digest_salt, header_salt, row_digest, unchanged_rows
from rapport.importing.rows import RowInvalid, validate_row
from rapport.models.tables import Base, Customer, Interaction, Purchase
from rapport.store import Store
from rapport.store.rows import analyze

__all__ = [
    "BATCH",
    "COLUMNS",
    "ERROR_COLUMN",
    "OPTIONAL_COLUMNS",
    "REQUIRED",
    "ImportFileError",
    "ImportKind",
    "ImportResult",
    "RowProblem",
    "import_file",
    "row_digest",
]

BATCH = 1000


def import_file(
    session: Session,
    kind: ImportKind | str,
    path: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    on_problem: Callable[[RowProblem], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and write every row of ``path`` in ``session`` (which the caller commits).

    Without ``skip_invalid`` a result with problems means the caller must roll back.
    With it, ``rejects`` names a file for the bad rows (see the module's docstring): it
    is written only when a row was rejected, and only if the whole file was read.
    ``on_problem`` sees each bad row as it is found (for streaming reports);
    ``on_progress`` the number of rows read so far.
    """
    kind = ImportKind(kind)
    if rejects is not None and not skip_invalid:
        raise ValueError(
            "rejects needs skip_invalid=True: without it one bad row imports nothing, so "
            "the whole file is what to fix and import again"
        )
    source = Source(path, kind)
    if rejects is not None:
        check_rejects_path(rejects, source)
    # Two imports at once would race on the same new customers and purchases: the
    # second waits for the first, then updates what the first created.
    hold_lock(session.connection(), IMPORT_LOCK)
    result = ImportResult(kind)
    store = Store(session, currency=settings.business.currency, timezone=settings.business.timezone)
    zone = zoneinfo.ZoneInfo(settings.business.timezone)
    files = ExitStack()
    reject_writer = RejectWriter(rejects, source, files) if rejects is not None else None
    batch: list[tuple[int, Mapping[str, Any], pydantic.BaseModel]] = []

    def report(line: int, raw: Mapping[str, Any], problems: list[tuple[str, str]]) -> None:
        result.rejected += 1
        for name, reason in problems:
            problem = RowProblem(line, name, reason, raw)
            if len(result.problems) < 10_000:
                result.problems.append(problem)
            if on_problem is not None:
                on_problem(problem)
        if reject_writer is not None:
            reject_writer.write(line, raw, problems)

    # Customers: each row's digest, stored with the customer; an unchanged row of the
    # next import is skipped before it is validated (see ``unchanged_rows``).
    digests: dict[str, str] | None = {} if kind is ImportKind.CUSTOMERS else None
    salt = digest_salt(kind, settings)
    touched: set[int] = set()

    def take(read: list[Row]) -> None:
        """Validate and write a batch of the file's rows, less those unchanged."""
        if digests is not None:
            read = unchanged_rows(store, read, salt + header_salt(source), digests, result)
        for line, raw, _ in read:
            try:
                batch.append((line, raw, validate_row(kind, raw, zone)))
            except RowInvalid as invalid:
                report(line, raw, invalid.problems)
        if batch:
            _write_batch(store, kind, batch, result, report, now, digests, touched)
            batch.clear()
        if digests is not None:
            digests.clear()
        statistics.update(result.created)

    statistics = _Statistics(session, kind)
    with files:
        read: list[Row] = []
        for row in source.rows():
            result.rows += 1
            read.append(row)
            if len(read) >= BATCH:
                take(read)
                read = []
            if on_progress is not None and result.rows % 500 == 0:
                on_progress(result.rows)
        take(read)
        # Rollups and rhythm of every customer the file's purchases touched, by set.
        store.refresh_purchase_rollups(touched, now)
        if result.created:
            statistics.analyze()
    if reject_writer is not None and reject_writer.written:
        result.rejects = rejects
    if on_progress is not None:
        on_progress(result.rows)
    result.problems.sort(key=lambda problem: problem.line)
    if result.rejected and not skip_invalid:
        result.created = result.updated = result.unchanged = 0
    return result


# ---------------------------------------------------------------------------- writing


def _write_batch(
    store: Store,
    kind: ImportKind,
    batch: list[tuple[int, Mapping[str, Any], Any]],
    result: ImportResult,
    report: Callable[[int, Mapping[str, Any], list[tuple[str, str]]], None],
    now: dt.datetime,
    digests: Mapping[str, str] | None,
    touched: set[int],
) -> None:
    """Write a batch through the store. The import holds the import lock, so its inserts
    are exclusive (``COPY`` on PostgreSQL); purchases' rollups wait for the file's end."""
    if kind is ImportKind.CUSTOMERS:
        customers = [model for _, _, model in batch]
        summary = store.upsert_customers(customers, now, digests=digests, exclusive=True)
    else:
        ids, good = _of_stored_customers(store, batch, lambda model: model.customer_id, report)
        if not good:
            return
        if kind is ImportKind.PURCHASES:
            summary = store.record_purchases(
                good, now, exclusive=True, touched=touched, customer_ids=ids
            )
        else:
            summary = store.record_interactions(good, now)
    result.created += summary.created
    result.updated += summary.updated
    result.unchanged += summary.unchanged


def _of_stored_customers(
    store: Store,
    rows: Sequence[tuple[int, Mapping[str, Any], Any]],
    customer_of: Callable[[Any], str],
    report: Callable[[int, Mapping[str, Any], list[tuple[str, str]]], None],
) -> tuple[dict[str, int], list[Any]]:
    """The stored ids of the rows' customers, and the rows whose customer is stored; the
    others are reported."""
    ids = store.customer_ids(customer_of(item) for _, _, item in rows)
    kept = []
    for line, raw, item in rows:
        if customer_of(item) in ids:
            kept.append(item)
        else:
            reason = (
                f"no customer with external_id {customer_of(item)!r}; import the customers first"
            )
            report(line, raw, [("customer_id", reason)])
    return ids, kept


class _Statistics:
    """Keeps PostgreSQL's planner statistics in step with a bulk load.

    Inside one long transaction the tables grow from nothing to millions of rows that no
    statistics describe yet, and PostgreSQL's planner then reads a whole table for each
    batch's lookup by external id. An ``ANALYZE`` each time the rows written pass 10,000,
    100,000, 1,000,000, ... keeps those lookups on their indexes (SQLite needs nothing).
    """

    TABLES: Mapping[ImportKind, tuple[type[Base], ...]] = {
        ImportKind.CUSTOMERS: (Customer,),
        ImportKind.PURCHASES: (Purchase, Customer),
        ImportKind.INTERACTIONS: (Interaction,),
    }

    def __init__(self, session: Session, kind: ImportKind) -> None:
        self._session = session
        self._kind = kind
        self._on = session.get_bind().dialect.name == "postgresql"
        self._next = 10_000

    def update(self, written: int) -> None:
        if not self._on or written < self._next:
            return
        while self._next <= written:
            self._next *= 10
        self.analyze()

    def analyze(self) -> None:
        """Refresh the statistics now (the end of a file: for the next import)."""
        if self._on:
            analyze(self._session, self.TABLES[self._kind])
