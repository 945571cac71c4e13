"""Import customers, purchases and interactions from CSV or JSONL files.

Files are streamed: rows are read, validated and written a batch at a time inside one
transaction, so a file of any size needs little memory. By default one bad row means
nothing is written (the caller rolls back); every bad row is reported as
``line N: field: reason``. With ``skip_invalid`` the good rows are kept and the bad ones
are written to a rejects file with their reasons. Importing the same file again changes
nothing.

The rejects file holds the rejected rows exactly as they were — the file's own header,
its columns in its order, each cell as written — plus one trailing column ``error``
(a JSONL file's rejects are JSONL, each object with an ``error`` key). Import ignores an
``error`` column, so fixing the cells and importing the rejects file again is the same as
importing the fixed rows of the original: a column the original did not have is still
absent, so it still leaves that field alone. CSV cells a spreadsheet would run as a
formula are written with a leading apostrophe, which import reads away again
(:mod:`rapport._cells`). The file replaces the path only when the import ends without an
error, and is not written at all when nothing was rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import pydantic
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from rapport import fastpath
from rapport._cells import defuse, replaced_whole, undefuse
from rapport._errors import RapportError, field_problems
from rapport.config import Settings
from rapport.database import IMPORT_LOCK, hold_lock
from rapport.fastpath import FALSE_WORDS, LIST_SEPARATOR, TRUE_WORDS
from rapport.models.schemas import CustomerIn, InteractionIn, PurchaseIn
from rapport.models.tables import Customer, Purchase
from rapport.store import Store, stored_keys

BATCH = 1000

#: The column a rejects file adds for each row's reasons; import ignores it in any file,
#: so the name is reserved (no kind has a field called ``error``).
ERROR_COLUMN = "error"


class ImportKind(StrEnum):
    """What a file holds."""

    CUSTOMERS = "customers"
    PURCHASES = "purchases"
    INTERACTIONS = "interactions"


#: The CSV columns of each kind (SPEC section 7); JSONL rows use the same names.
COLUMNS: Mapping[ImportKind, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: (
        "external_id",
        "first_name",
        "last_name",
        "preferred_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "language",
        "timezone",
        "birthday",
        "customer_since",
        "tags",
        "interests",
        "owner",
        "consent_email",
        "consent_sms",
        "consent_phone",
        "consent_mail",
        "do_not_contact",
        "check_in_every_days",
    ),
    ImportKind.PURCHASES: (
        "purchase_id",
        "customer_id",
        "occurred_at",
        "amount",
        "currency",
        "description",
        "category",
        "status",
    ),
    ImportKind.INTERACTIONS: (
        "customer_id",
        "occurred_at",
        "kind",
        "direction",
        "summary",
        "staff",
    ),
}
#: Columns accepted besides the SPEC ones.
OPTIONAL_COLUMNS: Mapping[ImportKind, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: ("notes", "status", "family", "important_dates"),
    ImportKind.PURCHASES: (),
    ImportKind.INTERACTIONS: ("interaction_id",),
}
REQUIRED: Mapping[ImportKind, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: ("external_id",),
    ImportKind.PURCHASES: ("customer_id", "occurred_at", "amount"),
    ImportKind.INTERACTIONS: ("customer_id", "occurred_at", "kind", "direction"),
}


@dataclass(frozen=True)
class RowProblem:
    """One rejected row: where it was, what it held, and why it was rejected."""

    line: int
    field: str
    reason: str
    raw: Mapping[str, Any]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did."""

    kind: ImportKind
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    #: Where the rejected rows were written; None when none were (or no file was asked for).
    rejects: Path | None = None


