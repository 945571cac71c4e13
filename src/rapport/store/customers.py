"""Customers and what staff know about them: tags, interests, family, important dates,
the import digest of each customer's last imported row, and the profile that shows it
all.

The one owner of ``rapport_customer`` (but its rollup and consent columns, which
:mod:`~rapport.store.rollups` and :mod:`~rapport.store.consent` keep) and of the tag,
interest, family and important-date tables. Imports and Python callers alike
create and change customers through :meth:`CustomerStore.upsert_customers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from rapport._errors import NotFoundError
from rapport.dates import PartialDate
from rapport.models.enums import Channel, ConsentState, CustomerStatus
from rapport.models.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerProfile,
    FamilyMemberIn,
    FamilyMemberOut,
    ImportantDateIn,
    ImportantDateOut,
    InterestIn,
    InterestOut,
    RhythmOut,
)
from rapport.models.tables import Customer, CustomerTag, FamilyMember, ImportantDate, Interest
from rapport.rhythm import rhythm_of
from rapport.store._base import WriteSummary, birthday_of, customer_out
from rapport.store.consent import ConsentStore
from rapport.store.history import HistoryStore
from rapport.store.rollups import RHYTHM_DAYS
from rapport.store.rows import (
    chunked,
    insert_new,
    insert_rows,
    insert_values,
    rowcount,
    stored_rows,
)

_T = TypeVar("_T")

#: How ``find_customers`` may sort: by external id, or biggest spenders first.
CustomerOrder = Literal["external_id", "spend_365d", "lifetime_value"]

# CustomerIn fields stored as same-named columns.
_PLAIN_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "language",
    "timezone",
    "customer_since",
    "owner",
    "status",
    "check_in_every_days",
    "notes",
)
#: Each channel's consent columns: its state, when it was given, and where.
_CONSENT_COLUMNS = tuple(
    (f"consent_{c.value}", f"consent_{c.value}_at", f"consent_{c.value}_source") for c in Channel
)


class CustomerStore(ConsentStore, HistoryStore):
    """Writes and reads of customers and their profile details."""

    # ------------------------------------------------------------------ customers

    def upsert_customers(
        self,
        customers: Sequence[CustomerIn],
        now: dt.datetime,
        *,
        digests: Mapping[str, str] | None = None,
        exclusive: bool = False,
    ) -> WriteSummary:
        """Create or update customers by ``external_id``, logging consent changes.

        An import passes each row's ``digests`` (by external id), stored with the row;
        any other upsert clears the stored digest of the customers it names, so their
        next import reads their rows again. ``exclusive``: see
        :func:`~rapport.store.rows.insert_new`.
        """
        # Within one batch the last entry for an external id wins, like repeated upserts.
        latest = {customer.external_id: customer for customer in customers}
        digest_of = digests or {}
        before = self._consent_state(latest.keys())
        new_rows = [
            self._new_customer_row(c, now, digest_of.get(key))
            for key, c in latest.items()
            if key not in before
        ]
        fresh, _ = insert_new(self.session, Customer, new_rows, "external_id", exclusive=exclusive)
        inserted = {row["external_id"] for row in fresh}
        ids = self.customer_ids(latest.keys())
        existing = [key for key in latest if key not in inserted]
        current = self._stored_fields(existing)
        updates = [
            row
            for key in existing
            if (row := self._changed_customer_row(latest[key], ids[key], current[key], now))
        ]
        changed = {row["id"] for row in updates}
        for row in updates:
            row["import_digest"] = digest_of.get(row.pop("_external_id"))
        # Rows whose values did not change still take the digest of the row they came
        # from (an import), or lose a stored one (any other upsert).
        updates += [
            {"id": ids[key], "import_digest": digest_of.get(key)}
            for key in existing
            if ids[key] not in changed and current[key]["import_digest"] != digest_of.get(key)
        ]
        for batch in chunked(updates):
            self.session.execute(update(Customer), list(batch))
        # A new consent answer is a change too (a planned task may have to go).
        changed |= self._log_upsert_consent(latest, before, ids, now)
        self._sync_lists(latest, ids)
        return WriteSummary(
            created=len(inserted), unchanged=len(existing) - len(changed), updated=len(changed)
        )

    def import_digests(self, external_ids: Iterable[str]) -> dict[str, str]:
        """The stored digest of each of these customers' last imported row, if any.

        Straight to the driver: a nightly re-import asks this for every row of the file,
        and building the statement cost more than running it.
        """
        connection = self.session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        found: dict[str, str] = {}
        for batch in chunked(sorted(set(external_ids)), 1000):
            marks = ", ".join([mark] * len(batch))
            sql = (
                "SELECT external_id, import_digest FROM rapport_customer "
                f"WHERE import_digest IS NOT NULL AND external_id IN ({marks})"
            )
            found.update(connection.exec_driver_sql(sql, tuple(batch)).all())
        return found

    def forget_import(self, customer_id: int) -> None:
        """A write outside an import changed the customer: their next import reads
        their row again instead of trusting its digest."""
        self.session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.import_digest.is_not(None))
            .values(import_digest=None)
            .execution_options(synchronize_session="fetch")
        )

    def _stored_fields(self, external_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored values of the fields an upsert may change, to skip no-op updates."""
        names = [
            *_PLAIN_FIELDS,
            "birth_month",
            "birth_day",
            "birth_year",
            "do_not_contact",
            "import_digest",
        ]
        columns = [getattr(Customer, name) for name in names]
        found = stored_rows(self.session, Customer.external_id, external_ids, *columns)
        return {
            external_id: dict(zip(names, row[1:], strict=True))
            for external_id, row in found.items()
        }

    def _new_customer_row(
        self, customer: CustomerIn, now: dt.datetime, digest: str | None = None
    ) -> dict[str, Any]:
        row: dict[str, Any] = {field: getattr(customer, field) for field in _PLAIN_FIELDS}
        row.update(_birthday_columns(customer.birthday))
        given_at = customer.consent_at or now
        for state_column, at_column, source_column in _CONSENT_COLUMNS:
            state = getattr(customer, state_column) or ConsentState.UNKNOWN
            known = state is not ConsentState.UNKNOWN
            row[state_column] = state
            row[at_column] = given_at if known else None
            row[source_column] = customer.consent_source if known else None
        row.update(
            external_id=customer.external_id,
            do_not_contact=bool(customer.do_not_contact),
            first_purchase_at=None,
            last_purchase_at=None,
            purchase_count=0,
            lifetime_value=Decimal(0),
            spend_365d=Decimal(0),
            spend_365d_as_of=None,
            last_interaction_at=None,
            last_contact_at=None,
            created_at=now,
            updated_at=now,
            import_digest=digest,
        )
        return row

    def _changed_customer_row(
        self,
        customer: CustomerIn,
        customer_id: int,
        current: Mapping[str, Any],
        now: dt.datetime,
    ) -> dict[str, Any] | None:
        """The columns whose given value differs from the stored one, or None."""
        given = customer.model_fields_set
        wanted: dict[str, Any] = {
            field: getattr(customer, field) for field in _PLAIN_FIELDS if field in given
        }
        if "birthday" in given:
            wanted.update(_birthday_columns(customer.birthday))
        if customer.do_not_contact is not None:
            wanted["do_not_contact"] = customer.do_not_contact
        changed = {name: value for name, value in wanted.items() if current.get(name) != value}
        if not changed:
            return None
        return {
            "id": customer_id,
            "updated_at": now,
            "_external_id": customer.external_id,
            **changed,
        }

    def _sync_lists(self, latest: Mapping[str, CustomerIn], ids: Mapping[str, int]) -> None:
        tags = {ids[k]: c.tags for k, c in latest.items() if c.tags is not None}
        stored_tags: dict[int, set[str]] = {cid: set() for cid in tags}
        for id_batch in chunked(list(tags)):
            for cid, tag in self.session.execute(
                select(CustomerTag.customer_id, CustomerTag.tag).where(
                    CustomerTag.customer_id.in_(id_batch)
                )
            ):
                stored_tags[cid].add(tag)
        tags = {cid: values for cid, values in tags.items() if set(values) != stored_tags[cid]}
        if tags:
            for id_batch in chunked(list(tags)):
                self.session.execute(
                    delete(CustomerTag).where(CustomerTag.customer_id.in_(id_batch))
                )
            rows = [(cid, tag) for cid, values in tags.items() for tag in dict.fromkeys(values)]
            insert_values(self.session, CustomerTag, ("customer_id", "tag"), rows)
        self._sync_children(
            Interest,
            {ids[k]: c.interests for k, c in latest.items() if c.interests is not None},
            stored_key=lambda row: row.topic_key,
            given_key=lambda item: item.topic.casefold(),
            to_columns=_interest_columns,
        )
        self._sync_children(
            FamilyMember,
            {ids[k]: c.family for k, c in latest.items() if c.family is not None},
            stored_key=lambda row: row.name.casefold(),
            given_key=lambda item: item.name.casefold(),
            to_columns=_family_columns,
        )
        self._sync_children(
            ImportantDate,
            {ids[k]: c.important_dates for k, c in latest.items() if c.important_dates is not None},
            stored_key=lambda row: row.label,
            given_key=lambda item: item.label,
            to_columns=_important_date_columns,
        )

    def _sync_children(
        self,
        model: type[Any],
        wanted: Mapping[int, Sequence[_T]],
        *,
        stored_key: Callable[[Any], str],
        given_key: Callable[[_T], str],
        to_columns: Callable[[_T, bool], dict[str, Any]],
    ) -> None:
        """Make each customer's child rows match ``wanted``, keeping rows that match by key.

        A kept row is updated only with the fields the caller gave, so re-syncing a plain
        list of topics does not wipe the notes staff added to them.
        """
        if not wanted:
            return
        existing: dict[tuple[int, str], int] = {}
        stored: dict[int, Any] = {}
        for id_batch in chunked(list(wanted)):
            for row in self.session.scalars(select(model).where(model.customer_id.in_(id_batch))):
                existing[(row.customer_id, stored_key(row))] = row.id
                stored[row.id] = row
        keep: set[int] = set()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for customer_id, items in wanted.items():
            for item in items:
                row_id = existing.get((customer_id, given_key(item)))
                if row_id is None:
                    inserts.append({"customer_id": customer_id, **to_columns(item, True)})
                else:
                    keep.add(row_id)
                    changes = {
                        name: value
                        for name, value in to_columns(item, False).items()
                        if getattr(stored[row_id], name) != value
                    }
                    if changes:
                        updates.append({"id": row_id, **changes})
        obsolete = sorted(set(existing.values()) - keep)
        for id_batch in chunked(obsolete):
            self.session.execute(delete(model).where(model.id.in_(id_batch)))
        for batch in chunked(updates):
            self.session.execute(update(model), list(batch))
        insert_rows(self.session, model, inserts)

    # ------------------------------------------------------------------ reads

    def get_customer(self, external_id: str) -> CustomerOut:
        return customer_out(self._customer(external_id))

    def find_customers(
        self,
        *,
        tag: str | None = None,
        interest: str | None = None,
        owner: str | None = None,
        order_by: CustomerOrder = "external_id",
        limit: int = 100,
        offset: int = 0,
    ) -> list[CustomerOut]:
        """Customers matching every given filter, by external id or biggest spend first."""
        stmt = select(Customer).options(selectinload(Customer.tags))
        if tag is not None:
            stmt = stmt.where(
                select(CustomerTag.customer_id)
                .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == tag)
                .exists()
            )
        if interest is not None:
            stmt = stmt.where(
                select(Interest.id)
                .where(
                    Interest.customer_id == Customer.id,
                    Interest.topic_key == interest.strip().casefold(),
                )
                .exists()
            )
        if owner is not None:
            stmt = stmt.where(Customer.owner == owner)
        ordering = {
            "external_id": (Customer.external_id,),
            "spend_365d": (Customer.spend_365d.desc(), Customer.external_id),
            "lifetime_value": (Customer.lifetime_value.desc(), Customer.external_id),
        }[order_by]
        stmt = stmt.order_by(*ordering).limit(limit).offset(offset)
        return [customer_out(c) for c in self.session.scalars(stmt)]

    def profile(self, external_id: str, *, now: dt.datetime, recent: int = 10) -> CustomerProfile:
        customer = self.session.scalar(
            select(Customer)
            .where(Customer.external_id == external_id)
            .options(
                selectinload(Customer.tags),
                selectinload(Customer.interests),
                selectinload(Customer.family),
                selectinload(Customer.important_dates),
            )
        )
        if customer is None:
            raise NotFoundError(
                f"no customer with external_id {external_id!r}; upsert the customer first"
            )
        since = now - dt.timedelta(days=RHYTHM_DAYS)
        history = self._recent_history(customer.id, external_id, recent=recent, since=since)
        rhythm = rhythm_of(history.visits)
        return CustomerProfile(
            **customer_out(customer).model_dump(),
            rhythm=RhythmOut(
                visits=rhythm.visits,
                usual_item=rhythm.usual_item,
                usual_weekdays=list(rhythm.usual_weekdays),
                median_gap_days=rhythm.median_gap_days,
            ),
            interests=[InterestOut.model_validate(i) for i in customer.interests],
            family=[family_member_out(f) for f in customer.family],
            important_dates=[important_date_out(d) for d in customer.important_dates],
            recent_purchases=history.purchases,
            recent_interactions=history.interactions,
            open_cases=history.open_cases,
            open_promises=history.open_promises,
        )

    # ------------------------------------------------------------------ profile details

    def add_interest(self, external_id: str, interest: InterestIn) -> InterestOut:
        """Remember an interest; an existing topic (any letter case) is updated."""
        customer_id = self.require_customer_id(external_id)
        key = interest.topic.casefold()
        row = self.session.scalar(
            select(Interest).where(Interest.customer_id == customer_id, Interest.topic_key == key)
        )
        if row is None:
            row = Interest(customer_id=customer_id, **_interest_columns(interest, True))
            self.session.add(row)
        else:
            for name, value in _interest_columns(interest, False).items():
                setattr(row, name, value)
        self.forget_import(customer_id)
        self.session.flush()
        return InterestOut.model_validate(row)

    def remove_interest(self, external_id: str, topic: str) -> None:
        customer_id = self.require_customer_id(external_id)
        result = self.session.execute(
            delete(Interest).where(
                Interest.customer_id == customer_id, Interest.topic_key == topic.strip().casefold()
            )
        )
        if not rowcount(result):
            raise NotFoundError(f"customer {external_id!r} has no interest {topic!r}")
        self.forget_import(customer_id)

    def add_family_member(self, external_id: str, member: FamilyMemberIn) -> FamilyMemberOut:
        customer_id = self.require_customer_id(external_id)
        row = FamilyMember(customer_id=customer_id, **_family_columns(member, True))
        self.session.add(row)
        self.forget_import(customer_id)
        self.session.flush()
        return family_member_out(row)

    def remove_family_member(self, external_id: str, member_id: int) -> None:
        self._delete_child(FamilyMember, external_id, member_id, "family member")

    def add_important_date(self, external_id: str, date: ImportantDateIn) -> ImportantDateOut:
        customer_id = self.require_customer_id(external_id)
        row = self.session.scalar(
            select(ImportantDate).where(
                ImportantDate.customer_id == customer_id, ImportantDate.label == date.label
            )
        )
        if row is None:
            row = ImportantDate(customer_id=customer_id, **_important_date_columns(date, True))
            self.session.add(row)
        else:
            for name, value in _important_date_columns(date, True).items():
                setattr(row, name, value)
        self.forget_import(customer_id)
        self.session.flush()
        return important_date_out(row)

    def remove_important_date(self, external_id: str, date_id: int) -> None:
        self._delete_child(ImportantDate, external_id, date_id, "important date")

    def _delete_child(self, model: type[Any], external_id: str, row_id: int, what: str) -> None:
        customer_id = self.require_customer_id(external_id)
        result = self.session.execute(
            delete(model).where(model.id == row_id, model.customer_id == customer_id)
        )
        if not rowcount(result):
            raise NotFoundError(f"customer {external_id!r} has no {what} with id {row_id}")
        self.forget_import(customer_id)


