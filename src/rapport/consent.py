"""Consent applied to tasks already planned, so a "no" takes effect at once.

The planner never plans a task the customer has not allowed. A customer can say no
*after* a task was planned, though: they withdraw a channel, ask not to be contacted,
or become inactive or deceased. From then on the open tasks on that channel would
contact someone who said no. So every write that can take consent away cancels them in
the same transaction, and each plan does it again for changes a host app made straight
in its tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from rapport.config import ConsentDefaults
from rapport.models.enums import (
    OPEN_TASK_STATUSES,
    Channel,
    ConsentState,
    CustomerStatus,
)
from rapport.models.tables import Customer, OutreachTask
from rapport.store.tasks import cancel_tasks


def not_allowed(channel: Channel, defaults: ConsentDefaults) -> ColumnElement[bool]:
    """SQL for "this customer has not allowed ``channel``", as the planner decides it."""
    state: InstrumentedAttribute[ConsentState] = getattr(Customer, f"consent_{channel.value}")
    if defaults.allows_unknown(channel):
        return state == ConsentState.REFUSED
    return state != ConsentState.GRANTED


def reachable_on(channels: Sequence[Channel], defaults: ConsentDefaults) -> ColumnElement[bool]:
    """SQL for "allows one of ``channels`` and has the details to be reached on it", the
    planner's own choice of channel, for rules that draw a limited number of customers."""

    def given(column: InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
        return and_(column.is_not(None), column != "")

    details = {
        Channel.MAIL: and_(
            given(Customer.address_line1), or_(given(Customer.city), given(Customer.postal_code))
        ),
        Channel.EMAIL: given(Customer.email),
        Channel.SMS: given(Customer.phone),
        Channel.PHONE: given(Customer.phone),
    }
    return or_(*(and_(~not_allowed(c, defaults), details[c]) for c in channels))


def cancel_without_consent(
    session: Session,
    now: dt.datetime,
    defaults: ConsentDefaults,
    customer_ids: Collection[int] | None = None,
) -> int:
    """Cancel the open tasks that would contact a customer on a channel they do not allow.

    Tasks for staff only (no channel) stay. The reason on the cancelled task says why:
    ``deceased``, ``inactive``, ``do_not_contact`` or ``no_consent``. Returns how many
    tasks were cancelled; ``customer_ids`` limits the work to those customers.
    """
    if customer_ids is not None and not customer_ids:
        return 0
    reason = case(
        (Customer.status == CustomerStatus.DECEASED, "deceased"),
        (Customer.status == CustomerStatus.INACTIVE, "inactive"),
        (Customer.do_not_contact.is_(True), "do_not_contact"),
        *[
            (
                and_(OutreachTask.channel == channel.value, not_allowed(channel, defaults)),
                "no_consent",
            )
            for channel in Channel
        ],
        else_=None,
    ).label("reason")
    # One pass over the open tasks, each joined to its customer by primary key; only the
    # tasks to cancel (normally none) come back to Python.
    found = (
        select(OutreachTask.id, reason)
        .join(Customer, Customer.id == OutreachTask.customer_id)
        .where(
            OutreachTask.status.in_(OPEN_TASK_STATUSES),
            OutreachTask.channel.is_not(None),
            reason.is_not(None),
        )
    )
    if customer_ids is not None:
        found = found.where(OutreachTask.customer_id.in_(sorted(customer_ids)))
    by_reason: dict[str, list[int]] = defaultdict(list)
    for task_id, why in session.execute(found):
        by_reason[why].append(task_id)
    return sum(cancel_tasks(session, ids, why, now) for why, ids in by_reason.items())