class ImportFileError(RapportError, ValueError):
    """The file cannot be read as a whole (encoding, header): nothing was imported."""


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
    source = _Source(path, kind)
    if rejects is not None:
        _check_rejects_path(rejects, source)
    # Two imports at once would race on the same new customers and purchases: the
    # second waits for the first, then updates what the first created.
    hold_lock(session.connection(), IMPORT_LOCK)
    result = ImportResult(kind)
    store = Store(session, currency=settings.business.currency, timezone=settings.business.timezone)
    zone = zoneinfo.ZoneInfo(settings.business.timezone)
    files = ExitStack()
    reject_writer = _RejectWriter(rejects, source, files) if rejects is not None else None
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

    quick: list[tuple[int, Mapping[str, Any], Any]] = []
    touched: set[int] = set()
    # Customers: each row's digest, stored with the customer; an unchanged row of the
    # next import is skipped before it is validated (see ``_unchanged``).
    digests: dict[str, str] | None = {} if kind is ImportKind.CUSTOMERS else None
    salt = _digest_salt(kind, settings)

    def flush() -> None:
        if quick:
            for line, raw in _write_quick(
                store, kind, quick, batch, result, report, now, touched, digests
            ):
                try:
                    batch.append((line, raw, _validate(kind, raw, zone)))
                except _RowInvalid as invalid:
                    report(line, raw, invalid.problems)
            quick.clear()
            batch.sort(key=lambda item: item[0])  # within a batch, the last row wins
        if batch:
            _write_batch(store, kind, batch, result, report, now, digests)
            batch.clear()
        if digests is not None:
            digests.clear()
        statistics.update(result.created)

    def take(read: list[_Row]) -> None:
        """Validate and queue a batch of the file's rows, less those unchanged."""
        if digests is not None:
            read = _unchanged(store, read, salt + _header_salt(source), digests, result)
        for line, raw, _ in read:
            fast = _quick(kind, raw, zone)
            if fast is not None:
                quick.append((line, raw, fast))
            else:
                try:
                    model = _validate(kind, raw, zone)
                except _RowInvalid as invalid:
                    report(line, raw, invalid.problems)
                else:
                    batch.append((line, raw, model))
        flush()

    statistics = _Statistics(session, kind)
    with files:
        read: list[_Row] = []
        for row in source.rows():
            result.rows += 1
            read.append(row)
            if len(read) >= BATCH:
                take(read)
                read = []
            if on_progress is not None and result.rows % 500 == 0:
                on_progress(result.rows)
        take(read)
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


# ---------------------------------------------------------------------------- unchanged rows

#: Bumped when the same row would be stored differently (a new normalisation), so rows
#: imported by an older version are read again.
DIGEST_VERSION = 1


def _digest_salt(kind: ImportKind, settings: Settings) -> bytes:
    """What besides the row decides what is stored: the business's time zone (for times
    without an offset) and its currency."""
    business = settings.business
    return f"{DIGEST_VERSION}|{kind.value}|{business.timezone}|{business.currency}|".encode()


def _header_salt(source: _Source) -> bytes:
    """A CSV file's columns, in order: its rows' texts are their cells alone."""
    return ("\x1e".join(source.header) + "|").encode()


def row_digest(text: str, salt: bytes) -> str:
    """A digest of a row's text as read (see :meth:`_Source.rows`)."""
    return hashlib.blake2b(salt + text.encode(), digest_size=16).hexdigest()


def _unchanged(
    store: Store,
    rows: list[_Row],
    salt: bytes,
    digests: dict[str, str],
    result: ImportResult,
) -> list[_Row]:
    """The rows to read: those whose customer's stored digest is not this row's. The
    others are counted ``unchanged`` and touch nothing. ``digests`` gets the digest of
    each row to read whose customer it names once: a customer named twice stores none,
    so their next import reads their rows again."""
    keyed: list[tuple[_Row, str | None, str | None]] = []
    for row in rows:
        key = row[1].get("external_id")
        key = key.strip() if isinstance(key, str) else None
        if key and (len(key) > 255 or "\x00" in key):
            key = None  # no such customer can be stored: the row is read (and refused)
        text = row[2]
        keyed.append((row, key, None if text is None or not key else row_digest(text, salt)))
    stored = store.import_digests(key for _, key, _ in keyed if key)
    counts = Counter(key for _, key, _ in keyed)
    kept = []
    for row, key, digest in keyed:
        if key is None or digest is None:
            kept.append(row)
            continue
        # A customer named twice in the batch is read in full: the rows may differ.
        once = counts[key] == 1
        if once and stored.get(key) == digest:
            result.unchanged += 1
            continue
        if once:
            digests[key] = digest
        kept.append(row)
    return kept


