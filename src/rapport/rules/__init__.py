"""Outreach rules: each turns profiles and history into occasions.

Built-in rules: ``birthday_card``, ``thank_you_note``, ``check_in_call``. A host app adds
its own by subclassing :class:`Rule` (see docs/rules.md).
"""

from __future__ import annotations

from rapport.rules.aftercare import Aftercare, named_aftercare
from rapport.rules.anniversary import Anniversary
from rapport.rules.base import DEFAULT_KINDS, Occasion, PlanContext, Rule
from rapport.rules.birthday_card import BirthdayCard
from rapport.rules.check_in_call import CheckInCall
from rapport.rules.complaints import CaseAcknowledge, CaseFollowUp, CaseSurvey
from rapport.rules.family_birthday import FamilyBirthday
from rapport.rules.promises import PromiseDelayNotice, PromiseReminder
from rapport.rules.rhythm_break import RhythmBreak
from rapport.rules.surprise import Surprise
from rapport.rules.thank_you_note import ThankYouNote
from rapport.rules.welcome import Welcome

#: The rules rapport ships, in the order the planner runs them: service first, so the
#: contact caps leave room for nurturing only after complaints and promises are served.
BUILTIN_RULES: tuple[type[Rule], ...] = (
    CaseAcknowledge,
    CaseFollowUp,
    PromiseDelayNotice,
    PromiseReminder,
    CaseSurvey,
    ThankYouNote,
    Welcome,
    Aftercare,
    BirthdayCard,
    Anniversary,
    FamilyBirthday,
    RhythmBreak,
    CheckInCall,
    Surprise,
)

__all__ = [
    "BUILTIN_RULES",
    "DEFAULT_KINDS",
    "Aftercare",
    "Anniversary",
    "BirthdayCard",
    "CaseAcknowledge",
    "CaseFollowUp",
    "CaseSurvey",
    "CheckInCall",
    "FamilyBirthday",
    "Occasion",
    "PlanContext",
    "PromiseDelayNotice",
    "PromiseReminder",
    "RhythmBreak",
    "Rule",
    "Surprise",
    "ThankYouNote",
    "Welcome",
    "named_aftercare",
]
