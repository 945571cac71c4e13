"""What every part of the :class:`~rapport.store.Store` stands on: the session and the
business's settings, finding a customer (or a row a customer owns) by id, and the
detached, validated copies of rows that callers get back.

Each aggregate's module adds its methods to a subclass of :class:`StoreBase`; the
public ``Store`` is their composition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rapport._errors import NotFoundError
from rapport.dates import PartialDate
from rapport.models.enums import Channel
from rapport.models.schemas import (
    CaseOut,
    Consent,
    CustomerOut,
    InteractionOut,
    PromiseOut,
    PurchaseOut,
    SurveyAnswerOut,
    TaskOut,
)
from rapport.models.tables import Customer
from rapport.store.rows import stored_rows

_Out = TypeVar("_Out", PurchaseOut, InteractionOut, CaseOut, PromiseOut, TaskOut, SurveyAnswerOut)


@dataclass(frozen=True)
class WriteSummary:
    """What a batch write did: rows created, and rows that were already there."""

    created: int
    unchanged: int
    updated: int = 0


class StoreBase:
    """rapport's reads and writes on one session.

    ``currency`` is the business currency: money rollups (lifetime value, trailing
    spend) add up purchases in that currency only, since rapport keeps no exchange rates.
    """

    def __init__(self, session: Session, *, currency: str, timezone: str = "UTC") -> None:
        self.session = session
        self.currency = currency
        self.timezone = timezone

    def customer_ids(self, external_ids: Iterable[str]) -> dict[str, int]:
        """Map external ids to internal ids; unknown ids are simply absent."""
        found = stored_rows(self.session, Customer.external_id, external_ids, Customer.id)
        return {external_id: row.id for external_id, row in found.items()}

    def require_customer_ids(self, external_ids: Iterable[str]) -> dict[str, int]:
        external_ids = list(external_ids)
        found = self.customer_ids(external_ids)
        missing = sorted(set(external_ids) - found.keys())
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise NotFoundError(
                f"no customer with external_id {shown}{more}; upsert the customer first"
            )
        return found

    def require_customer_id(self, external_id: str) -> int:
        return self.require_customer_ids([external_id])[external_id]

    def _customer(self, external_id: str) -> Customer:
        customer = self.session.scalar(
            select(Customer)
            .where(Customer.external_id == external_id)
            .options(selectinload(Customer.tags))
        )
        if customer is None:
            raise NotFoundError(
                f"no customer with external_id {external_id!r}; upsert the customer first"
            )
        return customer

    def _owned(self, model: type[Any], row_id: int, what: str) -> tuple[Any, str]:
        """A customer's row (case, promise, task) by id, with the customer's external id."""
        found = self.session.execute(
            select(model, Customer.external_id)
            .join(Customer, Customer.id == model.customer_id)
            .where(model.id == row_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no {what} with id {row_id}")
        return found[0], found[1]


# ---------------------------------------------------------------------- row conversion


def birthday_of(month: int | None, day: int | None, year: int | None) -> PartialDate | None:
    """A stored birthday's columns as a date, or None when month or day is missing."""
    if month is None or day is None:
        return None
    return PartialDate(month=month, day=day, year=year)


def customer_out(customer: Customer) -> CustomerOut:
    """A detached, validated copy of a customer row."""
    consent = {
        channel: Consent(
            state=getattr(customer, f"consent_{channel.value}"),
            changed_at=getattr(customer, f"consent_{channel.value}_at"),
            source=getattr(customer, f"consent_{channel.value}_source"),
        )
        for channel in Channel
    }
    fields = {
        name: getattr(customer, name)
        for name in CustomerOut.model_fields
        if name not in {"birthday", "tags", "consent"}
    }
    return CustomerOut(
        **fields,
        birthday=birthday_of(customer.birth_month, customer.birth_day, customer.birth_year),
        tags=[t.tag for t in customer.tags],
        consent=consent,
    )


def owned_out(schema: type[_Out], row: Any, customer_external_id: str) -> _Out:
    """A detached copy of a customer's row (purchase, interaction, case, promise), with
    ``customer_id`` given as the customer's external id."""
    fields = {name: getattr(row, name) for name in schema.model_fields if name != "customer_id"}
    return schema(customer_id=customer_external_id, **fields)
