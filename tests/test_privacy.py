"""A customer's data on request (GDPR articles 15 and 20) and its erasure (article 17).

The erasure test scans every text column of every rapport table afterwards, so a column
added later that holds personal data, and that erase forgets, fails it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Engine, String, Text, select

from rapport import Rapport, metadata, parse_settings
from tests.conftest import FixedClock, empty_tables, only_rules, tried

AS_OF = dt.date(2026, 11, 22)
# The erased customer's personal strings: each one is unusual enough that finding it
# anywhere after the erasure can only mean a leak.
AINO = {
    "first_name": "Ainoslotta",
    "last_name": "Kivimäkinen",
    "preferred_name": "Slotta",
    "email": "ainoslotta.kivi@example.fi",
    "phone": "+358 40 765 4321",
    "address_line1": "Sirkankuja 17 B",
    "address_line2": "Porraskäytävä Kuusi",
    "postal_code": "FI-33210",
    "city": "Näsijärvenranta",
    "notes": "Prefers oolong from the blue tin",
}
AINO_TEXT = {
    "tag": "koripallofani",
    "interest": "Tangomarkkinat",
    "interest_note": "went with her cousin Ilpotar",
    "family": "Veikkoporo",
    "family_note": "retired harbour pilot",
    "date_label": "Hääpäivä Kolin huipulla",
    "purchase": "Silver locket engraved for Veikkoporo",
    "interaction": "Talked about the knee surgery in Tampere",
    "case": "Locket clasp broke on the ferry",
    "resolution": "Replaced the clasp with a gold one",
    "promise": "Order the jade earrings she liked",
    "promise_note": "The supplier in Turku confirmed",
    "consent_source": "Signed at the Näsijärvenranta shop",
    "survey": "Lovely service from Mikaelaina",
    "outcome": "She cried happy tears on the phone",
}
SETTINGS = {
    "rules": {
        **only_rules("birthday_card", "thank_you_note", "promise_reminder"),
        "birthday_card": {"channels": ["mail"]},
        "thank_you_note": {"channels": ["mail"], "min_amount": 100},
    }
}


@pytest.fixture
def crm(engine: Engine, clock: FixedClock) -> Iterator[Rapport]:
    yield Rapport(engine, settings=parse_settings(SETTINGS), clock=clock)
    empty_tables(engine)


def fill(crm: Rapport, external_id: str, personal: dict[str, str], text: dict[str, str]) -> None:
    """One customer with something personal in every place rapport keeps text."""
    crm.upsert_customer(
        {
            "external_id": external_id,
            **personal,
            "birthday": "1961-11-25",
            "tags": [text["tag"]],
            "consent_mail": "granted",
            "consent_source": text["consent_source"],
        }
    )
    crm.add_interest(external_id, {"topic": text["interest"], "note": text["interest_note"]})
    crm.add_family_member(
        external_id,
        {"name": text["family"], "relation": "spouse", "note": text["family_note"]},
    )
    crm.add_important_date(external_id, {"label": text["date_label"], "date": "--06-14"})
    at = dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC)
    crm.record_purchase(
        {
            "customer_id": external_id,
            "occurred_at": at,
            "amount": 450,
            "description": text["purchase"],
        }
    )
    crm.record_interaction(
        {
            "customer_id": external_id,
            "occurred_at": at,
            "kind": "visit",
            "direction": "inbound",
            "summary": text["interaction"],
        }
    )
    case = crm.open_case({"customer_id": external_id, "summary": text["case"], "opened_at": at})
    crm.resolve_case(case.id, resolution=text["resolution"], satisfaction_score=5)
    promise = crm.create_promise(
        {"customer_id": external_id, "what": text["promise"], "due_at": "2026-11-24T10:00Z"}
    )
    crm.plan(AS_OF)
    crm.keep_promise(promise.id, note=text["promise_note"])
    tasks = crm.find_tasks(customer_id=external_id)
    note = next(task for task in tasks if task.rule == "thank_you_note")
    crm.complete_task(note.id, outcome=text["outcome"])
    crm.record_survey(5, comment=text["survey"], case_id=case.id)


@pytest.fixture
def two_customers(crm: Rapport) -> Rapport:
    fill(crm, "C-AINO", AINO, AINO_TEXT)
    # The other customer's strings are Aino's reversed: none contains one of hers.
    other = {key: value[::-1] for key, value in AINO.items()}
    other["email"] = "keijo@example.fi"
    other["phone"] = "+358 50 111 2222"
    fill(crm, "C-KEIJO", other, {key: value[::-1] for key, value in AINO_TEXT.items()})
    return crm


def dumps(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def text_values(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text and JSON value in every rapport table."""
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            assert table.name.startswith("rapport_")
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        shown = value if isinstance(value, str) else dumps(value)
                        found.append((table.name, column.name, shown))
    return found


