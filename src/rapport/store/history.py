"""A customer's history: purchases and refunds, interactions, service cases, promises
and survey answers.

The one owner of those tables' SQL. A write that changes what the rollups add up
(a purchase, a refund, an interaction) refreshes them in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rapport._errors import NotFoundError, StateError
from rapport.models.enums import CaseStatus, PromiseStatus, PurchaseStatus
from rapport.models.schemas import (
    CaseIn,
    CaseOut,
    InteractionIn,
    InteractionOut,
    PromiseIn,
    PromiseOut,
    PurchaseIn,
    PurchaseOut,
    SurveyAnswerOut,
    SurveyIn,
)
from rapport.models.tables import Case, Customer, Interaction, Promise, Purchase, SurveyAnswer
from rapport.rhythm import Visit
from rapport.store._base import WriteSummary, owned_out
from rapport.store.rollups import RollupStore
from rapport.store.rows import chunked, insert_new
from rapport.store.tasks import TaskStore


def _new_purchase_row(
    purchase: PurchaseIn, customer_id: int, currency: str, now: dt.datetime
) -> dict[str, Any]:
    """The columns of a purchase stored now; without a currency it is the business's."""
    return {
        "customer_id": customer_id,
        "external_id": purchase.external_id,
        "occurred_at": purchase.occurred_at,
        "amount": purchase.amount,
        "currency": purchase.currency or currency,
        "description": purchase.description,
        "category": purchase.category,
        "status": purchase.status,
        "refunded_at": now if purchase.status is PurchaseStatus.REFUNDED else None,
        "created_at": now,
    }


class RecentHistory(NamedTuple):
    """A customer's latest history, as their profile shows it."""

    purchases: list[PurchaseOut]
    interactions: list[InteractionOut]
    open_cases: list[CaseOut]
    open_promises: list[PromiseOut]
    #: Completed purchases since the day asked for, for the customer's rhythm.
    visits: list[Visit]


