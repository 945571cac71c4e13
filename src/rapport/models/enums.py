"""The fixed vocabularies of rapport's data (SPEC section 3)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A way to reach a customer; consent is kept per channel."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    MAIL = "mail"


class ConsentState(StrEnum):
    """What the customer said about a channel; ``unknown`` means never asked."""

    GRANTED = "granted"
    REFUSED = "refused"
    UNKNOWN = "unknown"


class CustomerStatus(StrEnum):
    """Whether rapport may reach out: only ``active`` customers are contacted."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DECEASED = "deceased"


class InterestCategory(StrEnum):
    """A rough grouping of interests, so messages can pick a fitting one."""

    HOBBY = "hobby"
    SPORT = "sport"
    FOOD = "food"
    MUSIC = "music"
    TRAVEL = "travel"
    FAMILY = "family"
    BUSINESS = "business"
    OTHER = "other"


class Relation(StrEnum):
    """How a family member (or pet) relates to the customer."""

    SPOUSE = "spouse"
    PARTNER = "partner"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    FRIEND = "friend"
    COLLEAGUE = "colleague"
    PET = "pet"
    OTHER = "other"


class PurchaseStatus(StrEnum):
    """A refunded purchase no longer counts towards spend or purchase count."""

    COMPLETED = "completed"
    REFUNDED = "refunded"


class InteractionKind(StrEnum):
    """The form a contact took."""

    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    CARD = "card"
    LETTER = "letter"
    SMS = "sms"
    MEETING = "meeting"
    NOTE = "note"


class Direction(StrEnum):
    """Who reached out: the customer (inbound) or the business (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Severity(StrEnum):
    """How serious a complaint is; it orders follow-ups."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class CaseStatus(StrEnum):
    """A case stays ``open`` until it is resolved."""

    OPEN = "open"
    RESOLVED = "resolved"


class PromiseStatus(StrEnum):
    """Where a promise stands; only ``open`` promises can change."""

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    RENEGOTIATED = "renegotiated"


class TaskKind(StrEnum):
    """What staff do for an outreach task: write a card, make a call, send a gift..."""

    CARD = "card"
    NOTE = "note"
    CALL = "call"
    EMAIL = "email"
    SMS = "sms"
    GIFT = "gift"
    SURVEY = "survey"
    REMINDER = "reminder"  # an internal task for staff, never sent to the customer


class TaskStatus(StrEnum):
    """An outreach task's life: planned, then done, skipped, snoozed, cancelled, expired, missed."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    SNOOZED = "snoozed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    MISSED = "missed"


#: Tasks still to do: planned, or put off to a later day.
OPEN_TASK_STATUSES = (TaskStatus.PLANNED, TaskStatus.SNOOZED)


class ConsentScope(StrEnum):
    """What a consent change was about: one channel, or the global do-not-contact flag."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    MAIL = "mail"
    DO_NOT_CONTACT = "do_not_contact"


#: What a done task records as the customer's interaction (a reminder records none: it
#: contacts nobody).
INTERACTION_FOR_TASK = {
    TaskKind.CARD: InteractionKind.CARD,
    TaskKind.NOTE: InteractionKind.LETTER,
    TaskKind.CALL: InteractionKind.CALL,
    TaskKind.EMAIL: InteractionKind.EMAIL,
    TaskKind.SMS: InteractionKind.SMS,
    TaskKind.GIFT: InteractionKind.NOTE,
    TaskKind.SURVEY: InteractionKind.NOTE,
}
