"""A customer's history as it stood on a plan's day, as SQL expressions over ``Customer``.

The rollups on ``Customer`` (first and last purchase, count, lifetime value, trailing
spend, last contact) describe history as it stands *now*, and the trailing spend is
aged to the day it was last refreshed. A plan for an earlier day must not see rows
dated after that day, nor a spend aged to another day. :class:`History` gives the rules
one expression per rollup:

* **current** (the usual case: nothing is dated after the plan's day and the trailing
  spend is aged to it) — the plain, indexed ``Customer`` columns;
* **past** — the same facts computed from the rows dated before the cutoff (the first
  instant of the business day after ``as_of``): a CASE keeps the rollup for customers
  with no later row, and a correlated subquery recomputes it for the others.

Deciding between the two costs a few small queries; nothing here writes. Refunds,
consent, customer status and whether a case or promise is still open are judged as
they are now (docs/rules.md, "History as of the plan's day").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from rapport.models.enums import PurchaseStatus
from rapport.models.tables import Customer, Interaction, Purchase
from rapport.store import trailing_spend_cutoff, trailing_spend_refreshed_to

# The rows a subquery reads, under their own names: a rule's query may select from the
# same tables (an event rule reads purchases), and must not correlate with them.
_Purchase = aliased(Purchase, name="history_purchase")
_Interaction = aliased(Interaction, name="history_interaction")


@dataclass(frozen=True)
class History:
    """SQL for a customer's purchases, spend and contacts as they stood on ``as_of``.

    ``cutoff`` is the first instant after ``as_of`` (business time): rows dated at or
    after it did not exist yet on the plan's day. ``current`` says the rollups already
    are that history, so every expression is the plain column.
    """

    as_of: dt.date
    cutoff: dt.datetime
    currency: str
    current: bool

    @classmethod
    def of(cls, session: Session, *, as_of: dt.date, cutoff: dt.datetime, currency: str) -> History:
        """The history of ``as_of``, in its fast form when the rollups describe that day."""
        current = _rollups_show(session, as_of, cutoff)
        return cls(as_of=as_of, cutoff=cutoff, currency=currency, current=current)

    # ------------------------------------------------------------------ conditions

    def before(self, moment: Any) -> ColumnElement[bool]:
        """SQL: ``moment`` (a timestamp column) happened by the end of ``as_of``."""
        return moment < self.cutoff  # type: ignore[no-any-return]

    def _completed(self) -> ColumnElement[bool]:
        return and_(
            _Purchase.customer_id == Customer.id,
            _Purchase.status == PurchaseStatus.COMPLETED,
            _Purchase.occurred_at < self.cutoff,
        )

    def _counted(self) -> ColumnElement[bool]:
        """Completed purchases in the business currency: those money rollups add up."""
        return and_(self._completed(), _Purchase.currency == self.currency)

    def _no_later_purchase(self) -> ColumnElement[bool]:
        """SQL: the customer's last completed purchase is before the cutoff (or none), so
        the purchase rollups are already as of the plan's day."""
        return or_(Customer.last_purchase_at.is_(None), Customer.last_purchase_at < self.cutoff)

    # ------------------------------------------------------------------ rollups

    @property
    def first_purchase_at(self) -> ColumnElement[Any]:
        """The first completed purchase by the plan's day."""
        if self.current:
            return Customer.first_purchase_at  # type: ignore[return-value]
        # The first purchase ever is the first one by any day that comes after it.
        return case(
            (Customer.first_purchase_at < self.cutoff, Customer.first_purchase_at), else_=None
        )

    @property
    def last_purchase_at(self) -> ColumnElement[Any]:
        """The last completed purchase by the plan's day."""
        if self.current:
            return Customer.last_purchase_at  # type: ignore[return-value]
        latest = select(func.max(_Purchase.occurred_at)).where(self._completed())
        return case(
            (self._no_later_purchase(), Customer.last_purchase_at),
            else_=latest.scalar_subquery(),
        )

    @property
    def purchase_count(self) -> ColumnElement[Any]:
        """Completed purchases by the plan's day."""
        if self.current:
            return Customer.purchase_count  # type: ignore[return-value]
        count = select(func.count(_Purchase.id)).where(self._completed())
        return case(
            (self._no_later_purchase(), Customer.purchase_count), else_=count.scalar_subquery()
        )

    @property
    def lifetime_value(self) -> ColumnElement[Any]:
        """What the completed purchases by the plan's day add up to (business currency)."""
        if self.current:
            return Customer.lifetime_value  # type: ignore[return-value]
        value = select(func.coalesce(func.sum(_Purchase.amount), 0)).where(self._counted())
        return case(
            (self._no_later_purchase(), Customer.lifetime_value), else_=value.scalar_subquery()
        )

    @property
    def spend_365d(self) -> ColumnElement[Any]:
        """The trailing-365-day spend as of the plan's day, as ``refresh_trailing_spend``
        defines it (completed purchases in the business currency since
        :func:`~rapport.store.trailing_spend_cutoff`)."""
        if self.current:
            return Customer.spend_365d  # type: ignore[return-value]
        start = trailing_spend_cutoff(self.as_of)
        spend = select(func.coalesce(func.sum(_Purchase.amount), 0)).where(
            self._counted(), _Purchase.occurred_at >= start
        )
        # Nobody whose last purchase is older than the window spent anything in it.
        return case(
            (
                or_(Customer.last_purchase_at.is_(None), Customer.last_purchase_at < start),
                literal(Decimal(0), Customer.spend_365d.type),
            ),
            else_=spend.scalar_subquery(),
        )

    @property
    def last_contact_at(self) -> ColumnElement[Any]:
        """The last contact by the plan's day: a purchase (of any status) or an
        interaction (which a completed task records), as the rollup counts them."""
        if self.current:
            return Customer.last_contact_at  # type: ignore[return-value]
        purchase = (
            select(func.max(_Purchase.occurred_at))
            .where(_Purchase.customer_id == Customer.id, _Purchase.occurred_at < self.cutoff)
            .scalar_subquery()
        )
        interaction = (
            select(func.max(_Interaction.occurred_at))
            .where(_Interaction.customer_id == Customer.id, _Interaction.occurred_at < self.cutoff)
            .scalar_subquery()
        )
        later = case(
            (purchase.is_(None), interaction),
            (interaction.is_(None), purchase),
            (interaction > purchase, interaction),
            else_=purchase,
        )
        return case(
            (
                or_(Customer.last_contact_at.is_(None), Customer.last_contact_at < self.cutoff),
                Customer.last_contact_at,
            ),
            else_=later,
        )


