"""rapport's tables: SQLAlchemy 2.0 typed models on rapport's own ``MetaData``.

Every table is prefixed ``rapport_`` and every constraint is named by convention, so the
tables can live beside a host app's own tables and be migrated independently.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    cast,
    column,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from rapport.models._columns import Id, Money, UTCDateTime
from rapport.models.enums import (
    CaseStatus,
    ConsentScope,
    ConsentState,
    CustomerStatus,
    Direction,
    InteractionKind,
    InterestCategory,
    PromiseStatus,
    PurchaseStatus,
    Relation,
    Severity,
    TaskKind,
    TaskStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime(), Decimal: Money()}


def _fk(table: str) -> Any:
    return ForeignKey(f"{table}.id", ondelete="CASCADE")


def since_part(field: str) -> Computed:
    """The month or day of ``customer_since``, computed by the database itself.

    The anniversary rules select by (month, day) through an index, as birthdays do; a
    generated column stays right however ``customer_since`` is written (a host app's own
    UPDATE included). STORED on PostgreSQL; the SQLite migration adds it VIRTUAL (SQLite
    cannot add a stored column to a table), where the index holds the values.
    """
    part = cast(func.extract(field, column("customer_since")), SmallInteger)
    return Computed(part, persisted=True)


class Customer(Base):
    """A person the business serves, with the personal details staff should remember."""

    __tablename__ = "rapport_customer"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    preferred_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(35))
    timezone: Mapped[str | None] = mapped_column(String(64))
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    birth_day: Mapped[int | None] = mapped_column(SmallInteger)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    customer_since: Mapped[dt.date | None] = mapped_column(Date)
    since_month: Mapped[int | None] = mapped_column(SmallInteger, since_part("month"))
    since_day: Mapped[int | None] = mapped_column(SmallInteger, since_part("day"))
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[CustomerStatus] = mapped_column(
        _enum(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE
    )
    consent_email: Mapped[ConsentState] = mapped_column(
        _enum(ConsentState, "consent_email"), default=ConsentState.UNKNOWN
    )
    consent_email_at: Mapped[dt.datetime | None]
    consent_email_source: Mapped[str | None] = mapped_column(String(200))
    consent_sms: Mapped[ConsentState] = mapped_column(
        _enum(ConsentState, "consent_sms"), default=ConsentState.UNKNOWN
    )
    consent_sms_at: Mapped[dt.datetime | None]
    consent_sms_source: Mapped[str | None] = mapped_column(String(200))
    consent_phone: Mapped[ConsentState] = mapped_column(
        _enum(ConsentState, "consent_phone"), default=ConsentState.UNKNOWN
    )
    consent_phone_at: Mapped[dt.datetime | None]
    consent_phone_source: Mapped[str | None] = mapped_column(String(200))
    consent_mail: Mapped[ConsentState] = mapped_column(
        _enum(ConsentState, "consent_mail"), default=ConsentState.UNKNOWN
    )
    consent_mail_at: Mapped[dt.datetime | None]
    consent_mail_source: Mapped[str | None] = mapped_column(String(200))
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    check_in_every_days: Mapped[int | None] = mapped_column(Integer, index=True)
    notes: Mapped[str | None] = mapped_column(Text)

    # Rollups, maintained by every write that changes them (see rapport.store.rollups).
    first_purchase_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_purchase_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    purchase_count: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_value: Mapped[Decimal] = mapped_column(default=Decimal(0))
    spend_365d: Mapped[Decimal] = mapped_column(default=Decimal(0), index=True)
    spend_365d_as_of: Mapped[dt.date | None] = mapped_column(Date, index=True)
    last_interaction_at: Mapped[dt.datetime | None]
    last_contact_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # The regular's rhythm (see rapport.rhythm.lapse): purchases in the two years up to
    # the last one, and the business day they become overdue (None: no rhythm).
    rhythm_visits: Mapped[int | None] = mapped_column(Integer)
    rhythm_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)

    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    erased_at: Mapped[dt.datetime | None]
    #: A digest of the file row this customer was last imported from (see importing):
    #: the next import of the same row skips it unread. Any other write clears it.
    import_digest: Mapped[str | None] = mapped_column(String(32))

    tags: Mapped[list[CustomerTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CustomerTag.tag"
    )
    interests: Mapped[list[Interest]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Interest.topic"
    )
    family: Mapped[list[FamilyMember]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="FamilyMember.id"
    )
    important_dates: Mapped[list[ImportantDate]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ImportantDate.id"
    )

    __table_args__ = (
        Index("ix_rapport_customer_birthday", "birth_month", "birth_day"),
        Index("ix_rapport_customer_since_month_day", "since_month", "since_day"),
        # The top segment counts and ranks active spenders from the index alone.
        Index("ix_rapport_customer_status_spend", "status", "spend_365d"),
        CheckConstraint("purchase_count >= 0", name="purchase_count_not_negative"),
        CheckConstraint(
            "check_in_every_days IS NULL OR check_in_every_days > 0", name="check_in_positive"
        ),
    )


class CustomerTag(Base):
    """A label on a customer (``vip``, ``wholesale``); rules select on tags in SQL."""

    __tablename__ = "rapport_customer_tag"

    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Interest(Base):
    """Something the customer cares about; worth a mention in a card or a call."""

    __tablename__ = "rapport_interest"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"))
    topic: Mapped[str] = mapped_column(String(200))
    topic_key: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[InterestCategory] = mapped_column(
        _enum(InterestCategory, "interest_category"), default=InterestCategory.OTHER
    )
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("customer_id", "topic_key"),)


class FamilyMember(Base):
    """A person (or pet) close to the customer, with a birthday when known."""

    __tablename__ = "rapport_family_member"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[Relation] = mapped_column(_enum(Relation, "relation"))
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    birth_day: Mapped[int | None] = mapped_column(SmallInteger)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_rapport_family_member_birthday", "birth_month", "birth_day"),)


class ImportantDate(Base):
    """A date that matters to the customer: a wedding anniversary, a company's founding."""

    __tablename__ = "rapport_important_date"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    year: Mapped[int | None] = mapped_column(SmallInteger)
    yearly: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("ix_rapport_important_date_month_day", "month", "day"),
        UniqueConstraint("customer_id", "label"),
    )


