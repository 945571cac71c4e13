"""Hostile input: random bytes, broken encodings, huge and poisonous values in import
files; SQL-looking text in every text field; formulas in the outreach CSV.

Every import ends one of three ways: a correct import, a clear file error (the file is
not UTF-8, not CSV, has an unknown column), or a per-row rejection naming the line and
the field. Never a traceback, and never a partial write: a rejected file leaves every
table as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from rapport import ImportRejected, Rapport, metadata, parse_settings
from rapport.importing import COLUMNS, ImportFileError, ImportKind
from tests.conftest import FixedClock, empty_tables, tried

FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Values that broke importers elsewhere: impossible dates, numbers a float cannot hold,
#: NUL and control bytes, very long text, markup, formulas, and SQL.
POISON = [
    "0000-00-00",
    "2026-02-30",
    "9999-99-99T99:99",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "Infinity",
    "-0",
    "0x10",
    "1,5",
    "١٢٣",  # Arabic-Indic digits
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\u202eevil",
    "x" * 70_000,
    "é" * 5_000,
    "'; DROP TABLE rapport_customer; --",
    "Robert'); DELETE FROM rapport_purchase WHERE ('1'='1",
    '" OR ""="',
    '=HYPERLINK("http://x.example","click")',
    "{{ 7*7 }}",
    "<script>alert(1)</script>",
    "",
    " ",
    "null",
    "true",
]
CELL = st.one_of(st.sampled_from(POISON), st.text(max_size=40))
#: Mostly harmless cells, so that whole rows sometimes pass and the stored values are
#: compared with the file.
MOSTLY_FINE = st.one_of(st.just(""), st.just(""), st.sampled_from(["Aino", "Oulu"]), CELL)
#: How each fuzz test's examples ended, printed after the module.
OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def print_outcomes(backend: str) -> Iterator[None]:
    yield
    for name, n in sorted(OUTCOMES.items()):
        tried(f"fuzz ({backend}): {name}: {n} cases")
    OUTCOMES.clear()


@pytest.fixture
def crm(engine: Engine, clock: FixedClock) -> Iterator[Rapport]:
    settings = parse_settings({"business": {"timezone": "Europe/Helsinki"}})
    yield Rapport(engine, settings=settings, clock=clock)
    empty_tables(engine)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in metadata.sorted_tables
        }


def seed(crm: Rapport) -> None:
    """Something already in the database, which a failed import must leave alone."""
    crm.upsert_customer({"external_id": "C-1", "first_name": "Aino", "email": "aino@example.fi"})
    crm.record_purchase(
        {
            "customer_id": "C-1",
            "external_id": "P-1",
            "occurred_at": "2026-11-01T10:00Z",
            "amount": 10,
        }
    )


def outcome_of(crm: Rapport, engine: Engine, kind: str, path: Path, case: str) -> str:
    """Import the file, check it ended one of the allowed ways, and count which under
    ``case`` (for the summary and hypothesis's statistics)."""
    outcome = _import_outcome(crm, engine, kind, path)
    OUTCOMES[f"{case} -> {outcome}"] += 1
    event(outcome)
    return outcome


def _import_outcome(crm: Rapport, engine: Engine, kind: str, path: Path) -> str:
    before = counts(engine)
    failure: ImportFileError | ImportRejected | None = None
    try:
        result = crm.import_file(kind, path)
    except (ImportFileError, ImportRejected) as error:
        failure = error
    if isinstance(failure, ImportFileError):
        assert str(failure).startswith(f"{path}: "), failure
        assert counts(engine) == before
        return "file error"
    if isinstance(failure, ImportRejected):
        assert failure.result.problems, failure
        for problem in failure.result.problems:
            assert problem.line >= 1
            assert problem.field
            assert problem.reason
        assert counts(engine) == before
        return "rows rejected"
    assert result.rejected == 0
    # A row repeated in one file counts once: the last one wins.
    accounted = result.created + result.updated + result.unchanged
    assert accounted <= result.rows
    assert (accounted == 0) == (result.rows == 0)
    return "imported"


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


KINDS = st.sampled_from([kind.value for kind in ImportKind])


@FUZZ
@given(kind=KINDS, suffix=st.sampled_from([".csv", ".jsonl"]), data=st.binary(max_size=400))
@example(kind="customers", suffix=".csv", data=b"external_id\nC-9\xff\n")
@example(kind="customers", suffix=".csv", data="external_id\nC-9\n".encode("utf-16"))
@example(kind="purchases", suffix=".jsonl", data=b'{"customer_id": "C-1"\n')
@example(kind="purchases", suffix=".csv", data=b"")
@example(kind="customers", suffix=".csv", data=b'external_id\n"C-9\n')
def test_random_bytes_never_break_an_import(
    crm: Rapport, engine: Engine, tmp_path: Path, kind: str, suffix: str, data: bytes
) -> None:
    empty_tables(engine)
    seed(crm)
    path = tmp_path / f"fuzz{suffix}"
    # Half the files start with a valid header, so the fuzzing reaches the rows.
    header = ",".join(COLUMNS[ImportKind(kind)]).encode() + b"\n"
    path.write_bytes(header + data if suffix == ".csv" and len(data) % 2 else data)
    outcome_of(crm, engine, kind, path, f"random bytes as {kind}{suffix}")


@FUZZ
@given(
    rows=st.lists(
        st.lists(MOSTLY_FINE, min_size=len(COLUMNS[ImportKind.CUSTOMERS]) - 1, max_size=27),
        min_size=1,
        max_size=5,
    ),
    ids=st.lists(st.one_of(st.sampled_from(["C-1", "C-2", "C-3"]), CELL), min_size=5, max_size=5),
)
def test_hostile_customer_rows_are_imported_exactly_or_rejected_by_line(
    crm: Rapport, engine: Engine, tmp_path: Path, rows: list[list[str]], ids: list[str]
) -> None:
    empty_tables(engine)
    seed(crm)
    header = list(COLUMNS[ImportKind.CUSTOMERS])
    rows = [[ids[n], *row] for n, row in enumerate(rows)]  # mismatched lengths included
    path = tmp_path / "customers.csv"
    path.write_text(csv_text(header, rows), encoding="utf-8")
    if outcome_of(crm, engine, "customers", path, "hostile customer rows") == "imported":
        last = {  # a blank line is no row
            row[0].strip(): dict(zip(header, row, strict=True))
            for row in rows
            if "".join(row).strip()
        }
        for external_id, given_row in last.items():
            stored = crm.get_customer(external_id)
            for name in ("first_name", "last_name", "preferred_name", "city"):
                if given_row[name].strip():
                    assert getattr(stored, name) == given_row[name].strip()


def mostly(*good: str) -> st.SearchStrategy[str]:
    """A cell that is usually one of ``good`` and sometimes poison."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), CELL)


PURCHASE_ROW = st.tuples(
    mostly("P-1", "P-2", "P-3", ""),
    mostly("C-1"),
    mostly("2026-11-01T10:00:00Z", "2026-10-31", "2026-11-01 08:30", "2024-02-29T23:59+02:00"),
    mostly("12.50", "0", "1999.99", "7"),
    mostly("", "EUR"),
    mostly("", "Scarf"),
    mostly("", "gifts"),
    mostly("completed", "refunded", ""),
).map(list)
PURCHASE_ROWS = st.lists(
    st.one_of(
        PURCHASE_ROW,
        PURCHASE_ROW,
        PURCHASE_ROW,
        PURCHASE_ROW.map(lambda row: row[:-1]),  # a cell short
        PURCHASE_ROW.map(lambda row: [*row, "extra"]),  # a cell too many
    ),
    min_size=1,
    max_size=5,
)


@FUZZ
@given(rows=PURCHASE_ROWS, jsonl=st.booleans())
def test_hostile_purchase_rows_are_imported_exactly_or_rejected_by_line(
    crm: Rapport, engine: Engine, tmp_path: Path, rows: list[list[str]], jsonl: bool
) -> None:
    empty_tables(engine)
    seed(crm)
    header = ["purchase_id", "customer_id", "occurred_at", "amount", "currency", "description"]
    header += ["category", "status"]
    if jsonl:
        path = tmp_path / "purchases.jsonl"
        path.write_text(
            "".join(
                json.dumps({k: v for k, v in zip(header, row, strict=False) if v}) + "\n"
                for row in rows
            )
        )
    else:
        path = tmp_path / "purchases.csv"
        path.write_text(csv_text(header, rows), encoding="utf-8")
    case = f"hostile purchase rows ({'jsonl' if jsonl else 'csv'})"
    if outcome_of(crm, engine, "purchases", path, case) == "imported":
        customer = crm.get_customer("C-1")
        with engine.connect() as connection:
            table = metadata.tables["rapport_purchase"]
            completed = table.c.status == "completed"
            total = connection.execute(
                select(func.coalesce(func.sum(table.c.amount), 0)).where(completed)
            ).scalar_one()
        assert customer.lifetime_value == total  # the rollup follows every stored row


JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(allow_nan=True, allow_infinity=True),
        CELL,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


#: A valid JSONL row of each kind, which the fuzzing then spoils a key or two of.
VALID_ROW: dict[str, dict[str, Any]] = {
    "customers": {"external_id": "C-5", "first_name": "Aino", "tags": ["vip"]},
    "purchases": {
        "purchase_id": "P-7",
        "customer_id": "C-1",
        "occurred_at": "2026-11-01T10:00:00Z",
        "amount": 12.5,
    },
    "interactions": {
        "customer_id": "C-1",
        "occurred_at": "2026-11-01T10:00:00Z",
        "kind": "call",
        "direction": "inbound",
        "summary": "asked about scarves",
    },
}


@FUZZ
@given(kind=KINDS, data=st.data())
def test_hostile_jsonl_values_never_break_an_import(
    crm: Rapport, engine: Engine, tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    keys = st.sampled_from(COLUMNS[ImportKind(kind)])
    spoiled = st.dictionaries(keys, JSON_VALUE, max_size=2).map(
        lambda changes: {**VALID_ROW[kind], **changes}
    )
    objects = data.draw(st.lists(spoiled, min_size=1, max_size=4))
    empty_tables(engine)
    seed(crm)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))  # NaN and 1e400 too
    outcome_of(crm, engine, kind, path, f"hostile JSONL values as {kind}")


# ------------------------------------------------------------------ SQL-looking text

INJECTIONS = [
    "'; DROP TABLE rapport_customer; --",
    "Robert'); DELETE FROM rapport_purchase WHERE ('1'='1",
    '" OR ""="',
    "1; UPDATE rapport_customer SET do_not_contact = 0",
    "\\'; SELECT pg_sleep(10); --",
    "%' OR 1=1 --",
]


def test_sql_looking_text_round_trips_in_every_text_field(
    crm: Rapport, engine: Engine, tmp_path: Path
) -> None:
    before = set(metadata.tables)
    for n, attack in enumerate(INJECTIONS):
        external_id = f"{attack}-{n}"
        fields = {
            "first_name": attack,
            "last_name": attack,
            "preferred_name": attack,
            "address_line1": attack,
            "address_line2": attack,
            "city": attack,
            "postal_code": attack[:20],
            "notes": attack,
            "owner": attack,
        }
        crm.upsert_customer({"external_id": external_id, **fields, "tags": [attack[:50]]})
        crm.add_interest(external_id, {"topic": attack, "note": attack})
        crm.add_family_member(external_id, {"name": attack, "relation": "child", "note": attack})
        crm.add_important_date(external_id, {"label": attack, "date": "--05-01"})
        purchase = crm.record_purchase(
            {
                "customer_id": external_id,
                "external_id": f"P{attack}",
                "occurred_at": "2026-11-01T10:00Z",
                "amount": 5,
                "description": attack,
                "category": attack[:50],
            }
        )
        interaction = crm.record_interaction(
            {
                "customer_id": external_id,
                "occurred_at": "2026-11-02T10:00Z",
                "kind": "call",
                "direction": "inbound",
                "summary": attack,
                "staff": attack,
            }
        )
        case = crm.open_case(
            {"customer_id": external_id, "summary": attack, "opened_at": "2026-11-03T10:00Z"}
        )
        promise = crm.create_promise(
            {"customer_id": external_id, "what": attack, "due_at": "2026-12-01T10:00Z"}
        )
        crm.set_consent(external_id, "email", "refused", source=attack)

        profile = crm.get_profile(external_id)
        for name, value in fields.items():
            assert getattr(profile, name) == value, name
        assert profile.tags == [attack[:50]]
        assert [i.topic for i in profile.interests] == [attack]
        assert [(f.name, f.note) for f in profile.family] == [(attack, attack)]
        assert [d.label for d in profile.important_dates] == [attack]
        assert (purchase.external_id, purchase.description) == (f"P{attack}", attack)
        assert (interaction.summary, interaction.staff) == (attack, attack)
        assert (case.summary, promise.what) == (attack, attack)
        assert crm.consent_log(external_id)[-1].source == attack
        assert crm.get_purchase(f"P{attack}").description == attack
    assert set(metadata.tables) == before
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.count()).select_from(metadata.tables["rapport_customer"])
        ).scalar_one()
    assert stored == len(INJECTIONS)


def test_sql_looking_text_round_trips_through_an_import_file(
    crm: Rapport, engine: Engine, tmp_path: Path
) -> None:
    header = ["external_id", "first_name", "last_name", "city", "notes", "tags"]
    rows = [[f"C-{n}", a, a, a, a, a.replace(";", ",")] for n, a in enumerate(INJECTIONS)]
    path = tmp_path / "customers.csv"
    path.write_text(csv_text(header, rows))
    assert crm.import_file("customers", path).created == len(INJECTIONS)
    for n, attack in enumerate(INJECTIONS):
        stored = crm.get_customer(f"C-{n}")
        assert (stored.first_name, stored.last_name, stored.city, stored.notes) == (attack,) * 4


# ------------------------------------------------------------------ formulas in the CSV list


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_every_text_cell_of_the_outreach_csv_is_defused(crm: Rapport, start: str) -> None:
    formula = f"{start}cmd|' /C calc'!A0"
    crm.upsert_customer(
        {
            "external_id": "C-F",
            "first_name": formula,
            "last_name": formula,
            "address_line1": formula,
            "city": formula,
            "owner": formula,
            "birthday": "--11-25",
            "consent_mail": "granted",
        }
    )
    crm.plan(dt.date(2026, 11, 22))
    out = io.StringIO()
    assert crm.write_outreach(out, "csv", dt.date(2026, 11, 22)) >= 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    cells = [cell for row in rows for cell in row.values()]
    assert [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))] == []
    defused = [cell for cell in cells if cell.startswith(f"'{start}cmd")]
    assert len(defused) >= 3, rows  # the name, the address and the owner at least
