"""pydantic models at rapport's boundary: what callers pass in and what they get back.

Input models reject bad values with messages that name the field and the value. Output
models are detached copies: a caller never holds a live ORM object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    model_validator,
)

from rapport.dates import PartialDate
from rapport.models.enums import (
    CaseStatus,
    Channel,
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
from rapport.models.values import (
    Amount,
    ExternalId,
    Label,
    OptionalCountryCode,
    OptionalCurrencyCode,
    OptionalEmail,
    OptionalExternalId,
    OptionalLanguageTag,
    OptionalLine,
    OptionalLongText,
    OptionalPhone,
    OptionalTimeZoneName,
    RequiredLine,
    RequiredLongText,
    ShortLine,
    Tag,
    Timestamp,
    _blank_to_none,
)


def _topic_as_interest(value: object) -> object:
    return {"topic": value} if isinstance(value, str) else value


def _unique(key: Callable[[Any], str]) -> AfterValidator:
    """A list in which no two items share ``key`` (a field check, so the error names the
    list and costs nothing when the list is not given)."""

    def check(items: list[Any] | None) -> list[Any] | None:
        keys = [key(item) for item in items or ()]
        if len(set(keys)) != len(keys):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"lists {duplicates[0]!r} more than once")
        return items

    return AfterValidator(check)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


# --------------------------------------------------------------------------- inputs


class InterestIn(_Input):
    """An interest to remember; a plain string is accepted as the topic."""

    topic: RequiredLine
    category: InterestCategory = InterestCategory.OTHER
    note: OptionalLongText = None


class FamilyMemberIn(_Input):
    """A person (or pet) close to the customer, with a birthday when known."""

    name: RequiredLine
    relation: Relation
    birthday: Annotated[PartialDate | None, BeforeValidator(_blank_to_none)] = None
    note: OptionalLongText = None


class ImportantDateIn(_Input):
    """A date to remember; ``yearly=False`` dates happen once and need their year."""

    label: RequiredLine
    date: PartialDate
    yearly: bool = True

    @model_validator(mode="after")
    def _once_needs_year(self) -> ImportantDateIn:
        if not self.yearly and self.date.year is None:
            raise ValueError(f"date {self.date} happens once, so it needs a year (YYYY-MM-DD)")
        return self


class CustomerIn(_Input):
    """A customer to create or update, keyed by the host app's ``external_id``.

    On update only the fields that were given change; a field given as ``None`` is
    cleared. ``tags``, ``interests``, ``family`` and ``important_dates``, when given,
    become the customer's whole list (existing entries that match are kept with their
    notes).
    """

    external_id: ExternalId
    first_name: OptionalLine = None
    last_name: OptionalLine = None
    preferred_name: OptionalLine = None
    email: OptionalEmail = None
    phone: OptionalPhone = None
    address_line1: OptionalLine = None
    address_line2: OptionalLine = None
    postal_code: ShortLine = None
    city: OptionalLine = None
    country: OptionalCountryCode = None
    language: OptionalLanguageTag = None
    timezone: OptionalTimeZoneName = None
    birthday: Annotated[PartialDate | None, BeforeValidator(_blank_to_none)] = None
    customer_since: Annotated[dt.date | None, BeforeValidator(_blank_to_none)] = None
    tags: list[Tag] | None = None
    interests: Annotated[
        list[Annotated[InterestIn, BeforeValidator(_topic_as_interest)]] | None,
        _unique(lambda interest: interest.topic.casefold()),
    ] = None
    family: list[FamilyMemberIn] | None = None
    important_dates: Annotated[list[ImportantDateIn] | None, _unique(lambda date: date.label)] = (
        None
    )
    owner: OptionalLine = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    consent_email: ConsentState | None = None
    consent_sms: ConsentState | None = None
    consent_phone: ConsentState | None = None
    consent_mail: ConsentState | None = None
    consent_source: OptionalLine = None
    consent_at: Timestamp | None = None
    do_not_contact: bool | None = None
    check_in_every_days: PositiveInt | None = None
    notes: OptionalLongText = None


class PurchaseIn(_Input):
    """A purchase; give ``external_id`` so that recording it twice changes nothing.

    ``currency`` defaults to the business currency.
    """

    customer_id: ExternalId
    external_id: OptionalExternalId = None
    occurred_at: Timestamp
    amount: Amount
    currency: OptionalCurrencyCode = None
    description: OptionalLongText = None
    category: Label = None
    status: PurchaseStatus = PurchaseStatus.COMPLETED


class InteractionIn(_Input):
    """A contact with the customer; it resets the "time since last contact" clock."""

    customer_id: ExternalId
    occurred_at: Timestamp
    kind: InteractionKind
    direction: Direction
    summary: OptionalLongText = None
    staff: OptionalLine = None
    task_id: PositiveInt | None = None
    external_id: OptionalExternalId = None


class CaseIn(_Input):
    """A complaint or problem reported by (or for) a customer."""

    customer_id: ExternalId
    summary: RequiredLongText
    opened_at: Timestamp
    severity: Severity = Severity.NORMAL
    owner: OptionalLine = None
    external_id: OptionalExternalId = None


class PromiseIn(_Input):
    """A commitment to a customer, due at a given time."""

    customer_id: ExternalId
    what: RequiredLongText
    due_at: Timestamp
    staff: OptionalLine = None


class ConsentIn(_Input):
    """A customer's answer about one channel, with when and where it was given."""

    channel: Channel
    state: ConsentState
    source: OptionalLine = None
    at: Timestamp | None = None


