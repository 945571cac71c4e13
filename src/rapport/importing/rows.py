"""A file's row as the schema reads it: cells to values, then the pydantic model.

The models in :mod:`rapport.models.schemas` are the one declaration of what a row may
hold; an import and a Python caller validate through them alike, so their messages
(line, field, value, what to write instead) are the same everywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Mapping
from typing import Any

import pydantic

from rapport._errors import field_problems
from rapport.importing.kinds import REQUIRED, ImportKind
from rapport.models.schemas import CustomerIn, InteractionIn, PurchaseIn

#: How list cells (tags, interests) separate their items.
LIST_SEPARATOR = ";"
#: The words a yes/no cell may hold.
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


class RowInvalid(Exception):
    """A row that cannot be stored, with each (field, reason) that says why."""

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


_LIST_COLUMNS = frozenset({"tags", "interests"})


def _customer_data(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A customer row as the schema reads it: lists split, flags and consent words read,
    empty cells None (or absent, for the columns an empty cell leaves alone)."""
    data: dict[str, Any] = {"consent_source": "import"}
    for name, value in raw.items():
        if not isinstance(value, str):
            data[name] = [] if value is None and name in _LIST_COLUMNS else value
        elif not value or value.isspace():
            if name not in _KEEP_WHEN_EMPTY:
                data[name] = [] if name in _LIST_COLUMNS else None
        elif name in _LIST_COLUMNS:
            data[name] = _list(value)
        elif name == "do_not_contact":
            data[name] = _flag(value)
        elif name.startswith("consent_"):
            data[name] = value.strip().lower()
        else:
            data[name] = value
    return data


#: The files' id columns, as the schemas name them.
_ID_COLUMNS = {"purchase_id": "external_id", "interaction_id": "external_id"}
#: Columns whose words are read in any case.
_LOWERED = frozenset({"status", "kind", "direction"})


def _history_data(
    kind: ImportKind, raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    """A purchase or interaction row as the schema reads it: empty optional cells left
    out, ids renamed, words lowered, times read in the business's zone."""
    required = REQUIRED[kind]
    data: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if (not value or value.isspace()) and name not in required:
                continue
            if name in _LOWERED:
                value = value.strip().lower()
        data[_ID_COLUMNS.get(name, name)] = value
    if "occurred_at" in data:
        data["occurred_at"] = _timestamp(data["occurred_at"], zone)
    return data


def validate_row(kind: ImportKind, raw: Mapping[str, Any], zone: zoneinfo.ZoneInfo) -> Any:
    """The row as its kind's input model (``CustomerIn``, ``PurchaseIn``,
    ``InteractionIn``), or :class:`RowInvalid`; times without an offset are in ``zone``."""
    if "__error__" in raw:
        raise RowInvalid([("(row)", str(raw["__error__"]))])
    if "__cells__" in raw:
        cells = len(raw["__cells__"])
        raise RowInvalid([("(row)", f"has {cells} values, but the header has a different number")])
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
        raise RowInvalid([(p.field, p.reason) for p in field_problems(error)]) from None
    if isinstance(valid, InteractionIn) and valid.external_id is None:
        # Without an id, the row's own content identifies it: importing twice adds nothing.
        digest = hashlib.sha256(
            json.dumps(valid.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()[:32]
        valid = valid.model_copy(update={"external_id": f"import:{digest}"})
    return valid