def _rollups_show(session: Session, as_of: dt.date, cutoff: dt.datetime) -> bool:
    """Whether the ``Customer`` rollups are exactly the history of ``as_of``.

    True when no purchase or interaction is dated at or after ``cutoff`` (the last
    contact, indexed, is the latest of both), and every trailing spend counts the same
    purchases it would as of ``as_of``: no purchase lies between the start of the window
    of ``as_of`` and the start of the window any spend is aged to. A spend is aged to
    its ``spend_365d_as_of`` or, when older, to the last refresh (the checkpoint; see
    ``Store.refresh_trailing_spend``).
    """
    latest_contact = session.scalar(select(func.max(Customer.last_contact_at)))
    if latest_contact is not None and latest_contact >= cutoff:
        return False
    # Both ends come from the spend_365d_as_of index; the oldest spend only matters
    # (and is only read) when no refresh has aged them all yet.
    newest = session.scalar(select(func.max(Customer.spend_365d_as_of)))
    refreshed_to = trailing_spend_refreshed_to(session) or session.scalar(
        select(Customer.spend_365d_as_of)
        .where(Customer.spend_365d > 0, Customer.spend_365d_as_of.is_not(None))
        .order_by(Customer.spend_365d_as_of)
        .limit(1)
    )
    aged = [day for day in (newest, refreshed_to) if day]
    if not aged:
        return True  # no spend was ever computed: nobody has a purchase
    low = trailing_spend_cutoff(min(as_of, *aged))
    high = trailing_spend_cutoff(max(as_of, *aged))
    if low == high:
        return True
    between = select(Purchase.id).where(Purchase.occurred_at >= low, Purchase.occurred_at < high)
    return session.scalar(between.limit(1)) is None
