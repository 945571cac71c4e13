"""Outreach rules: each turns profiles and history into occasions.

Built-in rules: ``birthday_card``, ``thank_you_note``, ``check_in_call``. A host app adds
its own by subclassing :class:`Rule` (see docs/rules.md).
"""

from __future__ import annotations

from rapport.rules.base import DEFAULT_KINDS, Occasion, PlanContext, Rule
from rapport.rules.birthday_card import BirthdayCard
from rapport.rules.check_in_call import CheckInCall
from rapport.rules.thank_you_note import ThankYouNote

#: The rules rapport ships, in the order the planner runs them.
BUILTIN_RULES: tuple[type[Rule], ...] = (ThankYouNote, BirthdayCard, CheckInCall)

__all__ = [
    "BUILTIN_RULES",
    "DEFAULT_KINDS",
    "BirthdayCard",
    "CheckInCall",
    "Occasion",
    "PlanContext",
    "Rule",
    "ThankYouNote",
]