def leaks(engine: Engine, strings: list[str]) -> list[tuple[str, str, str]]:
    lowered = [s.casefold() for s in strings]
    return [
        (table, column, needle)
        for table, column, value in text_values(engine)
        for needle in lowered
        if needle in value.casefold()
    ]


def stored_personal_strings(crm: Rapport, external_id: str) -> list[str]:
    customer = crm.get_customer(external_id)
    assert customer.phone is not None
    assert customer.email is not None
    # What the customer typed, and the forms rapport stored it in (a normalised phone).
    return [*AINO.values(), *AINO_TEXT.values(), customer.phone, customer.email]


def test_export_holds_every_row_about_the_customer(two_customers: Rapport) -> None:
    crm = two_customers
    document = crm.export_customer("C-AINO")
    dumped = dumps(document)
    missing = [s for s in stored_personal_strings(crm, "C-AINO") if s not in dumped]
    assert missing == []
    # Every table that holds rows about a customer is in the document, and nothing of
    # the other customer is.
    owned = {
        table.name.removeprefix("rapport_")
        for table in metadata.sorted_tables
        if "customer_id" in table.columns
    }
    assert owned <= document.keys()
    assert "keijo@example.fi" not in dumped
    assert AINO_TEXT["interest"][::-1] not in dumped
    assert document["customer"]["external_id"] == "C-AINO"
    assert len(document["survey_answer"]) == 1
    assert len(document["outreach_task"]) >= 3


def test_erase_leaves_no_personal_string_in_any_text_column(
    two_customers: Rapport, engine: Engine
) -> None:
    crm = two_customers
    personal = stored_personal_strings(crm, "C-AINO")
    assert leaks(engine, personal), "the scan must find the strings before the erasure"
    keijo = crm.get_customer("C-KEIJO")
    before = crm.get_customer("C-AINO")

    assert crm.erase_customer("C-AINO") is True

    assert leaks(engine, personal) == []
    tried(
        f"erase: scanned {len(text_values(engine))} text values in "
        f"{len(metadata.sorted_tables)} tables for {len(personal)} personal strings: none found"
    )
    # The other customer is untouched.
    assert crm.get_customer("C-KEIJO") == keijo
    assert AINO_TEXT["interest"][::-1] in dumps(crm.export_customer("C-KEIJO"))
    # Anonymous aggregates stay right: amounts, counts and the rollups.
    after = crm.export_customer("C-AINO")  # found by the original id, now hashed
    assert (after["customer"]["lifetime_value"], after["customer"]["purchase_count"]) == (
        before.lifetime_value,
        before.purchase_count,
    )
    assert before.lifetime_value == Decimal(450)
    report = crm.report(AS_OF - dt.timedelta(days=30), AS_OF + dt.timedelta(days=30))
    assert report.model_dump()["rules"]["thank_you_note"]["tasks"] == 2
    # Nothing open is left to contact the erased customer.
    assert {t["status"] for t in after["outreach_task"]} <= {"done", "cancelled"}
    assert after["customer"]["do_not_contact"]


def test_erase_is_idempotent_and_found_by_the_original_id(
    two_customers: Rapport, engine: Engine
) -> None:
    crm = two_customers
    assert crm.erase_customer("C-AINO") is True
    snapshot = sorted(text_values(engine))
    assert crm.erase_customer("C-AINO") is False
    assert sorted(text_values(engine)) == snapshot
    # The planner never contacts the erased customer again.
    assert crm.plan(AS_OF + dt.timedelta(days=1)).created == 0
    statuses = {t["status"] for t in crm.export_customer("C-AINO")["outreach_task"]}
    assert statuses <= {"done", "cancelled"}


def test_export_after_erase_shows_only_anonymous_facts(two_customers: Rapport) -> None:
    crm = two_customers
    crm.erase_customer("C-AINO")
    dumped = dumps(crm.export_customer("C-AINO"))
    assert [s for s in stored_personal_strings(crm, "C-KEIJO") if s in dumped] == []
    assert "450" in dumped  # the purchase amount is kept for the totals