# ---------------------------------------------------------------------- row conversion


def _birthday_columns(birthday: PartialDate | None) -> dict[str, int | None]:
    if birthday is None:
        return {"birth_month": None, "birth_day": None, "birth_year": None}
    return {"birth_month": birthday.month, "birth_day": birthday.day, "birth_year": birthday.year}


def _interest_columns(item: InterestIn, full: bool) -> dict[str, Any]:
    given = item.model_fields_set
    columns: dict[str, Any] = {"topic": item.topic, "topic_key": item.topic.casefold()}
    if full or "category" in given:
        columns["category"] = item.category
    if full or "note" in given:
        columns["note"] = item.note
    return columns


def _family_columns(item: FamilyMemberIn, full: bool) -> dict[str, Any]:
    given = item.model_fields_set
    columns: dict[str, Any] = {"name": item.name, "relation": item.relation}
    if full or "birthday" in given:
        columns.update(_birthday_columns(item.birthday))
    if full or "note" in given:
        columns["note"] = item.note
    return columns


def _important_date_columns(item: ImportantDateIn, full: bool) -> dict[str, Any]:
    return {
        "label": item.label,
        "month": item.date.month,
        "day": item.date.day,
        "year": item.date.year,
        "yearly": item.yearly,
    }


def family_member_out(row: FamilyMember) -> FamilyMemberOut:
    """A detached copy of a family member row."""
    return FamilyMemberOut(
        id=row.id,
        name=row.name,
        relation=row.relation,
        birthday=birthday_of(row.birth_month, row.birth_day, row.birth_year),
        note=row.note,
    )


