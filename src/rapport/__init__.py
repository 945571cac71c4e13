"""rapport: remember your customers, and reach out at the right moment.

The public API is re-exported here; everything else is an implementation detail.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from rapport._api import Rapport, utc_now
    from rapport.config import Settings, StaffMember, load_settings, parse_settings
    from rapport.database import create_engine, include_object, migrate
    from rapport.dates import PartialDate
    from rapport.explain import Explanation, RuleVerdict, Verdict
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
    from rapport.staffing import StaffLoad
    from rapport.store import WriteSummary

#: Where each public name lives. They are imported on first use, so that `rapport --help`
#: and a host app's start do not pay for SQLAlchemy, Alembic, pydantic and Jinja up front.
_LAZY_NAMES = {
    "CaseIn": "rapport.models.schemas",
    "CaseOut": "rapport.models.schemas",
    "CaseStatus": "rapport.models.enums",
    "Channel": "rapport.models.enums",
    "Consent": "rapport.models.schemas",
    "ConsentChangeOut": "rapport.models.schemas",
    "ConsentIn": "rapport.models.schemas",
    "ConsentScope": "rapport.models.enums",
    "ConsentState": "rapport.models.enums",
    "CustomerIn": "rapport.models.schemas",
    "CustomerOut": "rapport.models.schemas",
    "CustomerProfile": "rapport.models.schemas",
    "CustomerStatus": "rapport.models.enums",
    "Direction": "rapport.models.enums",
    "Explanation": "rapport.explain",
    "FamilyMemberIn": "rapport.models.schemas",
    "FamilyMemberOut": "rapport.models.schemas",
    "ImportKind": "rapport.importing",
    "ImportResult": "rapport.importing",
    "ImportantDateIn": "rapport.models.schemas",
    "ImportantDateOut": "rapport.models.schemas",
    "InteractionIn": "rapport.models.schemas",
    "InteractionKind": "rapport.models.enums",
    "InteractionOut": "rapport.models.schemas",
    "InterestCategory": "rapport.models.enums",
    "InterestIn": "rapport.models.schemas",
    "InterestOut": "rapport.models.schemas",
    "MessagePreview": "rapport.messages",
    "Occasion": "rapport.rules",
    "OccasionContext": "rapport.rules",
    "OutreachReport": "rapport.metrics",
    "OutreachRow": "rapport.exports",
    "PartialDate": "rapport.dates",
    "PlanContext": "rapport.rules",
    "PlanReport": "rapport.planner",
    "PlannedTask": "rapport.planner",
    "PromiseIn": "rapport.models.schemas",
    "PromiseOut": "rapport.models.schemas",
    "PromiseStatus": "rapport.models.enums",
    "PurchaseIn": "rapport.models.schemas",
    "PurchaseOut": "rapport.models.schemas",
    "PurchaseStatus": "rapport.models.enums",
    "Rapport": "rapport._api",
    "Relation": "rapport.models.enums",
    "RowProblem": "rapport.importing",
    "Rule": "rapport.rules",
    "RuleContext": "rapport.rules",
    "RuleMetrics": "rapport.metrics",
    "RuleReport": "rapport.planner",
    "RuleVerdict": "rapport.explain",
    "Settings": "rapport.config",
    "Severity": "rapport.models.enums",
    "StaffLoad": "rapport.staffing",
    "StaffMember": "rapport.config",
    "TaskKind": "rapport.models.enums",
    "TaskOut": "rapport.models.schemas",
    "TaskStatus": "rapport.models.enums",
    "Verdict": "rapport.explain",
    "WriteSummary": "rapport.store",
    "create_engine": "rapport.database",
    "include_object": "rapport.database",
    "load_settings": "rapport.config",
    "metadata": "rapport.models",
    "migrate": "rapport.database",
    "occasion_key": "rapport.rules.triggers",
    "parse_settings": "rapport.config",
    "utc_now": "rapport._api",
}


def __getattr__(name: str) -> object:
    """Import a public name on first use (PEP 562) and keep it."""
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'rapport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
    "Explanation",
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
    "RuleVerdict",
    "SchemaError",
    "Settings",
    "Severity",
    "StaffLoad",
    "StaffMember",
    "StateError",
    "TaskKind",
    "TaskOut",
    "TaskStatus",
    "TemplateError",
    "Verdict",
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
