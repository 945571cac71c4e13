"""What an import reads and reports: the kinds of file, their columns, a rejected
row, the result, and the error for a file that cannot be read at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rapport._errors import RapportError

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
