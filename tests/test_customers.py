"""Customer profiles: upserts by external id, the lists on a profile, and finding customers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from rapport import (
    Channel,
    ConsentState,
    InterestCategory,
    NotFoundError,
    PartialDate,
    Rapport,
    Relation,
)
from rapport.models.tables import Customer
from tests.conftest import FixedClock, count_rows

AINO: dict[str, Any] = {
    "external_id": "C-1",
    "first_name": "Aino",
    "last_name": "Virtanen",
    "preferred_name": "Ainoliina",
    "email": "aino@Example.FI",
    "phone": "+358 40 123 4567",
    "address_line1": "Rantakatu 5",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "fi",
    "language": "fi",
    "timezone": "Europe/Helsinki",
    "birthday": "--02-29",
    "customer_since": "2019-05-04",
    "tags": ["vip", "wholesale"],
    "interests": ["Sailing", {"topic": "Jazz", "category": "music", "note": "loves Monk"}],
    "family": [{"name": "Eero", "relation": "child", "birthday": "2015-06-01"}],
    "important_dates": [{"label": "Wedding anniversary", "date": "2010-08-14"}],
    "owner": "maria",
    "consent_email": "granted",
    "consent_source": "shop counter form",
    "check_in_every_days": 60,
    "notes": "Prefers mornings.\nParks at the back.",
}


def test_upsert_creates_a_customer_with_every_field(rapport: Rapport) -> None:
    customer = rapport.upsert_customer(AINO)
    assert customer.external_id == "C-1"
    assert customer.email == "aino@example.fi"
    assert customer.country == "FI"
    assert customer.birthday == PartialDate(month=2, day=29)
    assert customer.tags == ["vip", "wholesale"]
    assert customer.consent[Channel.EMAIL].state is ConsentState.GRANTED
    assert customer.consent[Channel.EMAIL].source == "shop counter form"
    assert customer.consent[Channel.SMS].state is ConsentState.UNKNOWN
    assert customer.notes == "Prefers mornings.\nParks at the back."
    assert customer.display_name == "Ainoliina"
    assert customer.purchase_count == 0
    assert customer.lifetime_value == 0


def test_re_upserting_the_same_customer_changes_nothing(
    rapport: Rapport, engine: Any, clock: FixedClock
) -> None:
    first = rapport.upsert_customer(AINO)
    clock.advance(days=1)
    second = rapport.upsert_customer(AINO)
    assert second == first  # updated_at included: nothing was written
    assert rapport.upsert_customers([AINO]).unchanged == 1
    assert count_rows(engine, "rapport_customer") == 1
    assert count_rows(engine, "rapport_interest") == 2
    assert count_rows(engine, "rapport_family_member") == 1
    assert count_rows(engine, "rapport_consent_change") == 1


def test_an_update_changes_only_the_fields_given(rapport: Rapport) -> None:
    rapport.upsert_customer(AINO)
    updated = rapport.upsert_customer(
        {"external_id": "C-1", "city": "Turku", "phone": None, "postal_code": ""}
    )
    assert updated.city == "Turku"
    assert updated.phone is None
    assert updated.postal_code is None
    assert updated.first_name == "Aino"
    assert updated.tags == ["vip", "wholesale"]
    assert updated.birthday == PartialDate(month=2, day=29)


def test_given_lists_replace_the_old_ones_but_keep_notes_on_matching_entries(
    rapport: Rapport,
) -> None:
    rapport.upsert_customer(AINO)
    rapport.upsert_customer(
        {"external_id": "C-1", "tags": ["vip"], "interests": ["jazz", "Golf"], "family": []}
    )
    profile = rapport.get_profile("C-1")
    assert profile.tags == ["vip"]
    interests = {i.topic.casefold(): i for i in profile.interests}
    assert sorted(interests) == ["golf", "jazz"]
    assert interests["jazz"].note == "loves Monk"
    assert interests["jazz"].category is InterestCategory.MUSIC
    assert profile.family == []


def test_bulk_upsert_reports_created_and_updated(rapport: Rapport) -> None:
    rapport.upsert_customer({"external_id": "C-0"})
    batch = [{"external_id": f"C-{n}", "first_name": f"Name {n}"} for n in range(1200)]
    summary = rapport.upsert_customers(batch)
    assert (summary.created, summary.updated) == (1199, 1)
    assert rapport.get_customer("C-0").first_name == "Name 0"
    assert rapport.get_customer("C-1199").first_name == "Name 1199"


def test_within_one_batch_the_last_entry_for_a_customer_wins(rapport: Rapport) -> None:
    rapport.upsert_customers(
        [{"external_id": "C-1", "city": "Oulu"}, {"external_id": "C-1", "city": "Vaasa"}]
    )
    assert rapport.get_customer("C-1").city == "Vaasa"


def test_profile_gathers_interests_family_dates_and_history(rapport: Rapport) -> None:
    rapport.upsert_customer(AINO)
    rapport.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-1",
            "occurred_at": "2026-10-01T10:00:00Z",
            "amount": "120",
            "description": "Sailing gloves",
        }
    )
    rapport.open_case(
        {"customer_id": "C-1", "summary": "Gloves too small", "opened_at": "2026-10-03T10:00:00Z"}
    )
    rapport.create_promise(
        {"customer_id": "C-1", "what": "Exchange size", "due_at": "2026-10-10T10:00:00Z"}
    )
    profile = rapport.get_profile("C-1")
    assert [f.name for f in profile.family] == ["Eero"]
    assert profile.family[0].relation is Relation.CHILD
    assert profile.family[0].birthday == PartialDate(year=2015, month=6, day=1)
    assert [d.label for d in profile.important_dates] == ["Wedding anniversary"]
    assert [p.description for p in profile.recent_purchases] == ["Sailing gloves"]
    assert [c.summary for c in profile.open_cases] == ["Gloves too small"]
    assert [p.what for p in profile.open_promises] == ["Exchange size"]


def test_profile_limits_history_to_the_most_recent(rapport: Rapport) -> None:
    rapport.upsert_customer({"external_id": "C-1"})
    rapport.record_purchases(
        {
            "customer_id": "C-1",
            "external_id": f"P-{day}",
            "occurred_at": f"2026-10-{day:02d}T10:00:00Z",
            "amount": day,
        }
        for day in range(1, 21)
    )
    recent = rapport.get_profile("C-1", recent=3).recent_purchases
    assert [p.external_id for p in recent] == ["P-20", "P-19", "P-18"]


def test_interests_are_added_updated_and_removed_ignoring_case(rapport: Rapport) -> None:
    rapport.upsert_customer({"external_id": "C-1"})
    rapport.add_interest("C-1", "Fly fishing")
    updated = rapport.add_interest(
        "C-1", {"topic": "fly FISHING", "category": "sport", "note": "Lapland trips"}
    )
    assert updated.category is InterestCategory.SPORT
    assert [i.note for i in rapport.get_profile("C-1").interests] == ["Lapland trips"]
    rapport.remove_interest("C-1", "FLY fishing")
    assert rapport.get_profile("C-1").interests == []
    with pytest.raises(NotFoundError, match="no interest 'chess'"):
        rapport.remove_interest("C-1", "chess")


def test_family_members_and_important_dates_are_added_and_removed(rapport: Rapport) -> None:
    rapport.upsert_customer({"external_id": "C-1"})
    member = rapport.add_family_member("C-1", {"name": "Musti", "relation": "pet"})
    date = rapport.add_important_date("C-1", {"label": "Shop opened", "date": "1998-03-01"})
    assert rapport.get_profile("C-1").family == [member]
    assert rapport.get_profile("C-1").important_dates == [date]
    rapport.remove_family_member("C-1", member.id)
    rapport.remove_important_date("C-1", date.id)
    profile = rapport.get_profile("C-1")
    assert (profile.family, profile.important_dates) == ([], [])
    with pytest.raises(NotFoundError, match=f"no family member with id {member.id}"):
        rapport.remove_family_member("C-1", member.id)


def test_a_customer_cannot_remove_another_customers_family_member(rapport: Rapport) -> None:
    rapport.upsert_customers([{"external_id": "C-1"}, {"external_id": "C-2"}])
    member = rapport.add_family_member("C-1", {"name": "Eero", "relation": "child"})
    with pytest.raises(NotFoundError):
        rapport.remove_family_member("C-2", member.id)
    assert len(rapport.get_profile("C-1").family) == 1


def test_customers_are_found_by_tag_interest_and_owner(rapport: Rapport) -> None:
    rapport.upsert_customers(
        [
            {"external_id": "A", "tags": ["vip"], "interests": ["Golf"], "owner": "maria"},
            {"external_id": "B", "tags": ["vip"], "interests": ["chess"], "owner": "jussi"},
            {"external_id": "C", "tags": [], "interests": ["golf"], "owner": "maria"},
        ]
    )

    def ids(**filters: Any) -> list[str]:
        return [c.external_id for c in rapport.find_customers(**filters)]

    assert ids(tag="vip") == ["A", "B"]
    assert ids(interest="GOLF") == ["A", "C"]
    assert ids(owner="maria") == ["A", "C"]
    assert ids(tag="vip", interest="golf", owner="maria") == ["A"]
    assert ids(tag="nobody") == []
    assert ids(limit=2) == ["A", "B"]
    assert ids(limit=2, offset=2) == ["C"]


def test_unknown_customer_is_a_clear_not_found_error(rapport: Rapport) -> None:
    with pytest.raises(NotFoundError, match="no customer with external_id 'C-404'; upsert"):
        rapport.get_profile("C-404")


def test_sql_looking_text_is_stored_as_plain_data(rapport: Rapport) -> None:
    hostile = "Robert'); DROP TABLE rapport_customer;--"
    rapport.upsert_customer({"external_id": hostile, "first_name": hostile, "tags": [hostile]})
    customer = rapport.get_customer(hostile)
    assert customer.first_name == hostile
    assert [c.external_id for c in rapport.find_customers(tag=hostile)] == [hostile]


def test_customers_can_be_listed_biggest_spenders_first(rapport: Rapport) -> None:
    rapport.upsert_customers([{"external_id": x} for x in ("A", "B", "C")])
    for customer_id, amount in (("A", "10"), ("B", "900"), ("C", "50")):
        rapport.record_purchase(
            {"customer_id": customer_id, "occurred_at": "2026-11-01T10:00:00Z", "amount": amount}
        )
    top = rapport.find_customers(order_by="spend_365d", limit=2)
    assert [c.external_id for c in top] == ["B", "C"]


def _since_parts(engine: Engine) -> dict[str, tuple[int | None, int | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Customer.external_id, Customer.since_month, Customer.since_day)
        )
        return {external_id: (month, day) for external_id, month, day in rows}


def test_the_month_and_day_of_customer_since_follow_every_write(
    rapport: Rapport, engine: Engine, tmp_path: Path
) -> None:
    """The anniversary rules look customers up by these generated columns: an upsert, an
    update, a cleared date and a file import all keep them right."""
    rapport.upsert_customer(AINO)
    rapport.upsert_customer({"external_id": "C-2", "customer_since": "2020-02-29"})
    rapport.upsert_customer({"external_id": "C-3"})
    assert _since_parts(engine) == {"C-1": (5, 4), "C-2": (2, 29), "C-3": (None, None)}
    rapport.upsert_customer({"external_id": "C-1", "customer_since": "2018-12-31"})
    rapport.upsert_customer({"external_id": "C-2", "customer_since": None})
    rows = tmp_path / "customers.csv"
    rows.write_text("external_id,customer_since\nC-3,2021-07-09\nC-4,2017-01-02\n")
    rapport.import_file("customers", rows)
    assert _since_parts(engine) == {
        "C-1": (12, 31),
        "C-2": (None, None),
        "C-3": (7, 9),
        "C-4": (1, 2),
    }
