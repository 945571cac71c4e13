"""The top segment as a union of index lookups selects exactly the customers its plain
``OR`` did: the same members, combined with other conditions and joins as the rules
combine them, with the rollup's spend and with a spend computed as of an earlier day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, Engine, false, insert, or_, select
from sqlalchemy.orm import Session

from rapport.models.enums import CustomerStatus, PurchaseStatus, Relation
from rapport.models.tables import Customer, CustomerTag, FamilyMember, Purchase
from rapport.rules.history import History
from rapport.rules.segments import top_segment, top_spend_threshold

AT = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def or_form(
    session: Session, top_share: float, tag: str | None, *also: Any, spend: Any = None
) -> ColumnElement[bool]:
    """The segment as it was written before it became a union: one ``OR`` per customer."""
    spend = Customer.spend_365d if spend is None else spend
    members = list(also)
    if tag:
        members.append(
            select(CustomerTag.customer_id)
            .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == tag)
            .exists()
        )
    threshold = top_spend_threshold(session, top_share, spend)
    if threshold is not None:
        members.append((spend >= threshold) & (Customer.status == CustomerStatus.ACTIVE))
    return or_(false(), *members)


customers = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(list(CustomerStatus)),
            "spend": st.sampled_from([0, 0, 10, 50, 50, 120, 900]),
            "every": st.sampled_from([None, None, None, 30, 90]),
            "tags": st.sets(st.sampled_from(["vip", "wholesale"])),
            "contact_days_ago": st.integers(min_value=0, max_value=400),
            "purchases": st.lists(
                st.tuples(st.integers(min_value=0, max_value=500), st.sampled_from([20, 200])),
                max_size=3,
            ),
        }
    ),
    max_size=25,
)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session in a transaction rolled back at the end: each example starts empty."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield Session(bind=connection, join_transaction_mode="create_savepoint")
        finally:
            transaction.rollback()


def _store(session: Session, people: list[dict[str, Any]]) -> None:
    for n, person in enumerate(people, start=1):
        customer_id = session.execute(
            insert(Customer)
            .values(
                external_id=f"C-{n}",
                status=person["status"],
                spend_365d=Decimal(person["spend"]),
                spend_365d_as_of=AT.date(),
                check_in_every_days=person["every"],
                last_contact_at=AT - dt.timedelta(days=person["contact_days_ago"]),
                created_at=AT,
                updated_at=AT,
            )
            .returning(Customer.id)
        ).scalar_one()
        for tag in sorted(person["tags"]):
            session.execute(insert(CustomerTag).values(customer_id=customer_id, tag=tag))
        for days_ago, amount in person["purchases"]:
            session.execute(
                insert(Purchase).values(
                    customer_id=customer_id,
                    occurred_at=AT - dt.timedelta(days=days_ago),
                    amount=Decimal(amount),
                    currency="EUR",
                    status=PurchaseStatus.COMPLETED,
                    created_at=AT,
                )
            )
        session.execute(
            insert(FamilyMember).values(
                customer_id=customer_id, name=f"Kid {n}", relation=Relation.CHILD
            )
        )


def _ids(session: Session, stmt: Any) -> list[int]:
    return sorted(session.scalars(stmt))


@settings(max_examples=40, deadline=None)
@given(
    people=customers,
    top_share=st.sampled_from([0.0, 0.2, 0.5, 1.0]),
    tag=st.sampled_from([None, "vip"]),
    own_rhythm=st.booleans(),
    past=st.booleans(),
)
def test_the_union_selects_exactly_the_customers_of_the_or(
    engine: Engine,
    people: list[dict[str, Any]],
    top_share: float,
    tag: str | None,
    own_rhythm: bool,
    past: bool,
) -> None:
    with rolled_back(engine) as session:
        _store(session, people)
        _same_customers(session, top_share, tag, own_rhythm, past)


def _same_customers(
    session: Session, top_share: float, tag: str | None, own_rhythm: bool, past: bool
) -> None:
    also = [Customer.check_in_every_days.is_not(None)] if own_rhythm else []
    # A plan for an earlier day judges the spend computed from that day's purchases.
    history = History(
        as_of=dt.date(2026, 6, 1),
        cutoff=dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
        currency="EUR",
        current=not past,
    )
    spend = history.spend_365d
    union = top_segment(session, top_share, tag, *also, spend=spend)
    plain = or_form(session, top_share, tag, *also, spend=spend)
    stale = Customer.last_contact_at < AT - dt.timedelta(days=90)
    # Alone, beside another condition (as the check-in call's query), and in a join from
    # another table (as the family birthday's).
    assert _ids(session, select(Customer.id).where(union)) == _ids(
        session, select(Customer.id).where(plain)
    )
    assert _ids(session, select(Customer.id).where(union, stale)) == _ids(
        session, select(Customer.id).where(plain, stale)
    )
    joined = select(FamilyMember.id).join(Customer, Customer.id == FamilyMember.customer_id)
    assert _ids(session, joined.where(union)) == _ids(session, joined.where(plain))


def test_a_segment_with_no_members_selects_nobody(engine: Engine) -> None:
    nobody_spent = {"status": "active", "spend": 0, "every": None, "tags": set()}
    with rolled_back(engine) as session:
        _store(session, [{**nobody_spent, "contact_days_ago": 1, "purchases": []}])
        assert _ids(session, select(Customer.id).where(top_segment(session, 0.2, None))) == []