def important_date_out(row: ImportantDate) -> ImportantDateOut:
    """A detached copy of an important date row."""
    return ImportantDateOut(
        id=row.id,
        label=row.label,
        date=PartialDate(month=row.month, day=row.day, year=row.year),
        yearly=row.yearly,
    )


#: The personal values on a customer row that erasure clears.
_PERSONAL = (
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "birth_month",
    "birth_day",
    "birth_year",
    "notes",
    "owner",
    "consent_email_source",
    "consent_sms_source",
    "consent_phone_source",
    "consent_mail_source",
    "import_digest",
)


def erase_profile(session: Session, customer_id: int, pseudonym: str, now: dt.datetime) -> None:
    """Remove one customer's personal details (erasure, GDPR article 17): tags,
    interests, family and important dates go; the row keeps its rollups under
    ``pseudonym`` and can never be contacted again (inactive, do not contact)."""
    for model in (CustomerTag, Interest, FamilyMember, ImportantDate):
        session.execute(
            delete(model)
            .where(model.customer_id == customer_id)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            {
                **dict.fromkeys(_PERSONAL),
                "external_id": pseudonym,
                "do_not_contact": True,
                "status": CustomerStatus.INACTIVE,
                "erased_at": now,
                "updated_at": now,
            }
        )
        .execution_options(synchronize_session=False)
    )