# ---------------------------------------------------------------------------- reading


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in {".jsonl", ".ndjson"}


#: A row as read: its line number, its cells by column, and its text (see _Source.rows).
_Row = tuple[int, dict[str, Any], str | None]


class _Source:
    """The file being imported: its rows, and (once read) its header as written, which
    its rejects file repeats."""

    def __init__(self, path: Path, kind: ImportKind) -> None:
        self.path = path
        self.kind = kind
        self.jsonl = _is_jsonl(path)
        self.header: list[str] = []

    def rows(self) -> Iterator[_Row]:
        """(line number, row, text) triples, streamed; the format follows the file's
        extension. The text is what an unchanged row is recognised by (see
        :func:`row_digest`): the CSV row's cells joined, or the JSONL line; None for a
        row that cannot be valid.

        A row that cannot be validated as it is carries what the rejects file needs:
        ``__cells__`` (a CSV row of the wrong length: its cells), ``__error__`` (a JSONL
        line that is not a valid row: why) and ``__text__`` (a JSONL line that is not an
        object: the line as written)."""
        if self.jsonl:
            return _jsonl_rows(self.path, self.kind)
        return _csv_rows(self.path, self.kind, self.header)


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text. A byte order mark (as spreadsheets write) is not part of
    the first column; a byte that is not UTF-8 is reported with its line number."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder, not a file") from None
    # Decoded in large chunks (fast); only on a bad byte is the file read again, line
    # by line, to say where it is.
    with io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        try:
            yield from text
        except UnicodeDecodeError as error:
            raise _where_not_utf8(path, error) from None


def _where_not_utf8(path: Path, error: UnicodeDecodeError) -> ImportFileError:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as found:
                error = found
                break
        else:
            number = 1
    return ImportFileError(
        f"{path}: line {number}: not UTF-8 text ({error.reason}); save the file as UTF-8"
    )


