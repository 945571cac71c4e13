"""The import fast path stores exactly what full validation stores, and rejects nothing
on its own: the same file imported with and without it gives the same rows and the same
error messages."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, delete, select

from rapport import Rapport, create_engine, importing, metadata, migrate, parse_settings
from rapport.importing import COLUMNS, ImportKind
from tests.conftest import FixedClock, fresh_postgres_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate

AS_OF = dt.date(2026, 11, 23)
#: Rows the fast path accepted, per kind, so the tests can show it was exercised.
FAST_ROWS: dict[str, int] = {}
SETTINGS = parse_settings({"business": {"timezone": "Europe/Helsinki", "currency": "EUR"}})

#: Cells that sit on the edge of what the fast path accepts, per column.
CELLS: dict[str, list[str]] = {
    "first_name": ["Aino", " Aino ", "", "A\x07ino", "x" * 201, "Zoë"],
    "email": ["aino@Example.FI", "", "no-at-sign", " a@b.fi ", "a b@c.fi", "a@" + "b" * 330],
    "phone": ["+358 40 123 4567", "", "12", "call me", "(09) 123-45"],
    "country": ["FI", "fi", "", "XX", "Finland"],
    "language": ["fi", "pt-BR", "pt_BR", "", "klingon", "EN"],
    "timezone": ["Europe/Helsinki", "", "Mars/Base", " Europe/Oslo"],
    "birthday": ["1980-02-29", "--02-29", "1981-02-29", "1990-13-01", "", "0000-00-00", "--12-31"],
    "customer_since": ["2020-05-17", "", "2020-5-17", " 2020-05-17", "2020-02-30", "17.5.2020"],
    "tags": ["vip", "vip;vip", "a; b ;", "", ";;", "t" * 101],
    "interests": ["jazz;sailing", "Jazz;jazz", "", "x" * 201, " golf "],
    "consent_email": ["granted", "GRANTED", " denied ", "", "unknown", "maybe"],
    "consent_sms": ["granted", "", "withdrawn", "yes"],
    "do_not_contact": ["", "yes", "0", "TRUE", "perhaps"],
    "status": ["", "active", "inactive", " active", "deceased", "gone"],
    "check_in_every_days": ["", "30", "0", "-5", "3.5", "007", "x"],
    "notes": ["", "likes tea", "two\nlines", "tab\there"],
}
PURCHASE_CELLS: dict[str, list[str]] = {
    "purchase_id": ["", "P-dup", "P-\x00"],
    "occurred_at": [
        "2026-11-20T10:00:00Z",
        "2026-11-20T10:00:00",
        "2026-11-20",
        "2026-11-20T10:00:00+02:00",
        "yesterday",
        "",
        "0000-00-00",
    ],
    "amount": ["12.50", "0", "12.50000", "-1", "1e309", "NaN", " 5", "1,5", "", "99999999999999"],
    "currency": ["", "EUR", "eur", "SEK", "XXX"],
    "description": ["", "Coffee", "two\nlines"],
    "category": ["", "food", "c" * 101],
    "status": ["", "completed", "REFUNDED", "lost"],
}


@pytest.fixture
def urls(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases of the current backend: one per import path."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'full.db'}"
        return
    with fresh_postgres_database() as fast, fresh_postgres_database() as full:
        yield fast, full


def _crm(url: str) -> Rapport:
    clock = FixedClock(dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC))
    crm = Rapport.from_url(url, settings=SETTINGS, clock=clock)
    crm.migrate()
    return crm


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rapport table, ids replaced by the external ids they stand for."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as connection:
        table = reflected.tables["rapport_customer"]
        customers = dict(connection.execute(select(table.c.id, table.c.external_id)).all())
        snapshot: dict[str, list[tuple[Any, ...]]] = {}
        for name in (
            "rapport_customer",
            "rapport_consent_change",
            "rapport_customer_tag",
            "rapport_interest",
            "rapport_purchase",
        ):
            table = reflected.tables[name]
            rows = []
            for row in connection.execute(select(table)).mappings():
                values = {k: v for k, v in row.items() if k != "id"}
                if "customer_id" in values:
                    values["customer_id"] = customers[values["customer_id"]]
                rows.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
            snapshot[name] = sorted(rows)
    return snapshot


def _import_both(
    fast: Rapport, full: Rapport, kind: str, path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[importing.ImportResult, importing.ImportResult]:
    quick = importing._quick
    taken: list[int] = []

    def counted(*args: Any) -> Any:
        found = quick(*args)
        taken.append(found is not None)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(importing, "_quick", counted)
        with_fast = fast.import_file(kind, path, skip_invalid=True)
    FAST_ROWS[kind] = FAST_ROWS.get(kind, 0) + sum(taken)
    with monkeypatch.context() as patch:
        patch.setattr(importing, "_quick", lambda *args: None)
        without = full.import_file(kind, path, skip_invalid=True)
    return with_fast, without


def _same_outcome(a: importing.ImportResult, b: importing.ImportResult) -> None:
    assert (a.rows, a.created, a.updated, a.unchanged, a.rejected) == (
        b.rows,
        b.created,
        b.updated,
        b.unchanged,
        b.rejected,
    )
    assert [str(p) for p in a.problems] == [str(p) for p in b.problems]


def test_generated_files_store_the_same_rows_both_ways(
    urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = generate(300, tmp_path / "data", as_of=AS_OF)
    FAST_ROWS.clear()
    fast, full = _crm(urls[0]), _crm(urls[1])
    engines = [create_engine(url) for url in urls]
    for kind in ("customers", "purchases"):
        outcome = _import_both(fast, full, kind, files[kind], monkeypatch)
        _same_outcome(*outcome)
        assert outcome[0].created > 0
    fast_rows, full_rows = (_snapshot(engine) for engine in engines)
    print(f"compared {sum(len(v) for v in fast_rows.values())} rows in 5 tables; {FAST_ROWS}")
    assert {"customers": 300, "purchases": outcome[0].rows} == FAST_ROWS
    assert fast_rows == full_rows
    assert len(fast_rows["rapport_purchase"]) > 1000
    for engine in engines:
        engine.dispose()
    fast.close()
    full.close()


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(cells: dict[str, list[str]], size: int) -> st.SearchStrategy[list[dict[str, str]]]:
    """Rows whose cells are the first (plain) value of each list except one to three
    columns, which take any value: mostly-good rows, so an edge cell decides the row."""

    @st.composite
    def row(draw: st.DrawFn) -> dict[str, str]:
        edgy = draw(st.sets(st.sampled_from(sorted(cells)), min_size=1, max_size=3))
        return {
            name: draw(st.sampled_from(values)) if name in edgy else values[0]
            for name, values in cells.items()
        }

    return st.lists(row(), min_size=1, max_size=size)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[tuple[Engine, Engine]]:
    """Two migrated databases reused by every example (emptied in between)."""
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("pair")
        engines = [create_engine(f"sqlite:///{folder / f'{n}.db'}") for n in ("fast", "full")]
        for engine in engines:
            migrate(engine)
        yield engines[0], engines[1]
        for engine in engines:
            engine.dispose()
        return
    with fresh_postgres_database() as fast_url, fresh_postgres_database() as full_url:
        engines = [create_engine(url) for url in (fast_url, full_url)]
        for engine in engines:
            migrate(engine)
        yield engines[0], engines[1]
        for engine in engines:
            engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(customers=_rows(CELLS, 8), purchases=_rows(PURCHASE_CELLS, 8), data=st.data())
def test_edge_cells_give_the_same_rows_and_errors_both_ways(
    pair: tuple[Engine, Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    customers: list[dict[str, str]],
    purchases: list[dict[str, str]],
    data: st.DataObject,
) -> None:
    for engine in pair:
        _empty(engine)
    clock = FixedClock(dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC))
    fast, full = (Rapport(engine, settings=SETTINGS, clock=clock) for engine in pair)
    # A few repeated external ids: the last row of a customer wins on both paths.
    ids = [f"C-{data.draw(st.integers(0, 5))}" for _ in customers]
    customer_rows = [{**row, "external_id": id_} for row, id_ in zip(customers, ids, strict=True)]
    purchase_rows = [
        {**row, "customer_id": data.draw(st.sampled_from([*ids, "C-none"]))} for row in purchases
    ]
    customer_file = _write_csv(tmp_path / "customers.csv", ["external_id", *CELLS], customer_rows)
    purchase_file = _write_csv(
        tmp_path / "purchases.csv", ["customer_id", *PURCHASE_CELLS], purchase_rows
    )
    assert set(CELLS) < set(COLUMNS[ImportKind.CUSTOMERS]) | {"notes", "status"}
    for kind, path in (("customers", customer_file), ("purchases", purchase_file)):
        _same_outcome(*_import_both(fast, full, kind, path, monkeypatch))
    assert _snapshot(pair[0]) == _snapshot(pair[1])
