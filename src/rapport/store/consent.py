"""Consent: each customer's answer per channel, do-not-contact, and the log of changes.

The one owner of ``rapport_consent_change``: every change of a consent answer, from a
single call, an upsert or an import, is logged here, so the log can show a regulator
when and where each answer was given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rapport.models.enums import Channel, ConsentScope, ConsentState
from rapport.models.schemas import ConsentChangeOut, ConsentIn, CustomerIn, CustomerOut
from rapport.models.tables import ConsentChange, Customer
from rapport.store._base import StoreBase, customer_out
from rapport.store.rows import chunked, insert_values, stored_rows

#: A consent log row's columns, in the order :func:`log_consent_changes` takes them.
LOG_COLUMNS = ("customer_id", "scope", "old_value", "new_value", "changed_at", "source")


def flag(value: bool) -> str:
    """A do-not-contact value as the consent log writes it."""
    return "true" if value else "false"


def log_consent_changes(session: Session, changes: Iterable[tuple[Any, ...]]) -> int:
    """Append changes (values in :data:`LOG_COLUMNS` order) to the consent log."""
    return insert_values(session, ConsentChange, LOG_COLUMNS, changes)


#: Each consent scope with its customer column (None: the do-not-contact flag).
_SCOPE_COLUMNS = tuple(
    (scope, None if scope is ConsentScope.DO_NOT_CONTACT else f"consent_{scope.value}")
    for scope in ConsentScope
)
_UNKNOWN = ConsentState.UNKNOWN.value
_NOT_FLAGGED = flag(False)


class ConsentStore(StoreBase):
    """Reads and writes of consent state and its log."""

    def set_consent(self, external_id: str, consent: ConsentIn, now: dt.datetime) -> CustomerOut:
        """Record a customer's answer for one channel; a change is logged, a repeat is not."""
        customer = self._customer(external_id)
        column = f"consent_{consent.channel.value}"
        old: ConsentState = getattr(customer, column)
        if old is not consent.state:
            at = consent.at or now
            setattr(customer, column, consent.state)
            setattr(customer, f"{column}_at", at)
            setattr(customer, f"{column}_source", consent.source)
            customer.updated_at = now
            customer.import_digest = None
            self.session.add(
                ConsentChange(
                    customer_id=customer.id,
                    scope=ConsentScope(consent.channel.value),
                    old_value=old.value,
                    new_value=consent.state.value,
                    changed_at=at,
                    source=consent.source,
                )
            )
            self.session.flush()
        return customer_out(customer)

    def set_do_not_contact(
        self,
        external_id: str,
        value: bool,
        *,
        source: str | None,
        at: dt.datetime | None,
        now: dt.datetime,
    ) -> CustomerOut:
        customer = self._customer(external_id)
        if customer.do_not_contact != value:
            self.session.add(
                ConsentChange(
                    customer_id=customer.id,
                    scope=ConsentScope.DO_NOT_CONTACT,
                    old_value=flag(customer.do_not_contact),
                    new_value=flag(value),
                    changed_at=at or now,
                    source=source,
                )
            )
            customer.do_not_contact = value
            customer.updated_at = now
            customer.import_digest = None
            self.session.flush()
        return customer_out(customer)

    def consent_log(self, external_id: str) -> list[ConsentChangeOut]:
        customer_id = self.require_customer_id(external_id)
        rows = self.session.scalars(
            select(ConsentChange)
            .where(ConsentChange.customer_id == customer_id)
            .order_by(ConsentChange.changed_at, ConsentChange.id)
        )
        return [ConsentChangeOut.model_validate(row) for row in rows]

    def _consent_state(self, external_ids: Iterable[str]) -> dict[str, dict[ConsentScope, str]]:
        """Each stored customer's answers, as the consent log writes them."""
        columns = [getattr(Customer, f"consent_{channel.value}") for channel in Channel]
        found = stored_rows(
            self.session, Customer.external_id, external_ids, Customer.do_not_contact, *columns
        )
        state: dict[str, dict[ConsentScope, str]] = {}
        for external_id, row in found.items():
            _, do_not_contact, *consents = tuple(row)
            values = {
                ConsentScope(ch.value): str(v) for ch, v in zip(Channel, consents, strict=True)
            }
            values[ConsentScope.DO_NOT_CONTACT] = flag(do_not_contact)
            state[external_id] = values
        return state

    def _log_upsert_consent(
        self,
        latest: Mapping[str, CustomerIn],
        before: Mapping[str, Mapping[ConsentScope, str]],
        ids: Mapping[str, int],
        now: dt.datetime,
    ) -> set[int]:
        """Log consent differences and write the changed channels' state, when and where;
        returns the stored customers whose consent changed."""
        log: list[tuple[Any, ...]] = []
        channel_updates: list[dict[str, Any]] = []
        for external_id, customer in latest.items():
            old = before.get(external_id)
            at = customer.consent_at or now
            source = customer.consent_source or "upsert"
            changes: dict[str, Any] = {}
            for scope, column in _SCOPE_COLUMNS:
                if column is None:
                    value = customer.do_not_contact
                    new = None if value is None else flag(value)
                    default = _NOT_FLAGGED
                else:
                    state = getattr(customer, column)
                    new = None if state is None else str(state)
                    default = _UNKNOWN
                previous = old[scope] if old is not None else default
                if new is None or new == previous:
                    continue
                log.append((ids[external_id], scope, previous, new, at, source))
                if old is not None and column is not None:
                    changes[column] = new
                    changes[f"{column}_at"] = at
                    changes[f"{column}_source"] = customer.consent_source
            if changes:
                channel_updates.append({"id": ids[external_id], **changes})
        for batch in chunked(channel_updates):
            self.session.execute(update(Customer), list(batch))
        log_consent_changes(self.session, log)
        return {row["id"] for row in channel_updates}


def erase_consent_sources(session: Session, customer_id: int) -> None:
    """Forget where one customer's consent answers came from (erasure); the answers and
    their dates stay, as proof of what was allowed when."""
    session.execute(
        update(ConsentChange)
        .where(ConsentChange.customer_id == customer_id)
        .values(source=None)
        .execution_options(synchronize_session=False)
    )