class SurveyIn(_Input):
    """A survey answer: a score from 1 (poor) to 5 (excellent), for a task or a case."""

    score: Annotated[int, Field(ge=1, le=5)]
    comment: OptionalLongText = None
    task_id: PositiveInt | None = None
    case_id: PositiveInt | None = None

    @model_validator(mode="after")
    def _about_something(self) -> SurveyIn:
        if self.task_id is None and self.case_id is None:
            raise ValueError("give the task_id or the case_id the answer is about")
        return self


# --------------------------------------------------------------------------- outputs


class Consent(_Output):
    """What the customer said about one channel, when, and where."""

    state: ConsentState
    changed_at: dt.datetime | None
    source: str | None


class CustomerOut(_Output):
    """A customer's profile fields and rollups (without the related lists)."""

    id: int
    external_id: str
    first_name: str | None
    last_name: str | None
    preferred_name: str | None
    email: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    language: str | None
    timezone: str | None
    birthday: PartialDate | None
    customer_since: dt.date | None
    tags: list[str]
    owner: str | None
    status: CustomerStatus
    consent: dict[Channel, Consent]
    do_not_contact: bool
    check_in_every_days: int | None
    notes: str | None
    first_purchase_at: dt.datetime | None
    last_purchase_at: dt.datetime | None
    purchase_count: int
    lifetime_value: Decimal
    spend_365d: Decimal
    spend_365d_as_of: dt.date | None
    last_interaction_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    erased_at: dt.datetime | None = None

    @property
    def display_name(self) -> str:
        """The name to greet the customer by: preferred, else first, else full name."""
        return (
            self.preferred_name
            or self.first_name
            or " ".join(n for n in (self.first_name, self.last_name) if n)
            or self.external_id
        )


class InterestOut(_Output):
    """A remembered interest."""

    id: int
    topic: str
    category: InterestCategory
    note: str | None


class FamilyMemberOut(_Output):
    """A family member as stored."""

    id: int
    name: str
    relation: Relation
    birthday: PartialDate | None
    note: str | None


class ImportantDateOut(_Output):
    """An important date as stored."""

    id: int
    label: str
    date: PartialDate
    yearly: bool


class PurchaseOut(_Output):
    """A purchase as stored; ``customer_id`` is the external id."""

    id: int
    customer_id: str
    external_id: str | None
    occurred_at: dt.datetime
    amount: Decimal
    currency: str
    description: str | None
    category: str | None
    status: PurchaseStatus
    refunded_at: dt.datetime | None


class InteractionOut(_Output):
    """An interaction as stored; ``customer_id`` is the external id."""

    id: int
    customer_id: str
    external_id: str | None
    occurred_at: dt.datetime
    kind: InteractionKind
    direction: Direction
    summary: str | None
    staff: str | None
    task_id: int | None


class CaseOut(_Output):
    """A complaint or problem case as stored."""

    id: int
    customer_id: str
    external_id: str | None
    opened_at: dt.datetime
    summary: str
    severity: Severity
    owner: str | None
    status: CaseStatus
    resolved_at: dt.datetime | None
    resolution: str | None
    resolved_on_first_contact: bool | None
    satisfaction_score: int | None


class PromiseOut(_Output):
    """A promise as stored."""

    id: int
    customer_id: str
    what: str
    due_at: dt.datetime
    status: PromiseStatus
    staff: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    note: str | None


class SurveyAnswerOut(_Output):
    """A recorded survey answer."""

    id: int
    customer_id: str
    task_id: int | None
    case_id: int | None
    score: int
    comment: str | None
    answered_at: dt.datetime


class ConsentChangeOut(_Output):
    """One entry of the consent log: what changed, from what to what, when, where."""

    id: int
    scope: ConsentScope
    old_value: str
    new_value: str
    changed_at: dt.datetime
    source: str | None


class RhythmOut(_Output):
    """How the customer usually buys (from two years of purchases)."""

    visits: int
    usual_item: str | None
    usual_weekdays: list[int]  # Monday = 0
    median_gap_days: float | None


class CustomerProfile(CustomerOut):
    """Everything staff should know before contacting the customer."""

    rhythm: RhythmOut

    interests: list[InterestOut]
    family: list[FamilyMemberOut]
    important_dates: list[ImportantDateOut]
    recent_purchases: list[PurchaseOut]
    recent_interactions: list[InteractionOut]
    open_cases: list[CaseOut]
    open_promises: list[PromiseOut]


class TaskOut(_Output):
    """An outreach task: who to reach, why, when, how, and what became of it."""

    id: int
    customer_id: str
    rule: str
    kind: TaskKind
    channel: Channel | None
    occasion_key: str
    due_on: dt.date
    window_end: dt.date
    priority: int
    status: TaskStatus
    late: bool
    assigned_to: str | None
    send_at: dt.datetime | None
    snoozed_until: dt.date | None
    context: dict[str, Any] | None
    reason: str | None
    outcome: str | None
    service: bool
    created_at: dt.datetime
    completed_at: dt.datetime | None
