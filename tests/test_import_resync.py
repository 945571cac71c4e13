"""A nightly re-import of an unchanged export: unchanged rows are skipped before they are
validated, by a stored digest of each customer's last imported row, and touch nothing;
any other write clears the digest, so the file stays the truth."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from rapport import ConsentState, Rapport, parse_settings
from rapport.models.enums import Channel
from tests.conftest import FixedClock

HEADER = "external_id,first_name,language,tags,interests,consent_email,do_not_contact\n"


def row(n: int, name: str | None = None) -> str:
    return f"C-{n},{name or f'Name{n}'},fi,vip,sailing;jazz,granted,no\n"


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    settings = parse_settings({"business": {"timezone": "Europe/Helsinki"}})
    return Rapport(engine, settings=settings, clock=clock)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(row(n) for n in range(50)))
    return path


@contextmanager
def writes(engine: Engine) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements sent while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2]).lstrip().split(None, 1)[0].upper()
        if statement in ("INSERT", "UPDATE", "DELETE"):
            seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_an_unchanged_file_is_skipped_unread_and_writes_nothing(
    crm: Rapport, engine: Engine, export: Path
) -> None:
    first = crm.import_file("customers", export)
    assert (first.created, first.unchanged) == (50, 0)
    with writes(engine) as statements:
        again = crm.import_file("customers", export)
    assert (again.rows, again.created, again.updated, again.unchanged) == (50, 0, 0, 50)
    assert statements == []


def test_a_changed_row_is_read_and_the_others_are_skipped(
    crm: Rapport, engine: Engine, export: Path
) -> None:
    crm.import_file("customers", export)
    export.write_text(HEADER + "".join(row(n, "Renamed" if n == 7 else None) for n in range(50)))
    with writes(engine) as statements:
        again = crm.import_file("customers", export)
    assert (again.updated, again.unchanged) == (1, 49)
    assert crm.get_customer("C-7").first_name == "Renamed"
    assert all("rapport_customer" in s or "rapport_" in s for s in statements)
    # The next import trusts the new digest.
    assert crm.import_file("customers", export).unchanged == 50


@pytest.mark.parametrize(
    "change",
    [
        lambda crm: crm.upsert_customer({"external_id": "C-3", "first_name": "Typed in"}),
        lambda crm: crm.add_interest("C-3", {"topic": "chess"}),
        lambda crm: crm.remove_interest("C-3", "jazz"),
        lambda crm: crm.set_consent("C-3", "email", "refused"),
        lambda crm: crm.set_do_not_contact("C-3", True),
        lambda crm: crm.add_family_member("C-3", {"name": "Kai", "relation": "child"}),
        lambda crm: crm.add_important_date("C-3", {"label": "Wedding", "date": "--06-12"}),
    ],
    ids=[
        "upsert",
        "add interest",
        "remove interest",
        "consent",
        "do not contact",
        "family member",
        "important date",
    ],
)
def test_a_write_outside_the_import_makes_the_next_import_read_the_row_again(
    crm: Rapport, engine: Engine, export: Path, change: Any
) -> None:
    crm.import_file("customers", export)
    change(crm)
    with writes(engine) as statements:
        again = crm.import_file("customers", export)
    assert statements  # C-3 was read again: at the least its digest is stored anew
    assert again.unchanged + again.updated == 50
    assert again.unchanged >= 49  # only C-3 was read again
    profile = crm.get_profile("C-3")
    assert profile.first_name == "Name3"
    assert sorted(i.topic for i in profile.interests) == ["jazz", "sailing"]
    assert profile.consent[Channel.EMAIL].state is ConsentState.GRANTED
    assert profile.do_not_contact is False


def test_a_customer_named_twice_in_a_file_takes_the_last_row_even_if_another_is_unchanged(
    crm: Rapport, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + row(1, "Second"))
    crm.import_file("customers", path)
    # The second row is the one stored (its digest matches), but the first changes the
    # customer: both are read, and the last one wins, as in any file.
    path.write_text(HEADER + row(1, "First") + row(1, "Second"))
    crm.import_file("customers", path)
    assert crm.get_customer("C-1").first_name == "Second"
    again = crm.import_file("customers", path)
    assert (again.created, again.updated) == (0, 0)
    assert crm.get_customer("C-1").first_name == "Second"


def test_a_rejected_row_is_rejected_again_not_skipped(crm: Rapport, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + row(1) + "C-2,Name2,fi,vip,,maybe,no\n")
    first = crm.import_file("customers", path, skip_invalid=True)
    assert (first.created, first.rejected) == (1, 1)
    again = crm.import_file("customers", path, skip_invalid=True)
    assert (again.unchanged, again.rejected) == (1, 1)


def test_another_business_time_zone_reads_every_row_again(
    crm: Rapport, engine: Engine, clock: FixedClock, export: Path
) -> None:
    crm.import_file("customers", export)
    other = Rapport(
        engine,
        settings=parse_settings({"business": {"timezone": "America/New_York"}}),
        clock=clock,
    )
    with writes(engine) as statements:
        again = other.import_file("customers", export)
    assert again.unchanged == 50  # read again: same values, so unchanged...
    assert statements  # ...and the rows now carry this zone's digests
    assert other.import_file("customers", export).unchanged == 50


def test_erasing_a_customer_forgets_their_digest(crm: Rapport, export: Path) -> None:
    crm.import_file("customers", export)
    crm.erase_customer("C-5")
    again = crm.import_file("customers", export)
    # The erased customer now has a pseudonymous id: the file's C-5 is a new customer.
    assert (again.created, again.unchanged) == (1, 49)


def test_an_unchanged_jsonl_file_is_skipped_too(
    crm: Rapport, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(
        "".join(
            f'{{"external_id": "C-{n}", "first_name": "Name{n}", "tags": ["vip"], '
            f'"family": [{{"name": "Kid{n}", "relation": "child"}}]}}\n'
            for n in range(20)
        )
    )
    assert crm.import_file("customers", path).created == 20
    with writes(engine) as statements:
        again = crm.import_file("customers", path)
    assert (again.unchanged, statements) == (20, [])


def test_a_row_that_changes_only_consent_counts_as_updated(crm: Rapport, export: Path) -> None:
    crm.import_file("customers", export)
    export.write_text(
        export.read_text().replace(
            "C-4,Name4,fi,vip,sailing;jazz,granted", "C-4,Name4,fi,vip,sailing;jazz,refused"
        )
    )
    again = crm.import_file("customers", export)
    assert (again.updated, again.unchanged) == (1, 49)
    assert crm.get_profile("C-4").consent[Channel.EMAIL].state is ConsentState.REFUSED


def test_an_unchanged_purchases_file_refreshes_no_customer(
    crm: Rapport, engine: Engine, export: Path, tmp_path: Path
) -> None:
    crm.import_file("customers", export)
    purchases = tmp_path / "purchases.csv"
    lines = [f"P-{n},C-{n},2026-11-01,{10 + n},completed\n" for n in range(50)]
    purchases.write_text("purchase_id,customer_id,occurred_at,amount,status\n" + "".join(lines))
    crm.import_file("purchases", purchases)
    with writes(engine) as statements:
        again = crm.import_file("purchases", purchases)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)
    assert statements == []
    # A refund in the next export changes that purchase and its customer's rollups only.
    lines[7] = "P-7,C-7,2026-11-01,17,refunded\n"
    purchases.write_text("purchase_id,customer_id,occurred_at,amount,status\n" + "".join(lines))
    with writes(engine) as statements:
        refunded = crm.import_file("purchases", purchases)
    assert (refunded.created, refunded.updated, refunded.unchanged) == (0, 1, 49)
    assert crm.get_customer("C-7").purchase_count == 0
    assert crm.get_customer("C-8").purchase_count == 1
    updated_customers = [s for s in statements if "UPDATE rapport_customer" in s]
    assert updated_customers, "the refunded customer's rollups were not refreshed"
