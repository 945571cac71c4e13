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

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rapport._errors import NotFoundError
from rapport.models.enums import OPEN_TASK_STATUSES, CustomerStatus, TaskStatus
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
    cid = customer.id
    # An occasion waiting for staff is plan state, not history: it goes with the rest.
    for model in (CustomerTag, Interest, FamilyMember, ImportantDate, WaitingOccasion):
        session.execute(delete(model).where(model.customer_id == cid))
    session.execute(update(Purchase).where(Purchase.customer_id == cid).values(description=None))
    session.execute(update(Interaction).where(Interaction.customer_id == cid).values(summary=None))
    session.execute(
        update(Case).where(Case.customer_id == cid).values(summary=ERASED_TEXT, resolution=None)
    )
    session.execute(
        update(Promise).where(Promise.customer_id == cid).values(what=ERASED_TEXT, note=None)
    )
    session.execute(
        update(OutreachTask)
        .where(
            OutreachTask.customer_id == cid,
            OutreachTask.status.in_(OPEN_TASK_STATUSES),
        )
        .values(status=TaskStatus.CANCELLED, reason="erased", completed_at=now)
    )
    session.execute(
        update(OutreachTask)
        .where(OutreachTask.customer_id == cid)
        .values(
            subject=None,
            body=None,
            body_html=None,
            call_script=None,
            talking_points=None,
            context=None,
            outcome=None,
        )
    )
    session.execute(
        update(ConsentChange).where(ConsentChange.customer_id == cid).values(source=None)
    )
    session.execute(
        update(SurveyAnswer).where(SurveyAnswer.customer_id == cid).values(comment=None)
    )
    session.execute(
        update(Customer)
        .where(Customer.id == cid)
        .values(
            external_id=erased_id(customer.external_id),
            first_name=None,
            last_name=None,
            preferred_name=None,
            email=None,
            phone=None,
            address_line1=None,
            address_line2=None,
            postal_code=None,
            city=None,
            birth_month=None,
            birth_day=None,
            birth_year=None,
            notes=None,
            owner=None,
            consent_email_source=None,
            consent_sms_source=None,
            consent_phone_source=None,
            consent_mail_source=None,
            do_not_contact=True,
            status=CustomerStatus.INACTIVE,
            erased_at=now,
            updated_at=now,
            import_digest=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return True
