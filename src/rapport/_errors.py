"""The errors rapport raises.

Every error derives from :class:`RapportError`, so a host app can catch one class::

    RapportError
    ├── InvalidInputError     a value was rejected at the boundary; nothing was written
    │   └── ImportRejected    a file had bad rows; nothing was imported
    ├── NotFoundError         a customer, purchase, case, promise or task does not exist
    ├── StateError            the operation does not fit the record's current state
    ├── SchemaError           the database has no (or an older) rapport schema
    ├── ConfigError           a setting is unknown or has a bad value (names the key path)
    ├── TemplateError         a message template is missing, broken, or tried something unsafe
    └── DatabaseError         the database refused the work (wraps SQLAlchemy's errors)

Each message says what went wrong and what to do about it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pydantic


class RapportError(Exception):
    """Base class of every error raised by rapport."""


@dataclass(frozen=True)
class FieldProblem:
    """One rejected value: where it was, what it was, and why it was rejected."""

    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidInputError(RapportError, ValueError):
    """Input was rejected by validation; nothing was written.

    ``problems`` lists every rejected value, so a caller can show them all at once.
    """

    def __init__(self, problems: Sequence[FieldProblem], *, subject: str | None = None) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        prefix = f"{subject}: " if subject else ""
        details = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"{prefix}{details}")


class ImportRejected(InvalidInputError):
    """An import file had bad rows, so nothing was imported; ``result`` lists them."""

    def __init__(self, result: Any) -> None:
        self.result = result
        problems = [
            FieldProblem(f"line {p.line}: {p.field}", None, p.reason) for p in result.problems
        ]
        super().__init__(
            problems,
            subject=f"{result.rejected} of {result.rows} rows rejected, nothing imported",
        )


class NotFoundError(RapportError, LookupError):
    """The record named by the caller does not exist."""


class StateError(RapportError):
    """The record exists but its state does not allow the operation."""


class SchemaError(RapportError):
    """The database has no rapport tables, or an older version of them."""


class ConfigError(RapportError, ValueError):
    """A configuration key is unknown or its value is bad; the message names the key path."""


class TemplateError(RapportError):
    """A message template is missing in every language, does not compile, uses an
    unknown variable, or tried to reach Python internals; names the template and line."""

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None):
        self.template = template
        self.line = line
        super().__init__(message)


class DatabaseError(RapportError):
    """The database refused an operation; the original error is the ``__cause__``."""


def _names(reason: str, text: str) -> bool:
    """Whether ``reason`` shows ``text`` as a word of its own (``no`` is not shown by
    ``'unknown'``; ``-5`` is by ``amount -5 is negative``)."""
    return bool(text) and re.search(rf"(?<!\w){re.escape(text)}(?!\w)", reason) is not None


def field_problems(error: pydantic.ValidationError) -> list[FieldProblem]:
    """pydantic's errors as :class:`FieldProblem` values naming the field and the value."""
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(row)"
        value = item.get("input")
        reason = str(item["msg"]).removeprefix("Value error, ")
        shown = repr(value) in reason or _names(reason, str(value))
        if item["type"] != "missing" and not isinstance(value, Mapping | list) and not shown:
            reason = f"{reason} (got {value!r})"
        problems.append(FieldProblem(field=field, value=value, reason=reason))
    return problems
