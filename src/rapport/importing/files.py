"""Reading the files (CSV or JSONL, streamed) and writing the rejects file.

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
import io
import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from rapport._cells import defuse, replaced_whole, undefuse
from rapport.importing.kinds import (
    COLUMNS,
    ERROR_COLUMN,
    OPTIONAL_COLUMNS,
    REQUIRED,
    ImportFileError,
    ImportKind,
)

# ---------------------------------------------------------------------------- reading


def is_jsonl(path: Path) -> bool:
    """Whether a file is read (and its rejects written) as JSONL: by its extension."""
    return path.suffix.lower() in {".jsonl", ".ndjson"}


#: A row as read: its line number, its cells by column, and its text (see Source.rows).
Row = tuple[int, dict[str, Any], str | None]


class Source:
    """The file being imported: its rows, and (once read) its header as written, which
    its rejects file repeats."""

    def __init__(self, path: Path, kind: ImportKind) -> None:
        self.path = path
        self.kind = kind
        self.jsonl = is_jsonl(path)
        self.header: list[str] = []

    def rows(self) -> Iterator[Row]:
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


def _csv_rows(path: Path, kind: ImportKind, header_out: list[str]) -> Iterator[Row]:
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


def _jsonl_rows(path: Path, kind: ImportKind) -> Iterator[Row]:
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


def check_rejects_path(rejects: Path, source: Source) -> None:
    """Refuse, before anything is read, a rejects file that could not be written or read
    back: one in a folder that does not exist, or of another format than the file."""
    if not rejects.parent.is_dir():
        raise ImportFileError(
            f"rejects file {rejects}: the folder {rejects.parent} does not exist; create it "
            "or choose another path"
        )
    if rejects.is_dir():
        raise ImportFileError(f"rejects file {rejects}: is a folder; name a file")
    if is_jsonl(rejects) != source.jsonl:
        wanted = "JSONL (ending .jsonl)" if source.jsonl else "CSV (not ending .jsonl)"
        raise ImportFileError(
            f"rejects file {rejects}: the rejects of {source.path.name} are written as it "
            f"is, so name a {wanted} file: importing it again reads it by its extension"
        )


class RejectWriter:
    """The rejected rows as they were, each with its reasons in a trailing ``error`` column
    (or key). Opened at the first rejected row, so nothing rejected writes nothing; the
    file replaces ``path`` when ``files`` closes without an error."""

    def __init__(self, path: Path, source: Source, files: ExitStack) -> None:
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
