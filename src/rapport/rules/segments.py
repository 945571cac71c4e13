"""The top segment: the customers who matter most, as SQL conditions.

The top ``top_share`` of active customers by trailing-365-day spend (among those who
spent anything), plus customers tagged ``tag``. The spend threshold is read with one
ordered query on the indexed spend column; the rest is a ``WHERE`` clause: "the id is in
the union of" one index lookup per kind of member, since an ``OR`` of them (and of a
tag's ``EXISTS``) makes the database test every customer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true, union
from sqlalchemy.orm import Session

from rapport.models.enums import CustomerStatus
from rapport.models.tables import Customer, CustomerTag


def top_spend_threshold(session: Session, top_share: float, spend: Any = None) -> Any:
    """The smallest trailing spend still inside the top share, or None for nobody.

    ``spend`` is the trailing spend to rank by (default: the rollup; a plan passes its
    :class:`~rapport.rules.history.History`'s, so an earlier day ranks that day's spend).
    """
    spend = Customer.spend_365d if spend is None else spend
    spenders = (Customer.status == CustomerStatus.ACTIVE) & (spend > 0)
    count = session.scalar(select(func.count()).select_from(Customer).where(spenders)) or 0
    top = math.ceil(top_share * count)
    if top == 0:
        return None
    return session.scalar(
        select(spend)
        .select_from(Customer)
        .where(spenders)
        .order_by(spend.desc())
        .offset(top - 1)
        .limit(1)
    )


def top_segment(
    session: Session,
    top_share: float,
    tag: str | None,
    *also: ColumnElement[bool],
    thresholds: dict[float, Any] | None = None,
    spend: Any = None,
    among: Callable[[Any], ColumnElement[bool]] | None = None,
) -> ColumnElement[bool]:
    """SQL for "in the top segment" (or any of ``also``).

    ``thresholds`` keeps the spend threshold of each share for the rules of one plan (it
    does not change while they run). ``spend`` is the trailing spend to judge by, as in
    :func:`top_spend_threshold`. ``among`` (SQL for "this customer id is in the plan's
    shard") narrows each member to the shard, for a query that is narrowed anyway: one
    customer's membership is then a few index lookups, not the whole segment.
    """
    spend = Customer.spend_365d if spend is None else spend

    def mine(column: Any) -> ColumnElement[bool]:
        return true() if among is None else among(column)

    # Each member is a query of its own (correlate(None): it reads its own table, not
    # the customer row of the query it is put in), answered from an index.
    members: list[Select[Any]] = [
        select(Customer.id).where(also_, mine(Customer.id)) for also_ in also
    ]
    if tag:
        members.append(
            select(CustomerTag.customer_id).where(
                CustomerTag.tag == tag, mine(CustomerTag.customer_id)
            )
        )
    if thresholds is None:
        threshold = top_spend_threshold(session, top_share, spend)
    else:
        if top_share not in thresholds:
            thresholds[top_share] = top_spend_threshold(session, top_share, spend)
        threshold = thresholds[top_share]
    if threshold is not None:
        members.append(
            select(Customer.id).where(
                Customer.status == CustomerStatus.ACTIVE, spend >= threshold, mine(Customer.id)
            )
        )
    if not members:
        return false()
    return Customer.id.in_(union(*(member.correlate(None) for member in members)))
