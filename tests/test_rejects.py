"""The rejects file of ``--skip-invalid``: the rejected rows as they were, plus an ``error``
column import ignores, so fixing the cells and importing the file again is always safe."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from rapport import Rapport, parse_settings
from rapport._cells import FORMULA_STARTS, defuse, undefuse
from rapport.importing import ImportFileError
from tests.conftest import FixedClock
from tests.test_cli import rapport_cli

CUSTOMERS = (
    "external_id,first_name,email,phone,city\n"
    "C-1,Aino,aino@example.com,+358 40 1234567,Turku\n"
    "C-2,Oscar,oscar@example.com,+46 70 1234567,Uppsala\n"
)


@pytest.fixture
def db(fresh_url: str) -> str:
    """A migrated database holding two customers with names, emails, phones and cities."""
    result = rapport_cli("init", "--db", fresh_url)
    assert result.returncode == 0, result.stderr
    return fresh_url


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    return Rapport(engine, settings=parse_settings({}), clock=clock)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def profile(db: str, external_id: str) -> dict[str, object]:
    result = rapport_cli("customer", "export", external_id, "--db", db)
    assert result.returncode == 0, result.stderr
    customer: dict[str, object] = json.loads(result.stdout)["customer"]
    return customer


# ---------------------------------------------------------------- the console script


def test_fixing_the_rejects_file_and_importing_it_again_clears_nothing(
    db: str, tmp_path: Path
) -> None:
    """The issue's scenario: a file of only ``external_id,birthday`` with one bad birthday,
    over customers with a first name, email, phone and city."""
    customers = write(tmp_path / "c.csv", CUSTOMERS)
    assert rapport_cli("import", "customers", str(customers), "--db", db).returncode == 0
    birthdays = write(tmp_path / "b.csv", "external_id,birthday\nC-1,1985-02-30\nC-2,1990-05-17\n")
    rejects = tmp_path / "rejects.csv"
    first = rapport_cli(
        "import", "customers", str(birthdays), "--db", db, "--skip-invalid", "--rejects",
        str(rejects), "--allow-rejects",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    rows = read_rows(rejects)
    assert rows[0] == ["external_id", "birthday", "error"]
    assert [row[:2] for row in rows[1:]] == [["C-1", "1985-02-30"]]
    assert rows[1][2].startswith("line 2: birthday: ")

    rows[1][1] = "1985-02-28"  # the fix, in a spreadsheet
    write_rows(rejects, rows)
    again = rapport_cli(
        "import", "customers", str(rejects), "--db", db, "--skip-invalid", "--rejects",
        str(tmp_path / "still-bad.csv"),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "1 updated" in again.stdout
    aino = profile(db, "C-1")
    assert (aino["birth_year"], aino["birth_month"], aino["birth_day"]) == (1985, 2, 28)
    assert (aino["first_name"], aino["email"], aino["phone"], aino["city"]) == (
        "Aino",
        "aino@example.com",
        "+358 40 1234567",
        "Turku",
    )
    assert "error" not in aino
    assert not (tmp_path / "still-bad.csv").exists()


def test_skip_invalid_exits_1_when_rows_were_rejected(db: str, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "external_id,birthday\nC-9,1985-02-30\nC-8,1990-05-17\n")
    rejects = tmp_path / "rejects.csv"
    result = rapport_cli(
        "import", "customers", str(bad), "--db", db, "--skip-invalid", "--rejects", str(rejects)
    )
    assert result.returncode == 1
    assert "2 rows read, 1 created" in result.stdout  # the good row was imported
    assert "Traceback" not in result.stderr
    assert (
        f"error: 1 of 2 rows were rejected and not imported; fix the cells in {rejects} and "
        "import that file again (--allow-rejects exits 0 when rejects are expected)"
    ) in result.stderr.replace("\n", " ")
    assert rejects.exists()


def test_skip_invalid_without_a_rejects_file_also_exits_1(db: str, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "external_id,birthday\nC-9,1985-02-30\n")
    result = rapport_cli("import", "customers", str(bad), "--db", db, "--skip-invalid")
    assert result.returncode == 1
    assert "use --rejects FILE to keep them" in result.stderr


def test_allow_rejects_needs_skip_invalid(db: str, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", CUSTOMERS)
    result = rapport_cli("import", "customers", str(good), "--db", db, "--allow-rejects")
    assert result.returncode == 2
    assert "--allow-rejects needs --skip-invalid" in result.stderr


def test_nothing_rejected_writes_no_rejects_file_and_exits_0(db: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = rapport_cli(
        "import", "customers", str(write(tmp_path / "c.csv", CUSTOMERS)), "--db", db,
        "--skip-invalid", "--rejects", str(rejects),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "0 rejected" in result.stdout
    assert not rejects.exists()
    assert list(tmp_path.glob(".*partial")) == []


def test_a_rejects_folder_that_does_not_exist_is_an_error_line(db: str, tmp_path: Path) -> None:
    result = rapport_cli(
        "import", "customers", str(write(tmp_path / "c.csv", CUSTOMERS)), "--db", db,
        "--skip-invalid", "--rejects", str(tmp_path / "nowhere" / "r.csv"),
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in result.stderr


# ---------------------------------------------------------------- the library


def test_rejected_cells_are_written_as_they_were_in_the_files_own_order(
    crm: Rapport, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "in.csv",
        "city , external_id,first_name,language\n"
        'Turku,C-1,"Aino, the ""first""",fi\n'
        "Oulu,C-2,Oscar,sv\n"
        ",C-3,  spaced  ,\n",
    )
    (source.parent / "r.csv").write_text("yesterday's rejects")
    result = crm.import_file(
        "customers", source, skip_invalid=True, rejects=tmp_path / "r.csv"
    )  # nothing is wrong yet: the old file is left as it was
    assert result.rejected == 0
    assert (tmp_path / "r.csv").read_text() == "yesterday's rejects"

    bad = write(
        tmp_path / "bad.csv",
        source.read_text().replace("Oulu,C-2,Oscar,sv", "Oulu,C-2,Oscar,sv,one too many")
        + "Turku,C-4,Bad,=xx\n,C-5,x,\n",
    )
    result = crm.import_file("customers", bad, skip_invalid=True, rejects=tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    assert rows[0] == ["city ", " external_id", "first_name", "language", "error"]
    assert rows[1][:-1] == ["Oulu", "C-2", "Oscar", "sv", "one too many"]
    assert rows[1][-1] == "line 3: (row): has 5 values, but the header has a different number"
    assert rows[2][:-1] == ["Turku", "C-4", "Bad", "'=xx"]
    assert len(rows) == 3
    assert result.rejects == tmp_path / "r.csv"


def test_cells_a_spreadsheet_would_run_are_defused_and_read_back_as_they_were(
    crm: Rapport, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "in.csv",
        "external_id,first_name,last_name,phone,birthday\n"
        'C-1,=HYPERLINK("http://evil.example"),@sum,+358 40 1234567,1985-02-30\n'
        "C-2,-minus,''=two,'+46 70 1234567,1985-02-30\n",
    )
    crm.import_file("customers", source, skip_invalid=True, rejects=tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    assert rows[1][1:4] == ['\'=HYPERLINK("http://evil.example")', "'@sum", "'+358 40 1234567"]
    assert rows[2][1:4] == ["'-minus", "''=two", "'+46 70 1234567"]

    for row in rows[1:]:
        row[4] = "1985-02-28"
    write_rows(tmp_path / "r.csv", rows)
    fixed = write(tmp_path / "fixed.csv", source.read_text().replace("02-30", "02-28"))
    crm.import_file("customers", tmp_path / "r.csv")
    from_rejects = [crm.get_customer(key).model_dump() for key in ("C-1", "C-2")]
    crm.import_file("customers", fixed)  # the original, fixed: nothing left to change
    assert [crm.get_customer(key).model_dump() for key in ("C-1", "C-2")] == from_rejects
    aino = crm.get_customer("C-1")
    assert (aino.first_name, aino.last_name, aino.phone) == (
        '=HYPERLINK("http://evil.example")',
        "@sum",
        "+358 40 1234567",
    )
    oscar = crm.get_customer("C-2")
    # a spreadsheet's own text marker is read away, in the original as in the rejects
    assert (oscar.first_name, oscar.last_name, oscar.phone) == ("-minus", "'=two", "+46 70 1234567")


def test_an_error_column_is_ignored_and_its_position_kept(crm: Rapport, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        "external_id,error,first_name,birthday\n"
        "C-1,whatever was wrong,Aino,1985-02-28\n"
        "C-2,old reason,Oscar,1985-02-30\n",
    )
    result = crm.import_file("customers", source, skip_invalid=True, rejects=source)
    assert (result.created, result.rejected) == (1, 1)
    assert crm.get_customer("C-1").first_name == "Aino"
    # imported again over itself: the reasons are renewed, not added as a second column
    header, row = read_rows(source)
    assert header == ["external_id", "error", "first_name", "birthday"]
    assert [row[0], *row[2:]] == ["C-2", "Oscar", "1985-02-30"]
    assert row[1].startswith("line 3: birthday: ")


def test_a_row_with_missing_cells_stays_rejected_after_the_round_trip(
    crm: Rapport, tmp_path: Path
) -> None:
    """Padding it would make the row valid, and its empty cells would clear fields; with
    its reasons after its cells it is still one cell short."""
    source = write(tmp_path / "in.csv", "external_id,first_name,city\nC-1,Aino\n")
    crm.import_file("customers", source, skip_invalid=True, rejects=tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    assert rows[1][:2] == ["C-1", "Aino"]
    result = crm.import_file(
        "customers", tmp_path / "r.csv", skip_invalid=True, rejects=tmp_path / "r2.csv"
    )
    assert (result.created, result.rejected) == (0, 1)


def test_a_failed_import_leaves_the_old_rejects_file(crm: Rapport, tmp_path: Path) -> None:
    rejects = write(tmp_path / "r.csv", "yesterday's rejects\n")
    broken = tmp_path / "in.csv"
    broken.write_bytes(b"external_id,birthday\nC-1,1985-02-30\nC-2,\xff\n")
    with pytest.raises(ImportFileError, match="line 3: not UTF-8"):
        crm.import_file("customers", broken, skip_invalid=True, rejects=rejects)
    assert rejects.read_text() == "yesterday's rejects\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "r.csv"]  # no partial


def test_a_spreadsheets_byte_order_mark_is_written_back(crm: Rapport, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("\ufeffexternal_id,first_name,birthday\nC-1,Väinö,1985-02-30\n".encode())
    crm.import_file("customers", source, skip_invalid=True, rejects=tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbfexternal_id,")


def test_jsonl_rejects_are_jsonl_with_an_error_key(crm: Rapport, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.jsonl",
        '{"external_id": "J-1", "tags": ["vip"], "birthday": "1985-02-30", "error": "old"}\n'
        "{not json}\n"
        '{"external_id": "J-2", "first_name": "Zofia"}\n',
    )
    rejects = tmp_path / "r.jsonl"
    result = crm.import_file("customers", source, skip_invalid=True, rejects=rejects)
    assert (result.created, result.rejected) == (1, 2)
    first, second = rejects.read_text(encoding="utf-8").splitlines()
    row = json.loads(first)
    assert list(row) == ["external_id", "tags", "birthday", "error"]
    assert row["error"].startswith("line 1: birthday: ")
    assert second == "{not json}"  # not an object: copied as written

    row["birthday"] = "1985-02-28"
    rejects.write_text(json.dumps(row) + '\n{"external_id": "J-3"}\n', encoding="utf-8")
    assert crm.import_file("customers", rejects).created == 2
    assert crm.get_customer("J-1").tags == ["vip"]


def test_the_rejects_of_a_jsonl_file_must_be_named_jsonl(crm: Rapport, tmp_path: Path) -> None:
    source = write(tmp_path / "in.jsonl", '{"external_id": "J-1"}\n')
    with pytest.raises(ImportFileError, match=r"name a JSONL \(ending \.jsonl\) file"):
        crm.import_file("customers", source, skip_invalid=True, rejects=tmp_path / "r.csv")
    assert crm.find_customers() == []


def test_rejects_without_skip_invalid_is_a_programming_error(crm: Rapport, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", CUSTOMERS)
    with pytest.raises(ValueError, match="rejects needs skip_invalid=True"):
        crm.import_file("customers", source, rejects=tmp_path / "r.csv")


@given(st.text())
def test_what_defuse_writes_undefuse_reads_back(text: str) -> None:
    assert undefuse(defuse(text)) == text
    assert not defuse(text).startswith(FORMULA_STARTS)
