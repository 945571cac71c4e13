"""Outreach rules: each turns profiles and history into occasions.

Built-in rules: ``birthday_card``, ``thank_you_note``, ``check_in_call``. A host app adds
its own by subclassing :class:`Rule` (see docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapport._errors import ConfigError
from rapport.config import Settings
from rapport.rules.aftercare import Aftercare, named_aftercare
from rapport.rules.anniversary import Anniversary
from rapport.rules.base import (
    DEFAULT_KINDS,
    Absence,
    Occasion,
    OccasionContext,
    PlanContext,
    Rule,
    RuleContext,
)
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


def rule_classes(
    settings: Settings, extra_rules: Sequence[type[Rule]] = ()
) -> dict[str, type[Rule]]:
    """Every rule these settings know, by name: the built-ins, one more aftercare rule per
    ``[rules.aftercare_<name>]`` section, the ``[[custom_rules]]`` and a host app's own.

    The planner runs them; rendering and lists read each one's context model, label and
    reason from here, so nothing else needs to know a rule's name.
    """
    from rapport.rules.declarative import declarative_rule  # it builds on this package

    custom = [declarative_rule(spec) for spec in settings.custom_rules]
    classes = [*_shipped(settings), *custom, *extra_rules]
    names = [cls.name for cls in classes]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"two rules are named {duplicates[0]!r}; rule names must differ")
    if unknown := sorted(set(settings.rules.names()) - set(names)):
        raise ConfigError(
            f"rules.{unknown[0]}: unknown rule; known rules: {', '.join(sorted(names))}"
        )
    return {cls.name: cls for cls in classes}


def _shipped(settings: Settings) -> list[type[Rule]]:
    """The built-in rules and one more aftercare rule per ``[rules.aftercare_<name>]``."""
    aftercare = [
        named_aftercare(name)
        for name in settings.rules.names()
        if name.startswith(f"{Aftercare.name}_")
    ]
    return [*BUILTIN_RULES, *aftercare]


def section_problems(settings: Settings) -> list[str]:
    """What is wrong in the ``[rules.<name>]`` sections of the rules rapport ships, each
    read by the settings model that lives with its rule (``key.path: reason``)."""
    problems = []
    for rule in _shipped(settings):
        try:
            settings.rules.of(rule.name, rule.settings_model)
        except ConfigError as error:
            problems.append(str(error))
    return problems


#: The built-in rules by name (what a renderer or a sample knows without settings).
BUILTIN_BY_NAME: Mapping[str, type[Rule]] = {rule.name: rule for rule in BUILTIN_RULES}

__all__ = [
    "BUILTIN_BY_NAME",
    "BUILTIN_RULES",
    "DEFAULT_KINDS",
    "Absence",
    "Aftercare",
    "Anniversary",
    "BirthdayCard",
    "CaseAcknowledge",
    "CaseFollowUp",
    "CaseSurvey",
    "CheckInCall",
    "FamilyBirthday",
    "Occasion",
    "OccasionContext",
    "PlanContext",
    "PromiseDelayNotice",
    "PromiseReminder",
    "RhythmBreak",
    "Rule",
    "RuleContext",
    "Surprise",
    "ThankYouNote",
    "Welcome",
    "named_aftercare",
    "rule_classes",
    "section_problems",
]