def _csv_rows(path: Path, kind: ImportKind, header_out: list[str]) -> Iterator[_Row]:
    reader = csv.reader(_lines(path))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError(f"{path}: the file is empty; it needs a header")
        header_out[:] = header
        names = [name.strip() for name in header]
        _check_header(path, kind, names)
        # A rejects file's reasons: kept in the header (the row's length is checked
        # against it) but never part of a row.
        ignored = names.index(ERROR_COLUMN) if ERROR_COLUMN in names else None
        last_line = reader.line_num
        for values in reader:
            line = last_line + 1
            last_line = reader.line_num
            # Cells joined by the unit separator: blank when every cell is (it counts as
            # white space), and the text an unchanged row is recognised by.
            joined = "\x1f".join(values)
            if not joined.strip():
                continue
            if "'" in joined:  # only then can a cell be defused (one search a row)
                values = [undefuse(value) for value in values]
                joined = "\x1f".join(values)
            if len(values) != len(names):
                uneven: dict[str, Any] = dict(zip(names, values, strict=False))
                uneven.pop(ERROR_COLUMN, None)
                uneven["__cells__"] = values
                yield line, uneven, None
                continue
            row = dict(zip(names, values, strict=True))
            if ignored is not None:
                del row[ERROR_COLUMN]
                joined = "\x1f".join(row.values())
            if joined.count("\x1f") != len(row) - 1:  # a separator inside a cell
                joined = repr(list(row.values()))
            yield line, row, joined
    except csv.Error as error:
        raise ImportFileError(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None


def _jsonl_rows(path: Path, kind: ImportKind) -> Iterator[_Row]:
    allowed = {*COLUMNS[kind], *OPTIONAL_COLUMNS[kind]}
    for line, text in enumerate(_lines(path), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as error:
            yield line, {"__error__": f"not valid JSON ({error})", "__text__": text}, None
            continue
        if not isinstance(value, dict):
            yield line, {"__error__": "each line must be one JSON object", "__text__": text}, None
            continue
        value.pop(ERROR_COLUMN, None)
        unknown = sorted(set(value) - allowed)
        if unknown:
            yield line, {**value, "__error__": f"unknown field {unknown[0]!r}"}, None
            continue
        yield line, value, text.strip()


def _check_header(path: Path, kind: ImportKind, names: list[str]) -> None:
    allowed = {*COLUMNS[kind], *OPTIONAL_COLUMNS[kind], ERROR_COLUMN}
    unknown = [name for name in names if name not in allowed]
    missing = [name for name in REQUIRED[kind] if name not in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if unknown:
        problems.append(f"unknown column {unknown[0]!r}")
    if missing:
        problems.append(f"missing column {missing[0]!r}")
    if repeated:
        problems.append(f"column {repeated[0]!r} appears twice")
    if problems:
        expected = ", ".join(COLUMNS[kind])
        raise ImportFileError(
            f"{path}: line 1: {'; '.join(problems)} (the {kind} columns are: {expected})"
        )


# ---------------------------------------------------------------------------- validation


class _RowInvalid(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    return value


def _list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    return value


def _timestamp(value: Any, zone: zoneinfo.ZoneInfo) -> Any:
    """ISO timestamps; a date or a time without offset is read in the business timezone."""
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


#: Customer columns an empty cell leaves alone; other empty cells clear the field, as a
#: blank does in the host app's own export.
_KEEP_WHEN_EMPTY = frozenset(
    {"consent_email", "consent_sms", "consent_phone", "consent_mail", "do_not_contact", "status"}
)


def _customer_data(raw: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in raw.items():
        empty = isinstance(value, str) and not value.strip()
        if empty and name in _KEEP_WHEN_EMPTY:
            continue
        if name in {"tags", "interests"}:
            data[name] = _list(value) if value is not None else []
        elif empty:
            data[name] = None
        elif name == "do_not_contact":
            data[name] = _flag(value)
        elif name.startswith("consent_") and isinstance(value, str):
            data[name] = value.strip().lower()
        else:
            data[name] = value
    data.setdefault("consent_source", "import")
    return data


def _history_data(
    kind: ImportKind, raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    data = {
        name: value
        for name, value in raw.items()
        if not (isinstance(value, str) and not value.strip() and name not in REQUIRED[kind])
    }
    for id_column in ("purchase_id", "interaction_id"):
        if id_column in data:
            data["external_id"] = data.pop(id_column)
    if "occurred_at" in data:
        data["occurred_at"] = _timestamp(data["occurred_at"], zone)
    for name in ("status", "kind", "direction"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip().lower()
    return data


def _validate(kind: ImportKind, raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo) -> Any:
    if "__error__" in raw:
        raise _RowInvalid([("(row)", str(raw["__error__"]))])
    if "__cells__" in raw:
        cells = len(raw["__cells__"])
        raise _RowInvalid([("(row)", f"has {cells} values, but the header has a different number")])
    models: dict[ImportKind, type[pydantic.BaseModel]] = {
        ImportKind.CUSTOMERS: CustomerIn,
        ImportKind.PURCHASES: PurchaseIn,
        ImportKind.INTERACTIONS: InteractionIn,
    }
    model = models[kind]
    data = _customer_data(raw) if kind is ImportKind.CUSTOMERS else _history_data(kind, raw, zone)
    try:
        valid = model.model_validate(data)
    except pydantic.ValidationError as error:
        raise _RowInvalid([(p.field, p.reason) for p in field_problems(error)]) from None
    if isinstance(valid, InteractionIn) and valid.external_id is None:
        # Without an id, the row's own content identifies it: importing twice adds nothing.
        digest = hashlib.sha256(
            json.dumps(valid.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()[:32]
        valid = valid.model_copy(update={"external_id": f"import:{digest}"})
    return valid


# ---------------------------------------------------------------------------- writing


def _write_batch(
    store: Store,
    kind: ImportKind,
    batch: list[tuple[int, Mapping[str, Any], Any]],
    result: ImportResult,
    report: Callable[[int, Mapping[str, Any], list[tuple[str, str]]], None],
    now: dt.datetime,
    digests: Mapping[str, str] | None = None,
) -> None:
    if kind is ImportKind.CUSTOMERS:
        summary = store.upsert_customers([model for _, _, model in batch], now, digests=digests)
    else:
        _, good = _of_stored_customers(store, batch, lambda model: model.customer_id, report)
        if not good:
            return
        if kind is ImportKind.PURCHASES:
            summary = store.record_purchases(good, now)
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


def _quick(kind: ImportKind, raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo) -> Any:
    if kind is ImportKind.CUSTOMERS:
        return fastpath.quick_customer(raw)
    if kind is ImportKind.PURCHASES:
        return fastpath.quick_purchase(raw, zone)
    return None


def _write_quick(
    store: Store,
    kind: ImportKind,
    quick: list[tuple[int, Mapping[str, Any], Any]],
    slow: list[tuple[int, Mapping[str, Any], Any]],
    result: ImportResult,
    report: Callable[[int, Mapping[str, Any], list[tuple[str, str]]], None],
    now: dt.datetime,
    touched: set[int],
    digests: Mapping[str, str] | None = None,
) -> list[tuple[int, Mapping[str, Any]]]:
    """Insert the fast-path rows that are surely new; return the others (line, raw) for
    the full path: rows whose key repeats in the batch or is already stored. The
    customers whose purchases were inserted are added to ``touched``: their rollups are
    refreshed once, at the end of the file."""
    session = store.session
    keys = [item.external_id for _, _, item in quick]
    slow_keys = {model.external_id for _, _, model in slow}
    seen = {key: keys.count(key) for key in keys} if len(set(keys)) != len(keys) else {}
    column = Customer.external_id if kind is ImportKind.CUSTOMERS else Purchase.external_id
    taken = stored_keys(session, column, [k for k in keys if k is not None])
    new: list[tuple[int, Mapping[str, Any], Any]] = []
    others: list[tuple[int, Mapping[str, Any]]] = []
    for line, raw, item in quick:
        key = item.external_id
        if key is not None and (key in taken or key in slow_keys or seen.get(key, 1) > 1):
            others.append((line, raw))
        else:
            new.append((line, raw, item))
    if kind is ImportKind.CUSTOMERS:
        fastpath.insert_customers(session, [item for _, _, item in new], now, digests)
        result.created += len(new)
        return others
    customer_ids, known = _of_stored_customers(store, new, lambda item: item.customer, report)
    result.created += fastpath.insert_purchases(
        session, known, customer_ids, currency=store.currency, now=now
    )
    touched.update(customer_ids[item.customer] for item in known)
    return others


class _Statistics:
    """Keeps PostgreSQL's planner statistics in step with a bulk load.

    Inside one long transaction the tables grow from nothing to millions of rows that no
    statistics describe yet, and PostgreSQL's planner then reads a whole table for each
    batch's lookup by external id. An ``ANALYZE`` each time the rows written pass 10,000,
    100,000, 1,000,000, ... keeps those lookups on their indexes (SQLite needs nothing).
    """

    TABLES: Mapping[ImportKind, tuple[str, ...]] = {
        ImportKind.CUSTOMERS: ("rapport_customer",),
        ImportKind.PURCHASES: ("rapport_purchase", "rapport_customer"),
        ImportKind.INTERACTIONS: ("rapport_interaction",),
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
        if not self._on:
            return
        for table in self.TABLES[self._kind]:
            self._session.execute(sql(f"ANALYZE {table}"))


def _check_rejects_path(rejects: Path, source: _Source) -> None:
    """Refuse, before anything is read, a rejects file that could not be written or read
    back: one in a folder that does not exist, or of another format than the file."""
    if not rejects.parent.is_dir():
        raise ImportFileError(
            f"rejects file {rejects}: the folder {rejects.parent} does not exist; create it "
            "or choose another path"
        )
    if rejects.is_dir():
        raise ImportFileError(f"rejects file {rejects}: is a folder; name a file")
    if _is_jsonl(rejects) != source.jsonl:
        wanted = "JSONL (ending .jsonl)" if source.jsonl else "CSV (not ending .jsonl)"
        raise ImportFileError(
            f"rejects file {rejects}: the rejects of {source.path.name} are written as it "
            f"is, so name a {wanted} file: importing it again reads it by its extension"
        )


class _RejectWriter:
    """The rejected rows as they were, each with its reasons in a trailing ``error`` column
    (or key). Opened at the first rejected row, so nothing rejected writes nothing; the
    file replaces ``path`` when ``files`` closes without an error."""

    def __init__(self, path: Path, source: _Source, files: ExitStack) -> None:
        self._path = path
        self._source = source
        self._files = files
        self._handle: TextIO | None = None
        self._csv: Any = None
        self._names: list[str] = []
        self._error_at = 0
        self.written = 0

    def write(self, line: int, raw: Mapping[str, Any], problems: list[tuple[str, str]]) -> None:
        error = f"line {line}: " + "; ".join(f"{name}: {why}" for name, why in problems)
        handle = self._open()
        if self._source.jsonl:
            if "__text__" in raw:
                # Not a JSON object: copied as written (its reason was reported).
                text = str(raw["__text__"])
                handle.write(text if text.endswith("\n") else text + "\n")
            else:
                row = {k: v for k, v in raw.items() if k not in {"__error__", ERROR_COLUMN}}
                row[ERROR_COLUMN] = error
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            if "__cells__" in raw:
                # The wrong number of cells: written as they were, the reason after them
                # (padding would make the row valid with empty cells, which clear fields).
                cells = [defuse(cell) for cell in raw["__cells__"]]
                cells.append(defuse(error))
            else:
                cells = [
                    defuse(error) if i == self._error_at else defuse(_cell(raw.get(name)))
                    for i, name in enumerate(self._names)
                ]
            self._csv.writerow(cells)
        self.written += 1

    def _open(self) -> TextIO:
        if self._handle is not None:
            return self._handle
        encoding = "utf-8"
        if not self._source.jsonl:
            with self._source.path.open("rb") as original:
                if original.read(3) == b"\xef\xbb\xbf":
                    encoding = "utf-8-sig"  # as the file was (spreadsheets want it back)
        try:
            self._handle = self._files.enter_context(replaced_whole(self._path, encoding=encoding))
        except OSError as error:
            raise ImportFileError(
                f"rejects file {self._path}: cannot be written ({error.strerror}); "
                "choose another path"
            ) from None
        if not self._source.jsonl:
            header = list(self._source.header)
            self._names = [name.strip() for name in header]
            if ERROR_COLUMN in self._names:  # a rejects file imported again: reasons renewed
                self._error_at = self._names.index(ERROR_COLUMN)
            else:
                self._error_at = len(header)
                header.append(ERROR_COLUMN)
                self._names.append(ERROR_COLUMN)
            self._csv = csv.writer(self._handle)
            self._csv.writerow(header)
        return self._handle


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
