"""Sample template variables, with and without the optional data, for checking templates.

``rapport templates check`` renders every template with both: a template must read well
for a customer we know a lot about and for one we know almost nothing about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rapport.rules import BUILTIN_BY_NAME, Rule
from rapport.rules.base import SAMPLE_DAY

SAMPLE_TODAY = SAMPLE_DAY


def sample_customer(full: bool) -> dict[str, Any]:
    if not full:
        return {
            "id": "SAMPLE-2",
            "name": None,
            "first_name": None,
            "last_name": None,
            "full_name": None,
            "language": None,
            "email": None,
            "phone": None,
            "city": None,
            "interests": [],
            "interest_details": [],
            "family": [],
            "upcoming_family_birthdays": [],
            "age": None,
            "since": None,
            "years_as_customer": None,
            "usual_item": None,
            "usual_weekdays": [],
            "median_gap_days": None,
            "purchase_count": 0,
            "last_purchase": None,
            "open_cases": [],
            "open_promises": [],
            "last_conversation": None,
        }
    child = {
        "name": "Eero",
        "relation": "child",
        "birthday": dt.date(2026, 12, 5),
        "days_until_birthday": 12,
        "turns": 11,
        "note": None,
    }
    spouse = {
        "name": "Mikko",
        "relation": "spouse",
        "birthday": None,
        "days_until_birthday": None,
        "turns": None,
        "note": None,
    }
    return {
        "id": "SAMPLE-1",
        "name": "Aino",
        "first_name": "Aino",
        "last_name": "Virtanen",
        "full_name": "Aino Virtanen",
        "language": "fi",
        "email": "aino@example.com",
        "phone": "+358 40 123 4567",
        "city": "Helsinki",
        "interests": ["sailing", "jazz"],
        "interest_details": [
            {"topic": "sailing", "category": "sport", "note": "Sails a Finn dinghy"},
            {"topic": "jazz", "category": "music", "note": None},
        ],
        "family": [spouse, child],
        "upcoming_family_birthdays": [child],
        "age": 50,
        "since": dt.date(2019, 5, 4),
        "years_as_customer": 7,
        "usual_item": "Coffee beans, 1 kg",
        "usual_weekdays": [0, 4],
        "median_gap_days": 14.0,
        "purchase_count": 23,
        "last_purchase": {
            "description": "Espresso machine",
            "date": dt.date(2026, 11, 20),
            "amount": Decimal("649.90"),
            "currency": "EUR",
        },
        "open_cases": [
            {
                "summary": "Milk frother is noisy",
                "opened_on": dt.date(2026, 11, 21),
                "severity": "normal",
            }
        ],
        "open_promises": [
            {
                "what": "Call back about the frother",
                "due_on": dt.date(2026, 11, 25),
                "staff": "maria",
            }
        ],
        "last_conversation": {
            "date": dt.date(2026, 8, 14),
            "kind": "call",
            "direction": "outbound",
            "summary": "Planning a sailing trip to the archipelago",
            "staff": "maria",
        },
    }


def sample_occasion(
    rule: str, kind: str, full: bool, rules: Mapping[str, type[Rule]] | None = None
) -> dict[str, Any]:
    """The occasion of a sample task: the rule's own example context (a template folder
    no rule is named after gets the common part only)."""
    occasion: dict[str, Any] = {
        "rule": rule,
        "kind": kind,
        "channel": {"card": "mail", "note": "mail", "call": "phone", "reminder": None}.get(
            kind, kind
        ),
        "due_on": SAMPLE_TODAY,
        "window_end": SAMPLE_TODAY + dt.timedelta(days=7),
        "late": False,
    }
    known = (rules if rules is not None else BUILTIN_BY_NAME).get(rule)
    if known is not None:
        occasion.update(known.sample_context(full))
    return occasion


def sample_variables(
    rule: str, kind: str, *, full: bool, rules: Mapping[str, type[Rule]] | None = None
) -> dict[str, Any]:
    """Template variables for one rule and kind, rich (``full``) or nearly empty."""
    return {
        "customer": sample_customer(full),
        "occasion": sample_occasion(rule, kind, full, rules),
        "business": {
            "name": "Harbour Books",
            "signature": "Maria and the Harbour Books team" if full else None,
        },
        "staff": "Maria" if full else None,
        "today": SAMPLE_TODAY,
    }
