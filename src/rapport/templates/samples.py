"""Sample template variables, with and without the optional data, for checking templates.

``rapport templates check`` renders every template with both: a template must read well
for a customer we know a lot about and for one we know almost nothing about.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

SAMPLE_TODAY = dt.date(2026, 11, 23)


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


def sample_occasion(rule: str, kind: str, full: bool) -> dict[str, Any]:
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
    if rule == "birthday_card":
        occasion.update(
            birthday=SAMPLE_TODAY + dt.timedelta(days=7),
            age=50 if full else None,
            milestone=full,
        )
    elif rule == "thank_you_note":
        purchases: list[dict[str, Any]] = [
            {
                "description": "Espresso machine",
                "category": "kitchen",
                "amount": Decimal("649.90"),
                "currency": "EUR",
                "date": dt.date(2026, 11, 20),
            },
            {
                "description": "Milk jug",
                "category": "kitchen",
                "amount": Decimal("24.50"),
                "currency": "EUR",
                "date": dt.date(2026, 11, 21),
            },
        ]
        if not full:
            purchases = [{**purchases[0], "description": None}]
        occasion.update(
            purchases=purchases,
            total=sum((p["amount"] for p in purchases), Decimal(0)),
            currency="EUR",
        )
    elif rule == "check_in_call":
        occasion.update(last_contact=dt.date(2026, 8, 14) if full else None, every_days=90)
    elif rule == "welcome":
        occasion.update(
            first_purchase_on=dt.date(2026, 11, 20),
            item="Espresso machine" if full else None,
            thanks=full,
        )
    elif rule.startswith("aftercare"):
        occasion.update(item="Espresso machine" if full else None, bought_on=dt.date(2026, 11, 9))
    elif rule == "anniversary":
        occasion.update(
            anniversary="important_date" if full else "customer_since",
            label="Wedding anniversary" if full else None,
            anniversary_on=dt.date(2026, 11, 26),
            years=20 if full else 1,
        )
    elif rule == "family_birthday":
        occasion.update(
            member="Eero",
            relation="child" if full else "pet",
            pet=not full,
            birthday=dt.date(2026, 12, 5),
            turns=11 if full else None,
        )
    elif rule == "rhythm_break":
        occasion.update(
            last_purchase_on=dt.date(2026, 10, 2),
            usual_item="Coffee beans, 1 kg" if full else None,
            usual_weekdays=[0, 4] if full else [],
            median_gap_days=14.0,
        )
    elif rule == "surprise":
        occasion.update(month="2026-11", gift_value="25" if full else "")
    elif rule.startswith("promise_"):
        occasion.update(
            promise_id=7,
            what="Order the blue raincoat in size 40",
            promised_on=dt.date(2026, 11, 21),
            staff="Maria" if full else None,
        )
    elif rule.startswith("case_"):
        occasion.update(
            case_id=3,
            summary="The espresso machine leaks water",
            severity="high",
            opened_on=dt.date(2026, 11, 18),
            resolved_on=dt.date(2026, 11, 21) if rule == "case_survey" else None,
            round=2,
        )
    return occasion


def sample_variables(rule: str, kind: str, *, full: bool) -> dict[str, Any]:
    """Template variables for one rule and kind, rich (``full``) or nearly empty."""
    return {
        "customer": sample_customer(full),
        "occasion": sample_occasion(rule, kind, full),
        "business": {
            "name": "Harbour Books",
            "signature": "Maria and the Harbour Books team" if full else None,
        },
        "staff": "Maria" if full else None,
        "today": SAMPLE_TODAY,
    }
