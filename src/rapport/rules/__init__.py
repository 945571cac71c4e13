"""Outreach rules: each turns profiles and history into occasions.

Built-in rules: ``birthday_card``, ``thank_you_note``, ``check_in_call``. A host app adds
its own by subclassing :class:`Rule` (see docs/rules.md).
"""

from __future__ import annotations

from rapport.rules.base import DEFAULT_KINDS, Occasion, PlanContext, Rule
from rapport.rules.birthday_card import BirthdayCard
from rapport.rules.check_in_call import CheckInCall
from rapport.rules.complaints import CaseAcknowledge, CaseFollowUp, CaseSurvey
from rapport.rules.promises import PromiseDelayNotice, PromiseReminder
from rapport.rules.thank_you_note import ThankYouNote

#: The rules rapport ships, in the order the planner runs them: service first, so the
#: contact caps leave room for nurturing only after complaints and promises are served.
BUILTIN_RULES: tuple[type[Rule], ...] = (
    CaseAcknowledge,
    CaseFollowUp,
    PromiseDelayNotice,
    PromiseReminder,
    CaseSurvey,
    ThankYouNote,
    BirthdayCard,
    CheckInCall,
)

__all__ = [
    "BUILTIN_RULES",
    "DEFAULT_KINDS",
    "BirthdayCard",
    "CaseAcknowledge",
    "CaseFollowUp",
    "CaseSurvey",
    "CheckInCall",
    "Occasion",
    "PlanContext",
    "PromiseDelayNotice",
    "PromiseReminder",
    "Rule",
    "ThankYouNote",
]
