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
    ACTIVE = "active"
    INACTIVE = "inactive"
    DECEASED = "deceased"


class InterestCategory(StrEnum):
    HOBBY = "hobby"
    SPORT = "sport"
    FOOD = "food"
    MUSIC = "music"
    TRAVEL = "travel"
    FAMILY = "family"
    BUSINESS = "business"
    OTHER = "other"


class Relation(StrEnum):
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
    COMPLETED = "completed"
    REFUNDED = "refunded"


class InteractionKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    CARD = "card"
    LETTER = "letter"
    SMS = "sms"
    MEETING = "meeting"
    NOTE = "note"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Severity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    RENEGOTIATED = "renegotiated"


class TaskKind(StrEnum):
    CARD = "card"
    NOTE = "note"
    CALL = "call"
    EMAIL = "email"
    SMS = "sms"
    GIFT = "gift"
    SURVEY = "survey"


class TaskStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    SNOOZED = "snoozed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    MISSED = "missed"


class ConsentScope(StrEnum):
    """What a consent change was about: one channel, or the global do-not-contact flag."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    MAIL = "mail"
    DO_NOT_CONTACT = "do_not_contact"