class Purchase(Base):
    """A purchase; ``external_id`` makes re-importing the same purchase a no-op."""

    __tablename__ = "rapport_purchase"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"))
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[PurchaseStatus] = mapped_column(
        _enum(PurchaseStatus, "purchase_status"), default=PurchaseStatus.COMPLETED
    )
    refunded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_rapport_purchase_customer_occurred", "customer_id", "occurred_at"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


class Interaction(Base):
    """A contact between the business and the customer, in either direction."""

    __tablename__ = "rapport_interaction"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"))
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "interaction_kind"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    occurred_at: Mapped[dt.datetime]
    summary: Mapped[str | None] = mapped_column(Text)
    staff: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("rapport_outreach_task.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_rapport_interaction_customer_occurred", "customer_id", "occurred_at"),
    )


class Case(Base):
    """A complaint or problem, kept open until it is resolved."""

    __tablename__ = "rapport_case"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    opened_at: Mapped[dt.datetime]
    summary: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
    owner: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[CaseStatus] = mapped_column(
        _enum(CaseStatus, "case_status"), default=CaseStatus.OPEN, index=True
    )
    resolved_at: Mapped[dt.datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_on_first_contact: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction_score: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint(
            "satisfaction_score IS NULL OR satisfaction_score BETWEEN 1 AND 5",
            name="satisfaction_score_range",
        ),
    )


class Promise(Base):
    """A commitment made to a customer: what, by when, and whether it was kept."""

    __tablename__ = "rapport_promise"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    what: Mapped[str] = mapped_column(Text)
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    status: Mapped[PromiseStatus] = mapped_column(
        _enum(PromiseStatus, "promise_status"), default=PromiseStatus.OPEN
    )
    staff: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class OutreachTask(Base):
    """One thing to do for one customer on one occasion: the planner's output.

    ``occasion_key`` is unique, so an occasion can never produce two tasks, however
    many planners run.
    """

    __tablename__ = "rapport_outreach_task"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"))
    rule: Mapped[str] = mapped_column(String(100))
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "task_kind"))
    channel: Mapped[str | None] = mapped_column(String(10))
    occasion_key: Mapped[str] = mapped_column(String(300), unique=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[TaskStatus] = mapped_column(
        _enum(TaskStatus, "task_status"), default=TaskStatus.PLANNED
    )
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to: Mapped[str | None] = mapped_column(String(200), index=True)
    send_at: Mapped[dt.datetime | None]
    snoozed_until: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    call_script: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    talking_points: Mapped[list[str] | None] = mapped_column(JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text)
    # The fact the occasion was planned from (the last contact of a check-in's cycle, the
    # first purchase of a thank-you note); a newer fact can make the task moot.
    anchor_at: Mapped[dt.datetime | None]
    service: Mapped[bool] = mapped_column(Boolean, default=False)
    rendered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_rapport_outreach_task_status_due", "status", "due_on"),
        # Expiry reads the open tasks whose window has ended, not every open task.
        Index("ix_rapport_outreach_task_status_window_end", "status", "window_end"),
        # A rule's reconcile reads its open tasks, not every task it ever made.
        Index("ix_rapport_outreach_task_rule_status", "rule", "status"),
        Index("ix_rapport_outreach_task_customer_due", "customer_id", "due_on"),
        CheckConstraint("window_end >= due_on", name="window_after_due"),
    )


class WaitingOccasion(Base):
    """An occasion due that found no room in its staff's days (see :mod:`rapport.capacity`).

    Not a task: the planner considers it again on every run, replacing what it found
    the run before. It is kept so a window that closes while waiting is recorded
    ``missed`` with reason ``no_capacity``, and so the backlog can be shown.
    """

    __tablename__ = "rapport_waiting"

    occasion_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    rule: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "waiting_kind"))
    channel: Mapped[str | None] = mapped_column(String(10))
    due_on: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer)
    #: The person it waits for (the owner or the customer's person); None: anyone who
    #: speaks the customer's language.
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    anchor_at: Mapped[dt.datetime | None]
    #: The first and the latest plan day it waited.
    since: Mapped[dt.date] = mapped_column(Date)
    seen_on: Mapped[dt.date] = mapped_column(Date)


class ConsentChange(Base):
    """The log of every consent and do-not-contact change: who said what, when, where."""

    __tablename__ = "rapport_consent_change"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    scope: Mapped[ConsentScope] = mapped_column(_enum(ConsentScope, "consent_scope"))
    old_value: Mapped[str] = mapped_column(String(20))
    new_value: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime]
    source: Mapped[str | None] = mapped_column(String(200))


class Checkpoint(Base):
    """How far a periodic job has brought the data (e.g. trailing spend as of a date).

    Lets the daily work touch only what changed since the last run instead of everything.
    """

    __tablename__ = "rapport_checkpoint"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime]


class PlannerRun(Base):
    """One run of the planner: when, for which day, and what it did (its report)."""

    __tablename__ = "rapport_planner_run"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    horizon_days: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class SurveyAnswer(Base):
    """A customer's answer to a survey: a 1-5 score and an optional comment."""

    __tablename__ = "rapport_survey_answer"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(_fk("rapport_customer"), index=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("rapport_outreach_task.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rapport_case.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime]

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)
