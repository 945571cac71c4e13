"""rapport: remember your customers, and reach out at the right moment.

The public API is re-exported here; everything else is an implementation detail.
"""

from __future__ import annotations

from rapport._api import Rapport, utc_now
from rapport._errors import (
    DatabaseError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
    RapportError,
    SchemaError,
    StateError,
)
from rapport.database import create_engine, include_object, migrate
from rapport.dates import PartialDate
from rapport.models import metadata
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
)
from rapport.store import WriteSummary

__version__ = "0.1.0"

__all__ = [
    "CaseIn",
    "CaseOut",
    "CaseStatus",
    "Channel",
    "Consent",
    "ConsentChangeOut",
    "ConsentIn",
    "ConsentScope",
    "ConsentState",
    "CustomerIn",
    "CustomerOut",
    "CustomerProfile",
    "CustomerStatus",
    "DatabaseError",
    "Direction",
    "FamilyMemberIn",
    "FamilyMemberOut",
    "FieldProblem",
    "ImportantDateIn",
    "ImportantDateOut",
    "InteractionIn",
    "InteractionKind",
    "InteractionOut",
    "InterestCategory",
    "InterestIn",
    "InterestOut",
    "InvalidInputError",
    "NotFoundError",
    "PartialDate",
    "PromiseIn",
    "PromiseOut",
    "PromiseStatus",
    "PurchaseIn",
    "PurchaseOut",
    "PurchaseStatus",
    "Rapport",
    "RapportError",
    "Relation",
    "SchemaError",
    "Severity",
    "StateError",
    "TaskKind",
    "TaskStatus",
    "WriteSummary",
    "__version__",
    "create_engine",
    "include_object",
    "metadata",
    "migrate",
    "utc_now",
]
