"""A customer's data on request: everything about them (GDPR articles 15 and 20), and its
erasure (article 17).

Erasure removes or blanks every personal value — names, contact details, address,
birthday, notes, tags, interests, family, important dates, purchase descriptions, the free
text of interactions, cases, promises, survey answers and tasks — cancels open tasks, and keeps the
anonymous aggregates (amounts, dates, counts, rollups) so reports stay right. The
customer's external id is replaced by a one-way hash of it, so erasing again finds the
same record and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport._errors import NotFoundError
from rapport.models.tables import (
    Base,
    Case,
    ConsentChange,
    Customer,
    CustomerTag,
    FamilyMember,
    ImportantDate,
    Interaction,
    Interest,
    OutreachTask,
    Promise,
    Purchase,
    SurveyAnswer,
    WaitingOccasion,
)
from rapport.store.consent import erase_consent_sources
from rapport.store.customers import erase_profile
from rapport.store.history import erase_history_text
from rapport.store.tasks import erase_tasks
from rapport.store.waiting import drop_waiting

ERASED_TEXT = "[erased]"
_RELATED: tuple[type[Base], ...] = (
    CustomerTag,
    Interest,
    FamilyMember,
    ImportantDate,
    Purchase,
    Interaction,
    Case,
    Promise,
    OutreachTask,
    ConsentChange,
    SurveyAnswer,
    WaitingOccasion,
)


def erased_id(external_id: str) -> str:
    """The pseudonymous id an erased customer keeps (the same for the same original id)."""
    return "erased-" + hashlib.sha256(external_id.encode()).hexdigest()[:32]


def _find(session: Session, external_id: str) -> Customer:
    for candidate in (external_id, erased_id(external_id)):
        customer = session.scalar(select(Customer).where(Customer.external_id == candidate))
        if customer is not None:
            return customer
    raise NotFoundError(f"no customer with external_id {external_id!r}")


def _plain(row: Base) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}


def export_customer(session: Session, external_id: str) -> dict[str, Any]:
    """Every row about the customer, as one JSON-ready document."""
    customer = _find(session, external_id)
    document: dict[str, Any] = {"customer": _plain(customer)}
    for model in _RELATED:
        key = model.__tablename__.removeprefix("rapport_")
        owned: Any = model
        rows = session.scalars(
            select(owned)
            .where(owned.customer_id == customer.id)
            .order_by(*owned.__table__.primary_key)
        )
        document[key] = [_plain(row) for row in rows]
    return document


def erase_customer(session: Session, external_id: str, now: dt.datetime) -> bool:
    """Erase the customer's personal data; returns False when it was already erased."""
    customer = _find(session, external_id)
    if customer.erased_at is not None:
        return False
    pseudonym = erased_id(customer.external_id)
    erase_profile(session, customer.id, pseudonym, now)
    erase_history_text(session, customer.id, ERASED_TEXT)
    erase_tasks(session, customer.id, now)
    erase_consent_sources(session, customer.id)
    # An occasion waiting for staff is plan state, not history: it goes with the rest.
    drop_waiting(session, customer.id)
    session.expire_all()
    return True
