"""Reads and writes rapport's data through a ``Session`` it is given.

The store never commits: whoever opened the session (rapport's own API, or a host app)
decides. Writes are set-based (one statement per table per batch), and every write that
changes a customer's history refreshes that customer's rollups in the same transaction,
so the daily run never has to re-aggregate all history.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from rapport._errors import NotFoundError, StateError
from rapport.dates import LocalDays, PartialDate
from rapport.models._columns import RawTimestamp
from rapport.models.enums import (
    OPEN_TASK_STATUSES,
    CaseStatus,
    Channel,
    ConsentScope,
    ConsentState,
    PromiseStatus,
    PurchaseStatus,
    TaskStatus,
)
from rapport.models.schemas import (
    CaseIn,
    CaseOut,
    Consent,
    ConsentChangeOut,
    ConsentIn,
    CustomerIn,
    CustomerOut,
    CustomerProfile,
    FamilyMemberIn,
    FamilyMemberOut,
    ImportantDateIn,
    ImportantDateOut,
    InteractionIn,
    InteractionOut,
    InterestIn,
    InterestOut,
    PromiseIn,
    PromiseOut,
    PurchaseIn,
    PurchaseOut,
    RhythmOut,
    SurveyAnswerOut,
    SurveyIn,
    TaskOut,
)
from rapport.models.tables import (
    Base,
    Case,
    Checkpoint,
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
)
from rapport.rhythm import Visit, lapse, rhythm_of

#: Rows per statement: well under every driver's bound-parameter limit.
CHUNK = 500
#: Customers per aggregate pass when refreshing purchase rollups.
ROLLUP_BATCH = 5000
#: Customers per query when recomputing rhythms from their purchases.
RHYTHM_BATCH = 2000
#: Rows per executemany: larger batches amortise the statement's overhead.
INSERT_BATCH = 5000
TRAILING_DAYS = 365
RHYTHM_DAYS = 730
TRAILING_SPEND_CHECKPOINT = "trailing_spend"
#: Checkpoint "rhythm_zone:<timezone>": every rhythm rollup is in business days of it.
RHYTHM_ZONE_CHECKPOINT = "rhythm_zone:"

_T = TypeVar("_T")
_Out = TypeVar("_Out", PurchaseOut, InteractionOut, CaseOut, PromiseOut, TaskOut, SurveyAnswerOut)

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


@dataclass(frozen=True)
class WriteSummary:
    """What a batch write did: rows created, and rows that were already there."""

    created: int
    unchanged: int
    updated: int = 0


@dataclass(frozen=True)
class TaskWords:
    """A task's words as its columns hold them: the message (subject, text, HTML) or the
    call script, and the talking points."""

    subject: str | None
    body: str | None
    body_html: str | None
    call_script: Mapping[str, Any] | None
    talking_points: tuple[str, ...]


def chunked(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(
    session: Session,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    skip: str | None = None,
) -> int:
    """Insert many rows with Core ``executemany``; returns how many went in.

    The ORM's bulk path does per-row bookkeeping rapport never needs, and RETURNING
    makes SQLAlchemy splice results row by row; plain executemany does neither. With
    ``skip`` (a unique column), rows whose value is already stored are skipped (ON
    CONFLICT DO NOTHING), so a concurrent writer's row is kept.
    """
    if not rows:
        return 0
    table = model.__table__
    dialect = session.get_bind().dialect.name
    stmt: Any
    if skip is not None and dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=[skip])
    elif skip is not None and dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=[skip])
    else:
        stmt = insert(table)
    if skip is None:
        for batch in chunked(rows, INSERT_BATCH):
            session.execute(stmt, list(batch))
        return len(rows)
    inserted = 0
    for batch in chunked(rows, INSERT_BATCH):
        if dialect == "sqlite":  # sqlite3 sums executemany's rowcount
            inserted += _rowcount(session.execute(stmt, list(batch)))
        else:  # psycopg batches VALUES lists and reports no total: count what came back
            inserted += len(session.execute(stmt.returning(table.c[skip]), list(batch)).all())
    return inserted


class PurchaseFacts(Protocol):
    """What a new purchase row is made of: a validated ``PurchaseIn``, or the import fast
    path's plain tuple of the same values."""

    @property
    def external_id(self) -> str | None: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def status(self) -> PurchaseStatus: ...