class HistoryStore(RollupStore, TaskStore):
    """Writes and reads of purchases, interactions, cases, promises and surveys."""

    # ------------------------------------------------------------------ purchases

    def record_purchase(self, purchase: PurchaseIn, now: dt.datetime) -> PurchaseOut:
        """Record one purchase and return it (the stored one, when its id is known)."""
        _, created = self._record_purchases([purchase], now)
        if created:
            return self._purchase(created[0])
        assert purchase.external_id is not None
        return self.get_purchase(purchase.external_id)

    def record_purchases(
        self,
        purchases: Sequence[PurchaseIn],
        now: dt.datetime,
        *,
        exclusive: bool = False,
        touched: set[int] | None = None,
        customer_ids: Mapping[str, int] | None = None,
    ) -> WriteSummary:
        """Insert purchases; one whose ``external_id`` is already stored is left alone.

        A repeated purchase that now says ``refunded`` refunds the stored one, so
        re-importing a shop's export picks up its refunds. The customers' rollups are
        refreshed, unless ``touched`` is given: then their ids are added to it, for the
        caller to refresh once (an import does, at the end of the file). ``exclusive``:
        see :func:`~rapport.store.rows.insert_new`. ``customer_ids``: the ids of every
        purchase's customer, when the caller has looked them up already.
        """
        return self._record_purchases(
            purchases, now, exclusive=exclusive, touched=touched, customer_ids=customer_ids
        )[0]

    def _record_purchases(
        self,
        purchases: Sequence[PurchaseIn],
        now: dt.datetime,
        *,
        exclusive: bool = False,
        touched: set[int] | None = None,
        customer_ids: Mapping[str, int] | None = None,
    ) -> tuple[WriteSummary, list[int]]:
        if customer_ids is None:
            ids = self.require_customer_ids(p.customer_id for p in purchases)
        else:
            ids = {p.customer_id: customer_ids[p.customer_id] for p in purchases}
        rows = [_new_purchase_row(p, ids[p.customer_id], self.currency, now) for p in purchases]
        fresh, created = insert_new(
            self.session, Purchase, rows, "external_id", exclusive=exclusive
        )
        refunded = {
            p.external_id
            for p in purchases
            if p.external_id is not None and p.status is PurchaseStatus.REFUNDED
        }
        owners = self._refund(refunded, now) if refunded else []
        if touched is None:
            self.refresh_purchase_rollups({*ids.values(), *owners}, now)
        else:
            # Only the customers whose history changed: a re-import of an unchanged
            # file refreshes nobody's rollups.
            touched.update(row["customer_id"] for row in fresh)
            touched.update(owners)
        refunds = len(owners)
        summary = WriteSummary(
            created=len(fresh), unchanged=len(rows) - len(fresh) - refunds, updated=refunds
        )
        return summary, created

    def _refund(self, purchase_external_ids: Iterable[str], at: dt.datetime) -> list[int]:
        """Mark these purchases refunded; returns the customer of each one that was
        completed (so its rollups change), once per purchase."""
        owners: list[int] = []
        for id_batch in chunked(sorted(purchase_external_ids)):
            owners.extend(
                self.session.scalars(
                    update(Purchase)
                    .where(
                        Purchase.external_id.in_(id_batch),
                        Purchase.status == PurchaseStatus.COMPLETED,
                    )
                    .values(status=PurchaseStatus.REFUNDED, refunded_at=at)
                    .returning(Purchase.customer_id)
                    .execution_options(synchronize_session=False)
                )
            )
        return owners

    def refund_purchase(self, purchase_external_id: str, at: dt.datetime) -> PurchaseOut:
        """Mark a purchase refunded (again is a no-op) and refresh the customer's rollups."""
        found = self.session.execute(
            select(Purchase.id, Purchase.customer_id).where(
                Purchase.external_id == purchase_external_id
            )
        ).first()
        if found is None:
            raise NotFoundError(f"no purchase with external_id {purchase_external_id!r}")
        self._refund([purchase_external_id], at)
        self.refresh_purchase_rollups({found.customer_id}, at)
        return self._purchase(found.id)

    def _purchase(self, purchase_id: int) -> PurchaseOut:
        purchase, external_id = self.session.execute(
            select(Purchase, Customer.external_id)
            .join(Customer, Customer.id == Purchase.customer_id)
            .where(Purchase.id == purchase_id)
            .execution_options(populate_existing=True)
        ).one()
        return owned_out(PurchaseOut, purchase, external_id)

    def get_purchase(self, purchase_external_id: str) -> PurchaseOut:
        purchase_id = self.session.scalar(
            select(Purchase.id).where(Purchase.external_id == purchase_external_id)
        )
        if purchase_id is None:
            raise NotFoundError(f"no purchase with external_id {purchase_external_id!r}")
        return self._purchase(purchase_id)

    # ------------------------------------------------------------------ interactions

    def record_interaction(self, interaction: InteractionIn, now: dt.datetime) -> InteractionOut:
        """Record one interaction and return it (the stored one, when its id is known)."""
        _, created = self._record_interactions([interaction], now)
        if created:
            row_id = created[0]
        else:
            found = self.session.scalar(
                select(Interaction.id).where(Interaction.external_id == interaction.external_id)
            )
            assert found is not None
            row_id = found
        row = self.session.get_one(Interaction, row_id)
        return owned_out(InteractionOut, row, interaction.customer_id)

    def record_interactions(
        self, interactions: Sequence[InteractionIn], now: dt.datetime
    ) -> WriteSummary:
        return self._record_interactions(interactions, now)[0]

    def _record_interactions(
        self, interactions: Sequence[InteractionIn], now: dt.datetime
    ) -> tuple[WriteSummary, list[int]]:
        """Insert interactions (an ``external_id`` seen before is skipped) and move each
        customer's last contact forward."""
        ids = self.require_customer_ids(i.customer_id for i in interactions)
        self._require_tasks({i.task_id for i in interactions if i.task_id is not None})
        rows = [
            {
                "customer_id": ids[i.customer_id],
                "external_id": i.external_id,
                "kind": i.kind,
                "direction": i.direction,
                "occurred_at": i.occurred_at,
                "summary": i.summary,
                "staff": i.staff,
                "task_id": i.task_id,
                "created_at": now,
            }
            for i in interactions
        ]
        fresh, created = insert_new(self.session, Interaction, rows, "external_id")
        self.refresh_interaction_rollups(ids.values(), now)
        return WriteSummary(created=len(fresh), unchanged=len(rows) - len(fresh)), created

    # ------------------------------------------------------------------ cases

    def open_case(self, case_in: CaseIn) -> CaseOut:
        row = Case(
            customer_id=self.require_customer_id(case_in.customer_id),
            external_id=case_in.external_id,
            opened_at=case_in.opened_at,
            summary=case_in.summary,
            severity=case_in.severity,
            owner=case_in.owner,
            status=CaseStatus.OPEN,
        )
        self.session.add(row)
        self.session.flush()
        return owned_out(CaseOut, row, case_in.customer_id)

    def resolve_case(
        self,
        case_id: int,
        *,
        at: dt.datetime,
        resolution: str | None,
        on_first_contact: bool | None,
        satisfaction_score: int | None,
    ) -> CaseOut:
        row, external_id = self._owned(Case, case_id, "case")
        if row.status is not CaseStatus.OPEN:
            raise StateError(f"case {case_id} is already resolved; open a new case instead")
        if at < row.opened_at:
            raise StateError(
                f"case {case_id} cannot be resolved at {at.isoformat()}, "
                f"before it was opened ({row.opened_at.isoformat()})"
            )
        row.status = CaseStatus.RESOLVED
        row.resolved_at = at
        row.resolution = resolution
        row.resolved_on_first_contact = on_first_contact
        row.satisfaction_score = satisfaction_score
        self.session.flush()
        return owned_out(CaseOut, row, external_id)

    # ------------------------------------------------------------------ promises

    def create_promise(self, promise: PromiseIn, now: dt.datetime) -> PromiseOut:
        row = Promise(
            customer_id=self.require_customer_id(promise.customer_id),
            what=promise.what,
            due_at=promise.due_at,
            staff=promise.staff,
            status=PromiseStatus.OPEN,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return owned_out(PromiseOut, row, promise.customer_id)

    def close_promise(
        self, promise_id: int, status: PromiseStatus, *, at: dt.datetime, note: str | None
    ) -> PromiseOut:
        row, external_id = self._owned(Promise, promise_id, "promise")
        if row.status is not PromiseStatus.OPEN:
            raise StateError(
                f"promise {promise_id} is already {row.status.value}; only open promises change"
            )
        row.status = status
        row.closed_at = at
        row.note = note
        self.session.flush()
        return owned_out(PromiseOut, row, external_id)

    def renegotiate_promise(
        self, promise_id: int, *, new_due_at: dt.datetime, at: dt.datetime, note: str | None
    ) -> PromiseOut:
        """Close the promise as renegotiated and open its replacement with the new date."""
        old = self.close_promise(promise_id, PromiseStatus.RENEGOTIATED, at=at, note=note)
        return self.create_promise(
            PromiseIn(
                customer_id=old.customer_id, what=old.what, due_at=new_due_at, staff=old.staff
            ),
            at,
        )

    # ------------------------------------------------------------------ surveys

    def record_survey(self, survey: SurveyIn, at: dt.datetime) -> SurveyAnswerOut:
        customer_ids: set[int] = set()
        task = case = None
        if survey.task_id is not None:
            task, _ = self._task(survey.task_id)
            customer_ids.add(task.customer_id)
        if survey.case_id is not None:
            case, _ = self._owned(Case, survey.case_id, "case")
            customer_ids.add(case.customer_id)
        if len(customer_ids) != 1:
            raise StateError(
                f"task {survey.task_id} and case {survey.case_id} belong to different customers"
            )
        row = SurveyAnswer(
            customer_id=customer_ids.pop(),
            task_id=survey.task_id,
            case_id=survey.case_id,
            score=survey.score,
            comment=survey.comment,
            answered_at=at,
        )
        self.session.add(row)
        if case is not None:
            case.satisfaction_score = survey.score
        if task is not None:
            self._finish_by_survey(task, survey.score, at)
        self.session.flush()
        external_id = self.session.scalar(
            select(Customer.external_id).where(Customer.id == row.customer_id)
        )
        assert external_id is not None
        return owned_out(SurveyAnswerOut, row, external_id)

    # ------------------------------------------------------------------ for the profile

    def _recent_history(
        self, customer_id: int, external_id: str, *, recent: int, since: dt.datetime
    ) -> RecentHistory:
        """The customer's latest ``recent`` purchases and interactions, open cases and
        promises, and completed purchases since ``since``."""
        purchases = self.session.scalars(
            select(Purchase)
            .where(Purchase.customer_id == customer_id)
            .order_by(Purchase.occurred_at.desc(), Purchase.id.desc())
            .limit(recent)
        )
        interactions = self.session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == customer_id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(recent)
        )
        cases = self.session.scalars(
            select(Case)
            .where(Case.customer_id == customer_id, Case.status == CaseStatus.OPEN)
            .order_by(Case.opened_at)
        )
        promises = self.session.scalars(
            select(Promise)
            .where(Promise.customer_id == customer_id, Promise.status == PromiseStatus.OPEN)
            .order_by(Promise.due_at)
        )
        visits = [
            Visit(occurred_at.date(), description)
            for occurred_at, description in self.session.execute(
                select(Purchase.occurred_at, Purchase.description).where(
                    Purchase.customer_id == customer_id,
                    Purchase.status == PurchaseStatus.COMPLETED,
                    Purchase.occurred_at >= since,
                )
            )
        ]
        return RecentHistory(
            purchases=[owned_out(PurchaseOut, p, external_id) for p in purchases],
            interactions=[owned_out(InteractionOut, i, external_id) for i in interactions],
            open_cases=[owned_out(CaseOut, c, external_id) for c in cases],
            open_promises=[owned_out(PromiseOut, p, external_id) for p in promises],
            visits=visits,
        )


def erase_history_text(session: Session, customer_id: int, erased: str) -> None:
    """Blank the free text of one customer's history and keep its amounts, dates and
    counts, so reports stay right (erasure, GDPR article 17). Required texts (a case's
    summary, a promise's what) become ``erased``."""
    owned: list[tuple[Any, dict[str, Any]]] = [
        (Purchase, {"description": None}),
        (Interaction, {"summary": None}),
        (Case, {"summary": erased, "resolution": None}),
        (Promise, {"what": erased, "note": None}),
        (SurveyAnswer, {"comment": None}),
    ]
    for model, values in owned:
        session.execute(
            update(model)
            .where(model.customer_id == customer_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
