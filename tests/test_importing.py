"""Importing CSV and JSONL files: every bad row named, nothing half-written, re-import
changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from rapport import (
    Channel,
    ConsentState,
    ImportRejected,
    PartialDate,
    Rapport,
    create_engine,
    parse_settings,
)
from rapport.importing import ImportFileError
from tests.conftest import FixedClock, count_rows

DATA = Path(__file__).with_name("data")


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    settings = parse_settings({"business": {"timezone": "Europe/Helsinki"}})
    return Rapport(engine, settings=settings, clock=clock)


def test_customers_csv_with_bom_lists_and_yearless_birthdays(crm: Rapport) -> None:
    result = crm.import_file("customers", DATA / "customers.csv")
    assert (result.rows, result.created, result.rejected) == (3, 3, 0)
    aino = crm.get_profile("C-1")
    assert aino.external_id == "C-1"  # the byte order mark is not part of the first column
    assert aino.birthday == PartialDate(month=11, day=30)
    assert aino.tags == ["vip", "wholesale"]
    assert [i.topic for i in aino.interests] == ["jazz", "sailing"]
    assert aino.consent[Channel.SMS].state is ConsentState.UNKNOWN  # empty cell: not given
    assert aino.consent[Channel.EMAIL].source == "import"
    oscar = crm.get_customer("C-2")
    assert (oscar.check_in_every_days, oscar.do_not_contact) == (60, False)
    assert crm.get_customer("C-3").do_not_contact is True


def test_reimporting_the_same_file_changes_nothing(crm: Rapport, engine: Engine) -> None:
    crm.import_file("customers", DATA / "customers.csv")
    crm.import_file("purchases", DATA / "purchases.csv", skip_invalid=True)
    crm.import_file("interactions", DATA / "interactions.csv")
    before = crm.export_customer("C-1")
    consent_log = count_rows(engine, "rapport_consent_change")
    again = crm.import_file("customers", DATA / "customers.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    purchases = crm.import_file("purchases", DATA / "purchases.csv", skip_invalid=True)
    assert (purchases.created, purchases.unchanged) == (0, 3)
    interactions = crm.import_file("interactions", DATA / "interactions.csv")
    assert (interactions.created, interactions.unchanged) == (0, 2)
    assert crm.export_customer("C-1") == before
    assert count_rows(engine, "rapport_consent_change") == consent_log == 8


def test_one_bad_row_writes_nothing_and_every_bad_row_is_named(
    crm: Rapport, engine: Engine
) -> None:
    with pytest.raises(ImportRejected) as caught:
        crm.import_file("customers", DATA / "customers-bad.csv")
    result = caught.value.result
    assert [str(p) for p in result.problems] == [
        "line 3: timezone: unknown timezone 'Europe/Helsingfors'; "
        "use an IANA name such as 'Europe/Helsinki'",
        "line 5: birthday: 2023 is not a leap year, so it has no 29 February (got '2023-02-29')",
        "line 6: email: 'b3.example.com' is not an email address; it needs a name, '@' and a "
        "domain",
        "line 6: language: unknown language tag 'xx-YY'; use a BCP 47 tag such as 'fi', 'sv' "
        "or 'pt-BR'",
    ]
    assert (result.rows, result.rejected) == (5, 3)
    assert count_rows(engine, "rapport_customer") == 0


def test_skip_invalid_keeps_good_rows_and_writes_rejects(crm: Rapport, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = crm.import_file(
        "customers", DATA / "customers-bad.csv", skip_invalid=True, rejects=rejects
    )
    assert (result.created, result.rejected, result.rejects) == (2, 3, rejects)
    assert [c.external_id for c in crm.find_customers()] == ["G-1", "G-2"]
    with rejects.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = (DATA / "customers-bad.csv").read_text().splitlines()[0].split(",")
    assert rows[0] == [*header, "error"]
    assert [row[0] for row in rows[1:]] == ["B-1", "B-2", "B-3"]
    assert rows[3][:-1] == ["B-3", "No At", "b3.example.com", "", "", "xx-YY"]
    assert rows[3][-1].startswith("line 6: email: 'b3.example.com' is not an email address")
    assert "language: unknown language tag 'xx-YY'" in rows[3][-1]


def test_purchases_need_their_customer_and_read_local_times(crm: Rapport) -> None:
    crm.import_file("customers", DATA / "customers.csv")
    with pytest.raises(ImportRejected) as caught:
        crm.import_file("purchases", DATA / "purchases.csv")
    assert [str(p) for p in caught.value.result.problems] == [
        "line 5: customer_id: no customer with external_id 'C-404'; import the customers first"
    ]
    assert crm.get_customer("C-2").purchase_count == 0  # nothing was written
    crm.import_file("purchases", DATA / "purchases.csv", skip_invalid=True)
    coat = crm.get_purchase("P-2")
    assert coat.occurred_at == dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)  # 10:00 Helsinki
    beans = crm.get_purchase("P-3")
    assert (beans.occurred_at.date(), beans.status.value) == (dt.date(2026, 11, 19), "completed")
    assert crm.get_customer("C-2").lifetime_value == 911.5


def test_interactions_without_ids_are_imported_once(crm: Rapport) -> None:
    crm.import_file("customers", DATA / "customers.csv")
    crm.import_file("interactions", DATA / "interactions.csv")
    crm.import_file("interactions", DATA / "interactions.csv")
    profile = crm.get_profile("C-1")
    assert [i.summary for i in profile.recent_interactions] == [
        "Asked about winter storage for the boat"
    ]
    assert profile.last_contact_at == dt.datetime(2026, 7, 1, 10, tzinfo=dt.UTC)


def test_jsonl_carries_family_and_important_dates(crm: Rapport, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = crm.import_file(
        "customers", DATA / "customers.jsonl", skip_invalid=True, rejects=rejects
    )
    assert [str(p) for p in result.problems] == [
        "line 3: (row): not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1))",
        "line 4: (row): unknown field 'favourite'",
    ]
    giulia = crm.get_profile("J-1")
    assert [(f.name, f.relation.value) for f in giulia.family] == [("Marco", "spouse")]
    assert [d.label for d in giulia.important_dates] == ["Wedding anniversary"]
    assert giulia.interests[0].note == "Loves Verdi"
    assert crm.get_customer("J-2").tags == ["regular", "wholesale"]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("external_id,nickname\nC-1,Ace\n", "line 1: unknown column 'nickname'"),
        ("first_name\nAce\n", "line 1: missing column 'external_id'"),
        ("external_id,external_id\nC-1,C-2\n", "column 'external_id' appears twice"),
        ("", "the file is empty"),
        (b"external_id,first_name\nC-1,J\xe4rvinen\n", "line 2: not UTF-8 text"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(
    crm: Rapport, engine: Engine, tmp_path: Path, text: str | bytes, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        crm.import_file("customers", write(tmp_path, "customers.csv", text))
    assert count_rows(engine, "rapport_customer") == 0


def test_a_row_with_the_wrong_number_of_cells_is_named(crm: Rapport, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "external_id,first_name\nC-1,Ann\nC-2,Bo,extra\n")
    with pytest.raises(ImportRejected) as caught:
        crm.import_file("customers", path)
    [problem] = caught.value.result.problems
    assert str(problem).startswith("line 3: (row): has 3 values")


def test_quoted_multiline_cells_keep_line_numbers_right(crm: Rapport, tmp_path: Path) -> None:
    text = 'external_id,notes,timezone\nC-1,"Likes\nmornings",UTC\nC-2,Bo,Nowhere/City\n'
    with pytest.raises(ImportRejected) as caught:
        crm.import_file("customers", write(tmp_path, "c.csv", text))
    assert [p.line for p in caught.value.result.problems] == [4]


def test_a_file_that_does_not_exist_is_a_clear_error(crm: Rapport, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        crm.import_file("customers", tmp_path / "missing.csv")


def test_a_postgresql_import_leaves_fresh_planner_statistics(fresh_postgres_url: str) -> None:
    """Without statistics, PostgreSQL looked customers up by external id with whole-table
    scans for the rest of a bulk load; an import ends with ANALYZE of its tables."""
    crm = Rapport.from_url(fresh_postgres_url, settings=parse_settings({}))
    crm.migrate()
    crm.import_file("customers", DATA / "customers.csv")
    crm.close()
    engine = create_engine(fresh_postgres_url)
    with engine.connect() as connection:
        analyzed = connection.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname = 'rapport_customer' AND last_analyze IS NOT NULL"
            )
        ).scalars()
        assert list(analyzed) == ["rapport_customer"]
    engine.dispose()


def test_a_bulk_insert_of_a_key_stored_meanwhile_raises_sqlalchemys_integrity_error(
    engine: Engine,
) -> None:
    """An import inserts new rows plainly (COPY on PostgreSQL): a row another writer
    stored meanwhile makes it fail, as the same IntegrityError on both databases."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from rapport.models.tables import Checkpoint
    from rapport.store.rows import insert_values

    moment = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
    columns = ("name", "as_of", "updated_at")
    row = ("test:stored-meanwhile", moment.date(), moment)
    with Session(engine) as session:
        assert insert_values(session, Checkpoint, columns, [row]) == 1
        with pytest.raises(IntegrityError):
            insert_values(session, Checkpoint, columns, [row])
        session.rollback()