def new_purchase_row(
    purchase: PurchaseFacts, customer_id: int, currency: str, now: dt.datetime
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


def trailing_spend_refreshed_to(session: Session) -> dt.date | None:
    """The day the last trailing-spend refresh aged every spend to (None: never)."""
    checkpoint = session.get(Checkpoint, TRAILING_SPEND_CHECKPOINT)
    return checkpoint.as_of if checkpoint is not None else None


def trailing_spend_cutoff(as_of: dt.date) -> dt.datetime:
    """The first instant counted in the trailing-365-day spend as of ``as_of``."""
    start = as_of - dt.timedelta(days=TRAILING_DAYS - 1)
    return dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)


def _later(column: Any, candidate: Any) -> ColumnElement[Any]:
    """SQL for "the later of the column and the candidate", ignoring NULLs on both sides."""
    return case(
        (column.is_(None), candidate),
        (candidate > column, candidate),
        else_=column,
    )


def _birthday(month: int | None, day: int | None, year: int | None) -> PartialDate | None:
    if month is None or day is None:
        return None
    return PartialDate(month=month, day=day, year=year)


def _birthday_columns(birthday: PartialDate | None) -> dict[str, int | None]:
    if birthday is None:
        return {"birth_month": None, "birth_day": None, "birth_year": None}
    return {"birth_month": birthday.month, "birth_day": birthday.day, "birth_year": birthday.year}


