"""rapport: remember your customers, and reach out at the right moment.

The public API is re-exported here; everything else is an implementation detail.
"""

from __future__ import annotations

from rapport._api import Rapport, utc_now
from rapport._errors import (
    ConfigError,
    DatabaseError,
    FieldProblem,
    ImportRejected,
    InvalidInputError,
    NotFoundError,
    RapportError,
    SchemaError,
    StateError,
    TemplateError,
)
from rapport.config import Settings, load_settings, parse_settings
from rapport.database import create_engine, include_object, migrate
from rapport.dates import PartialDate
from rapport.exports import OutreachRow
from rapport.importing import ImportKind, ImportResult, RowProblem
from rapport.messages import MessagePreview
from rapport.metrics import OutreachReport, RuleMetrics
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
    TaskOut,
)
from rapport.planner import PlannedTask, PlanReport, RuleReport
from rapport.rules import Occasion, OccasionContext, PlanContext, Rule, RuleContext
from rapport.rules.triggers import occasion_key
from rapport.store import WriteSummary

__version__ = "0.1.0"

__all__ = [
    "CaseIn",
    "CaseOut",
    "CaseStatus",
    "Channel",
    "ConfigError",
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
    "ImportKind",
    "ImportRejected",
    "ImportResult",
    "ImportantDateIn",
    "ImportantDateOut",
    "InteractionIn",
    "InteractionKind",
    "InteractionOut",
    "InterestCategory",
    "InterestIn",
    "InterestOut",
    "InvalidInputError",
    "MessagePreview",
    "NotFoundError",
    "Occasion",
    "OccasionContext",
    "OutreachReport",
    "OutreachRow",
    "PartialDate",
    "PlanContext",
    "PlanReport",
    "PlannedTask",
    "PromiseIn",
    "PromiseOut",
    "PromiseStatus",
    "PurchaseIn",
    "PurchaseOut",
    "PurchaseStatus",
    "Rapport",
    "RapportError",
    "Relation",
    "RowProblem",
    "Rule",
    "RuleContext",
    "RuleMetrics",
    "RuleReport",
    "SchemaError",
    "Settings",
    "Severity",
    "StateError",
    "TaskKind",
    "TaskOut",
    "TaskStatus",
    "TemplateError",
    "WriteSummary",
    "__version__",
    "create_engine",
    "include_object",
    "load_settings",
    "metadata",
    "migrate",
    "occasion_key",
    "parse_settings",
    "utc_now",
]