class Store:
    """rapport's reads and writes on one session.

    ``currency`` is the business currency: money rollups (lifetime value, trailing
    spend) add up purchases in that currency only, since rapport keeps no exchange rates.
    """

    def __init__(self, session: Session, *, currency: str, timezone: str = "UTC") -> None:
        self.session = session
        self.currency = currency
        self.timezone = timezone

    # ------------------------------------------------------------------ helpers

    def _insert(self, model: type[Base]) -> Insert:
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            return postgresql.insert(model)
        if dialect == "sqlite":
            return sqlite.insert(model)
        return insert(model)

    def _insert_ignoring(self, model: type[Base], conflict: str) -> Insert:
        """INSERT that silently skips rows whose ``conflict`` column already exists."""
        stmt = self._insert(model)
        if isinstance(stmt, postgresql.Insert | sqlite.Insert):
            return stmt.on_conflict_do_nothing(index_elements=[conflict])
        return stmt

    def _insert_new(
        self, model: type[Any], rows: Sequence[dict[str, Any]], key: str
    ) -> tuple[list[dict[str, Any]], list[int]]:
        """Insert the rows whose ``key`` is not stored yet (rows without a key always go in).

        Returns the rows inserted and, for a single row, its id. Many rows are written
        with one executemany and no RETURNING (which SQLAlchemy would have to splice row
        by row); ON CONFLICT DO NOTHING still keeps a concurrent writer's row.
        """
        column = getattr(model, key)
        stored: set[Any] = set()
        for id_batch in chunked(sorted({row[key] for row in rows if row[key] is not None})):
            stored.update(self.session.scalars(select(column).where(column.in_(id_batch))))
        fresh: list[dict[str, Any]] = []
        for row in rows:
            if row[key] is not None:
                if row[key] in stored:
                    continue
                stored.add(row[key])  # the first of repeats in one batch wins
            fresh.append(row)
        if len(fresh) == 1:
            stmt = self._insert_ignoring(model, key).returning(model.id)
            ids = list(self.session.scalars(stmt, fresh))
            return (fresh if ids else []), ids
        insert_rows(self.session, model, fresh, skip=key)
        return fresh, []

    def customer_ids(self, external_ids: Iterable[str]) -> dict[str, int]:
        """Map external ids to internal ids; unknown ids are simply absent."""
        wanted = sorted(set(external_ids))
        found: dict[str, int] = {}
        for id_batch in chunked(wanted):
            rows = self.session.execute(
                select(Customer.external_id, Customer.id).where(Customer.external_id.in_(id_batch))
            )
            found.update((external_id, id_) for external_id, id_ in rows)
        return found

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

    # ------------------------------------------------------------------ customers

    def upsert_customers(
        self,
        customers: Sequence[CustomerIn],
        now: dt.datetime,
        *,
        digests: Mapping[str, str] | None = None,
    ) -> WriteSummary:
        """Create or update customers by ``external_id``, logging consent changes.

        An import passes each row's ``digests`` (by external id), stored with the row;
        any other upsert clears the stored digest of the customers it names, so their
        next import reads their rows again.
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
        fresh, _ = self._insert_new(Customer, new_rows, "external_id")
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
        stored: dict[str, dict[str, Any]] = {}
        for id_batch in chunked(sorted(external_ids)):
            rows = self.session.execute(
                select(Customer.external_id, *columns).where(Customer.external_id.in_(id_batch))
            )
            for external_id, *values in rows:
                stored[external_id] = dict(zip(names, values, strict=True))
        return stored

    def _consent_state(self, external_ids: Iterable[str]) -> dict[str, dict[ConsentScope, str]]:
        columns = [getattr(Customer, f"consent_{channel.value}") for channel in Channel]
        state: dict[str, dict[ConsentScope, str]] = {}
        for id_batch in chunked(sorted(set(external_ids))):
            rows = self.session.execute(
                select(Customer.external_id, Customer.do_not_contact, *columns).where(
                    Customer.external_id.in_(id_batch)
                )
            )
            for external_id, do_not_contact, *consents in rows:
                values = {
                    ConsentScope(ch.value): str(v) for ch, v in zip(Channel, consents, strict=True)
                }
                values[ConsentScope.DO_NOT_CONTACT] = _flag(do_not_contact)
                state[external_id] = values
        return state

    def _new_customer_row(
        self, customer: CustomerIn, now: dt.datetime, digest: str | None = None
    ) -> dict[str, Any]:
        row: dict[str, Any] = {field: getattr(customer, field) for field in _PLAIN_FIELDS}
        row.update(_birthday_columns(customer.birthday))
        given_at = customer.consent_at or now
        for channel in Channel:
            state = getattr(customer, f"consent_{channel.value}") or ConsentState.UNKNOWN
            known = state is not ConsentState.UNKNOWN
            row[f"consent_{channel.value}"] = state
            row[f"consent_{channel.value}_at"] = given_at if known else None
            row[f"consent_{channel.value}_source"] = customer.consent_source if known else None
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

    def _log_upsert_consent(
        self,
        latest: Mapping[str, CustomerIn],
        before: Mapping[str, Mapping[ConsentScope, str]],
        ids: Mapping[str, int],
        now: dt.datetime,
    ) -> set[int]:
        """Log consent differences and write the changed channels' state, when and where;
        returns the stored customers whose consent changed."""
        log: list[dict[str, Any]] = []
        channel_updates: list[dict[str, Any]] = []
        for external_id, customer in latest.items():
            old = before.get(external_id)
            at = customer.consent_at or now
            source = customer.consent_source or "upsert"
            changes: dict[str, Any] = {}
            for scope in ConsentScope:
                if scope is ConsentScope.DO_NOT_CONTACT:
                    value = customer.do_not_contact
                    new = None if value is None else _flag(value)
                    default = _flag(False)
                else:
                    state = getattr(customer, f"consent_{scope.value}")
                    new = None if state is None else str(state)
                    default = ConsentState.UNKNOWN.value
                previous = old[scope] if old is not None else default
                if new is None or new == previous:
                    continue
                log.append(
                    {
                        "customer_id": ids[external_id],
                        "scope": scope,
                        "old_value": previous,
                        "new_value": new,
                        "changed_at": at,
                        "source": source,
                    }
                )
                if old is not None and scope is not ConsentScope.DO_NOT_CONTACT:
                    changes[f"consent_{scope.value}"] = new
                    changes[f"consent_{scope.value}_at"] = at
                    changes[f"consent_{scope.value}_source"] = customer.consent_source
            if changes:
                channel_updates.append({"id": ids[external_id], **changes})
        for batch in chunked(channel_updates):
            self.session.execute(update(Customer), list(batch))
        insert_rows(self.session, ConsentChange, log)
        return {row["id"] for row in channel_updates}

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
            rows = [
                {"customer_id": cid, "tag": tag}
                for cid, values in tags.items()
                for tag in dict.fromkeys(values)
            ]
            insert_rows(self.session, CustomerTag, rows)
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
        purchases = self.session.scalars(
            select(Purchase)
            .where(Purchase.customer_id == customer.id)
            .order_by(Purchase.occurred_at.desc(), Purchase.id.desc())
            .limit(recent)
        )
        interactions = self.session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == customer.id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(recent)
        )
        cases = self.session.scalars(
            select(Case)
            .where(Case.customer_id == customer.id, Case.status == CaseStatus.OPEN)
            .order_by(Case.opened_at)
        )
        promises = self.session.scalars(
            select(Promise)
            .where(Promise.customer_id == customer.id, Promise.status == PromiseStatus.OPEN)
            .order_by(Promise.due_at)
        )
        since = now - dt.timedelta(days=RHYTHM_DAYS)
        visits = [
            Visit(occurred_at.date(), description)
            for occurred_at, description in self.session.execute(
                select(Purchase.occurred_at, Purchase.description).where(
                    Purchase.customer_id == customer.id,
                    Purchase.status == PurchaseStatus.COMPLETED,
                    Purchase.occurred_at >= since,
                )
            )
        ]
        rhythm = rhythm_of(visits)
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
            recent_purchases=[owned_out(PurchaseOut, p, external_id) for p in purchases],
            recent_interactions=[owned_out(InteractionOut, i, external_id) for i in interactions],
            open_cases=[owned_out(CaseOut, c, external_id) for c in cases],
            open_promises=[owned_out(PromiseOut, p, external_id) for p in promises],
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
        if not _rowcount(result):
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
        if not _rowcount(result):
            raise NotFoundError(f"customer {external_id!r} has no {what} with id {row_id}")
        self.forget_import(customer_id)

    # ------------------------------------------------------------------ purchases

    def record_purchase(self, purchase: PurchaseIn, now: dt.datetime) -> PurchaseOut:
        """Record one purchase and return it (the stored one, when its id is known)."""
        _, created = self._record_purchases([purchase], now)
        if created:
            return self._purchase(created[0])
        assert purchase.external_id is not None
        return self.get_purchase(purchase.external_id)

    def record_purchases(self, purchases: Sequence[PurchaseIn], now: dt.datetime) -> WriteSummary:
        return self._record_purchases(purchases, now)[0]

    def _record_purchases(
        self, purchases: Sequence[PurchaseIn], now: dt.datetime
    ) -> tuple[WriteSummary, list[int]]:
        """Insert purchases; one whose ``external_id`` is already stored is left alone.

        A repeated purchase that now says ``refunded`` refunds the stored one, so
        re-importing a shop's export picks up its refunds.
        """
        ids = self.require_customer_ids(p.customer_id for p in purchases)
        rows = [new_purchase_row(p, ids[p.customer_id], self.currency, now) for p in purchases]
        fresh, created = self._insert_new(Purchase, rows, "external_id")
        refunded = {
            p.external_id
            for p in purchases
            if p.external_id is not None and p.status is PurchaseStatus.REFUNDED
        }
        refunds = self._refund(refunded, now) if refunded else 0
        self.refresh_purchase_rollups(set(ids.values()), now)
        summary = WriteSummary(
            created=len(fresh), unchanged=len(rows) - len(fresh) - refunds, updated=refunds
        )
        return summary, created

    def _refund(self, purchase_external_ids: Iterable[str], at: dt.datetime) -> int:
        changed = 0
        for id_batch in chunked(sorted(purchase_external_ids)):
            result = self.session.execute(
                update(Purchase)
                .where(
                    Purchase.external_id.in_(id_batch),
                    Purchase.status == PurchaseStatus.COMPLETED,
                )
                .values(status=PurchaseStatus.REFUNDED, refunded_at=at)
                .execution_options(synchronize_session=False)
            )
            changed += _rowcount(result)
        return changed

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

    def refresh_purchase_rollups(self, customer_ids: Iterable[int], now: dt.datetime) -> None:
        """Recompute the purchase rollups of these customers from their own purchases.

        One aggregate pass over the purchases of a few thousand customers at a time
        (through the (customer, occurred_at) index), so the cost grows with the customers
        touched, not with all history. Every customer given must have a purchase row (of
        any status): those are the only ones whose rollups can have changed.
        """
        as_of = now.astimezone(dt.UTC).date()
        completed = Purchase.status == PurchaseStatus.COMPLETED
        counted = and_(completed, Purchase.currency == self.currency)
        recent = and_(counted, Purchase.occurred_at >= trailing_spend_cutoff(as_of))
        ids = sorted(set(customer_ids))
        for id_batch in chunked(ids, ROLLUP_BATCH):
            totals = (
                select(
                    Purchase.customer_id.label("customer_id"),
                    func.count(case((completed, Purchase.id))).label("count"),
                    func.min(case((completed, Purchase.occurred_at))).label("first"),
                    func.max(case((completed, Purchase.occurred_at))).label("last"),
                    func.coalesce(func.sum(case((counted, Purchase.amount))), 0).label("value"),
                    func.coalesce(func.sum(case((recent, Purchase.amount))), 0).label("recent"),
                    func.max(Purchase.occurred_at).label("latest"),
                )
                .where(Purchase.customer_id.in_(id_batch))
                .group_by(Purchase.customer_id)
                .subquery()
            )
            self.session.execute(
                update(Customer)
                .where(Customer.id == totals.c.customer_id)
                .values(
                    purchase_count=totals.c.count,
                    first_purchase_at=totals.c.first,
                    last_purchase_at=totals.c.last,
                    lifetime_value=totals.c.value,
                    spend_365d=totals.c.recent,
                    spend_365d_as_of=as_of,
                    last_contact_at=_later(Customer.last_contact_at, totals.c.latest),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        self.refresh_rhythm(ids, now)

    def refresh_rhythm(self, customer_ids: Iterable[int], now: dt.datetime) -> None:
        """Recompute the rhythm rollups (``rhythm_visits``, ``rhythm_due_on``) of these
        customers from their completed purchases, in business days."""
        days = LocalDays(zoneinfo.ZoneInfo(self.timezone))
        table: Table = Customer.__table__  # type: ignore[assignment]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(rhythm_visits=bindparam("b_visits"), rhythm_due_on=bindparam("b_due"))
        )
        for id_batch in chunked(sorted(set(customer_ids)), RHYTHM_BATCH):
            visits: dict[int, list[Visit]] = {customer_id: [] for customer_id in id_batch}
            rows = self.session.execute(
                select(
                    Purchase.customer_id, type_coerce(Purchase.occurred_at, RawTimestamp())
                ).where(
                    Purchase.customer_id.in_(id_batch),
                    Purchase.status == PurchaseStatus.COMPLETED,
                )
            )
            for customer_id, occurred_at in rows:
                visits[customer_id].append(Visit(days.of(occurred_at), None))
            params = []
            for customer_id, mine in visits.items():
                count, due_on = lapse(mine)
                params.append({"b_id": customer_id, "b_visits": count, "b_due": due_on})
            self.session.execute(stmt, params)
        # On a database that has none yet, this marks every rhythm as computed in this
        # zone; after a change of zone the planner recomputes them all (ensure_rhythm_zone).
        if not self._rhythm_zones():
            name = RHYTHM_ZONE_CHECKPOINT + self.timezone
            row = {"name": name, "as_of": now.date(), "updated_at": now}
            insert_rows(self.session, Checkpoint, [row], skip="name")

    def _rhythm_zones(self) -> list[str]:
        return list(
            self.session.scalars(
                select(Checkpoint.name).where(Checkpoint.name.startswith(RHYTHM_ZONE_CHECKPOINT))
            )
        )

    def ensure_rhythm_zone(self, now: dt.datetime) -> int:
        """Recompute every rhythm rollup when they are not in the business timezone
        (it changed, or the database predates the rollup); returns customers recomputed."""
        wanted = RHYTHM_ZONE_CHECKPOINT + self.timezone
        zones = self._rhythm_zones()
        if zones == [wanted]:
            return 0
        ids = list(self.session.scalars(select(Customer.id).where(Customer.purchase_count > 0)))
        self.session.execute(delete(Checkpoint).where(Checkpoint.name.in_(zones)))
        self.refresh_rhythm(ids, now)
        return len(ids)

    def refresh_trailing_spend(self, as_of: dt.date, now: dt.datetime) -> int:
        """Bring every customer's trailing-365-day spend forward to ``as_of``.

        Only customers with a purchase that left the window since the previous refresh are
        recomputed, so a daily call costs about one day's worth of old purchases. The
        trailing spend only moves forward: an ``as_of`` before the last refresh does
        nothing. Returns the number of customers updated.
        """
        previous = self.session.get(Checkpoint, TRAILING_SPEND_CHECKPOINT)
        if previous is not None and as_of <= previous.as_of:
            return 0
        behind = or_(Customer.spend_365d_as_of.is_(None), Customer.spend_365d_as_of < as_of)
        stale = select(Customer.id).where(Customer.spend_365d > 0, behind).limit(1)
        if self.session.scalar(stale) is None:  # every spend was written as of today
            self._advance_spend_checkpoint(previous, as_of, now)
            return 0
        cutoff = trailing_spend_cutoff(as_of)
        left_window = select(Purchase.customer_id).where(
            Purchase.occurred_at < cutoff,
            Purchase.status == PurchaseStatus.COMPLETED,
            Purchase.currency == self.currency,
        )
        if previous is not None:
            left_window = left_window.where(
                Purchase.occurred_at >= trailing_spend_cutoff(previous.as_of)
            )
        spend = select(func.sum(Purchase.amount)).where(
            Purchase.customer_id == Customer.id,
            Purchase.status == PurchaseStatus.COMPLETED,
            Purchase.currency == self.currency,
            Purchase.occurred_at >= cutoff,
        )
        result = self.session.execute(
            update(Customer)
            .where(
                Customer.id.in_(left_window),
                Customer.spend_365d > 0,
                behind,
            )
            .values(
                spend_365d=func.coalesce(spend.scalar_subquery(), 0),
                spend_365d_as_of=as_of,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        self._advance_spend_checkpoint(previous, as_of, now)
        return _rowcount(result)

    def _advance_spend_checkpoint(
        self, previous: Checkpoint | None, as_of: dt.date, now: dt.datetime
    ) -> None:
        if previous is None:
            self.session.add(
                Checkpoint(name=TRAILING_SPEND_CHECKPOINT, as_of=as_of, updated_at=now)
            )
        else:
            previous.as_of = as_of
            previous.updated_at = now
        self.session.flush()

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
        fresh, created = self._insert_new(Interaction, rows, "external_id")
        latest = (
            select(func.max(Interaction.occurred_at))
            .where(Interaction.customer_id == Customer.id)
            .scalar_subquery()
        )
        for id_batch in chunked(sorted(set(ids.values()))):
            self.session.execute(
                update(Customer)
                .where(Customer.id.in_(id_batch))
                .values(
                    last_interaction_at=latest,
                    last_contact_at=_later(Customer.last_contact_at, latest),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        return WriteSummary(created=len(fresh), unchanged=len(rows) - len(fresh)), created

    def _require_tasks(self, task_ids: set[int]) -> None:
        if not task_ids:
            return
        found = set(
            self.session.scalars(select(OutreachTask.id).where(OutreachTask.id.in_(task_ids)))
        )
        if missing := sorted(task_ids - found):
            raise NotFoundError(f"no outreach task with id {missing[0]}")

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

    def _owned(self, model: type[Any], row_id: int, what: str) -> tuple[Any, str]:
        found = self.session.execute(
            select(model, Customer.external_id)
            .join(Customer, Customer.id == model.customer_id)
            .where(model.id == row_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no {what} with id {row_id}")
        return found[0], found[1]

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

    # ------------------------------------------------------------------ tasks

    def get_task(self, task_id: int) -> TaskOut:
        row, external_id = self._owned(OutreachTask, task_id, "outreach task")
        return owned_out(TaskOut, row, external_id)

    def find_tasks(
        self,
        *,
        customer_id: str | None = None,
        rule: str | None = None,
        statuses: Collection[TaskStatus] | None = None,
        due_by: dt.date | None = None,
    ) -> list[TaskOut]:
        """Tasks matching every given filter, by due day, then priority (highest first)."""
        stmt = select(OutreachTask, Customer.external_id).join(
            Customer, Customer.id == OutreachTask.customer_id
        )
        if customer_id is not None:
            stmt = stmt.where(Customer.external_id == customer_id)
        if rule is not None:
            stmt = stmt.where(OutreachTask.rule == rule)
        if statuses is not None:
            stmt = stmt.where(OutreachTask.status.in_(list(statuses)))
        if due_by is not None:
            stmt = stmt.where(OutreachTask.due_on <= due_by)
        stmt = stmt.order_by(OutreachTask.due_on, OutreachTask.priority.desc(), OutreachTask.id)
        return [owned_out(TaskOut, row, external) for row, external in self.session.execute(stmt)]

    def record_task_words(self, task_id: int, words: TaskWords, *, at: dt.datetime) -> None:
        """Keep the words a done task's customer got (subject, text, HTML, call script,
        talking points) with the task, so history shows what was sent. Open tasks keep
        none: their words are rendered whenever they are listed."""
        task, _ = self._owned(OutreachTask, task_id, "outreach task")
        if task.status is not TaskStatus.DONE:
            raise StateError(f"task {task_id} is {task.status.value}; only done tasks keep words")
        task.subject = words.subject
        task.body = words.body
        task.body_html = words.body_html
        task.call_script = dict(words.call_script) if words.call_script is not None else None
        task.talking_points = list(words.talking_points)
        task.rendered_at = at
        self.session.flush()

    def change_task(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        now: dt.datetime,
        reason: str | None = None,
        outcome: str | None = None,
        snooze_until: dt.date | None = None,
    ) -> tuple[OutreachTask, str]:
        """Move an open (planned or snoozed) task to ``status``; history is kept."""
        task, external_id = self._owned(OutreachTask, task_id, "outreach task")
        if task.status not in OPEN_TASK_STATUSES:
            raise StateError(
                f"task {task_id} is {task.status.value}; only planned or snoozed tasks change"
            )
        if snooze_until is not None:
            if snooze_until > task.window_end:
                raise StateError(
                    f"task {task_id} cannot be snoozed to {snooze_until.isoformat()}: its "
                    f"window ends {task.window_end.isoformat()}; skip it instead"
                )
            task.due_on = snooze_until
            task.snoozed_until = snooze_until
        else:
            task.completed_at = now
        task.status = status
        task.reason = reason if reason is not None else task.reason
        task.outcome = outcome
        self.session.flush()
        return task, external_id

    def record_survey(self, survey: SurveyIn, at: dt.datetime) -> SurveyAnswerOut:
        customer_ids: set[int] = set()
        task = case = None
        if survey.task_id is not None:
            task, _ = self._owned(OutreachTask, survey.task_id, "outreach task")
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
        if task is not None and task.status in OPEN_TASK_STATUSES:
            task.status = TaskStatus.DONE
            task.completed_at = at
            task.outcome = f"survey answered: {survey.score}/5"
        self.session.flush()
        external_id = self.session.scalar(
            select(Customer.external_id).where(Customer.id == row.customer_id)
        )
        assert external_id is not None
        return owned_out(SurveyAnswerOut, row, external_id)

    # ------------------------------------------------------------------ consent

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
                    old_value=_flag(customer.do_not_contact),
                    new_value=_flag(value),
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


# ---------------------------------------------------------------------- row conversion


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


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
        birthday=_birthday(customer.birth_month, customer.birth_day, customer.birth_year),
        tags=[t.tag for t in customer.tags],
        consent=consent,
    )


def family_member_out(row: FamilyMember) -> FamilyMemberOut:
    return FamilyMemberOut(
        id=row.id,
        name=row.name,
        relation=row.relation,
        birthday=_birthday(row.birth_month, row.birth_day, row.birth_year),
        note=row.note,
    )


def important_date_out(row: ImportantDate) -> ImportantDateOut:
    return ImportantDateOut(
        id=row.id,
        label=row.label,
        date=PartialDate(month=row.month, day=row.day, year=row.year),
        yearly=row.yearly,
    )


def owned_out(schema: type[_Out], row: Any, customer_external_id: str) -> _Out:
    """A detached copy of a customer's row (purchase, interaction, case, promise), with
    ``customer_id`` given as the customer's external id."""
    fields = {name: getattr(row, name) for name in schema.model_fields if name != "customer_id"}
    return schema(customer_id=customer_external_id, **fields)
