"""Outreach lists in four formats: CSV (safe in spreadsheets), JSON, a printable HTML call
sheet, and an ICS calendar of calls with stable UIDs; and reading never writes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport import DatabaseError, Rapport, TaskStatus, metadata, parse_settings
from rapport.exports import CSV_COLUMNS
from rapport.exports.csv_list import safe_cell
from tests.conftest import FixedClock, only_rules

DATA = Path(__file__).with_name("data")
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture
def shop(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    clock.now = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)
    settings = parse_settings(
        {
            "business": {"name": "Harbour Books", "timezone": "Europe/Helsinki", "country": "FI"},
            "outreach": {"call_hour": 11, "call_minutes": 20},
            "rules": only_rules("birthday_card", "thank_you_note", "check_in_call"),
        }
    )
    crm = Rapport(engine, settings=settings, clock=clock)
    crm.import_file("customers", DATA / "customers.csv")
    crm.import_file("purchases", DATA / "purchases.csv", skip_invalid=True)
    crm.import_file("interactions", DATA / "interactions.csv")
    crm.upsert_customer(
        {
            "external_id": "C-4",
            "first_name": "Noah",
            "last_name": "Berg",
            "phone": "+46 70 555 0101",
            "language": "sv",
            "tags": ["vip"],
            "owner": "Erik",
        }
    )
    crm.record_interaction(
        {
            "customer_id": "C-4",
            "occurred_at": "2026-07-01T10:00:00Z",
            "kind": "visit",
            "direction": "inbound",
        }
    )
    crm.plan(AS_OF)
    return crm


def export(crm: Rapport, format: str, **filters: object) -> str:
    out = io.StringIO()
    crm.write_outreach(out, format, AS_OF, **filters)  # type: ignore[arg-type]
    return out.getvalue()


def test_the_fixture_plans_cards_notes_and_a_call(shop: Rapport) -> None:
    kinds = sorted((row.customer_id, row.kind.value) for row in shop.outreach(AS_OF))
    assert kinds == [
        ("C-1", "card"),
        ("C-1", "note"),
        ("C-2", "card"),
        ("C-2", "note"),
        ("C-4", "call"),
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+358 40 123", "'+358 40 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (True, "true"),
        (None, ""),
        (["a", "b"], "a | b"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_csv_has_the_spec_columns_and_one_row_per_task(shop: Rapport) -> None:
    rows = list(csv.DictReader(io.StringIO(export(shop, "csv"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 5
    note = next(r for r in rows if r["kind"] == "note" and r["customer_id"] == "C-1")
    assert note["late"] in {"true", "false"}
    assert note["message"].startswith("Hyvä Aino,")
    assert " | " in note["talking_points"]
    assert note["phone"] == "'+358 40 123 4567"  # escaped: a leading + is a formula


def test_formula_injection_in_customer_data_is_defused(shop: Rapport) -> None:
    shop.upsert_customer({"external_id": "C-2", "first_name": "=cmd|' /C calc'!A0"})
    rows = list(csv.DictReader(io.StringIO(export(shop, "csv"))))
    names = {r["customer_name"] for r in rows if r["customer_id"] == "C-2"}
    assert names == {"'=cmd|' /C calc'!A0 Andersson"}


def test_json_has_the_same_keys_with_talking_points_as_a_list(shop: Rapport) -> None:
    data = json.loads(export(shop, "json"))
    assert len(data) == 5
    assert all(tuple(item) == CSV_COLUMNS for item in data)
    call = next(item for item in data if item["kind"] == "call")
    assert isinstance(call["talking_points"], list)
    assert call["phone"] == "+46 70 555 0101"  # JSON is data, not a spreadsheet: no escaping


def test_filters_by_kind_owner_rule_and_status(shop: Rapport) -> None:
    assert {r.kind.value for r in shop.outreach(AS_OF, kinds=["call"])} == {"call"}
    assert {r.owner for r in shop.outreach(AS_OF, owner="Erik")} == {"Erik"}
    assert {r.rule for r in shop.outreach(AS_OF, rules=["birthday_card"])} == {"birthday_card"}
    assert shop.outreach(AS_OF, statuses=["done"]) == []
    first = shop.outreach(AS_OF)[0]
    shop.complete_task(first.task_id)
    assert [r.task_id for r in shop.outreach(AS_OF, statuses=["done"])] == [first.task_id]


def test_tasks_due_later_are_not_listed_yet(shop: Rapport) -> None:
    assert shop.outreach(dt.date(2026, 11, 1)) == []


class Page(HTMLParser):
    """Collects what a printed page would show, and anything that would need a network."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.headings: list[str] = []
        self.articles = 0
        self.external: list[str] = []
        self.style = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        if tag == "article":
            self.articles += 1
        for name, value in attrs:
            if name in {"src", "href"} and value and not value.startswith("#"):
                self.external.append(value)
        if tag in {"script", "link", "img", "iframe"}:
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "h2":
            self.headings.append(data.strip())
        if self.stack and self.stack[-1] == "style":
            self.style += data
        self.text.append(data)


def test_html_call_sheet_groups_by_owner_and_prints_offline(shop: Rapport) -> None:
    page = Page()
    page.feed(export(shop, "html"))
    page.close()
    assert page.headings == ["Erik", "Maria"]
    assert page.articles == 5
    assert page.external == []
    assert "@page" in page.style
    assert "@media print" in page.style
    text = " ".join(page.text)
    assert "Check-in call" in text
    assert "Espresso machine" in text
    assert "Phone: +46 70 555 0101" in " ".join(text.split())


def test_html_escapes_customer_data(shop: Rapport) -> None:
    shop.upsert_customer({"external_id": "C-2", "first_name": "<script>alert(1)</script>"})
    html = export(shop, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_ics_has_the_calls_at_the_configured_hour_with_stable_uids(shop: Rapport) -> None:
    first = icalendar.Calendar.from_ical(export(shop, "ics"))
    events = list(first.walk("VEVENT"))
    assert len(events) == 1
    [event] = events
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (11, 0, "Europe/Helsinki")
    assert event.decoded("dtend") - start == dt.timedelta(minutes=20)
    assert str(event["summary"]) == "Call Noah Berg (+46 70 555 0101)"
    again = icalendar.Calendar.from_ical(export(shop, "ics"))
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == [str(event["uid"])]


def test_an_empty_list_is_still_valid_in_every_format(shop: Rapport) -> None:
    day = dt.date(2026, 1, 1)
    out = io.StringIO()
    assert shop.write_outreach(out, "json", day) == 0
    assert json.loads(out.getvalue()) == []
    out = io.StringIO()
    shop.write_outreach(out, "csv", day)
    assert out.getvalue().strip() == ",".join(CSV_COLUMNS)
    out = io.StringIO()
    shop.write_outreach(out, "ics", day)
    assert list(icalendar.Calendar.from_ical(out.getvalue()).walk("VEVENT")) == []
    out = io.StringIO()
    shop.write_outreach(out, "html", day)
    assert "Nothing is due" in out.getvalue()


# ---------------------------------------------------------------------- reading never writes


def database_dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rapport table, sorted: equal dumps mean nothing changed."""
    with engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def read_everything(crm: Rapport) -> None:
    """Every way to read words: lists (open, done, all), the four exports, previews."""
    every_status = list(TaskStatus)
    for as_of in (AS_OF, AS_OF + dt.timedelta(days=30)):
        crm.outreach(as_of)
        crm.outreach(as_of, statuses=every_status)
        for format in ("csv", "json", "html", "ics"):
            crm.write_outreach(io.StringIO(), format, as_of, statuses=every_status)
    tasks = crm.find_tasks()
    crm.previews(tasks)
    crm.preview(tasks[0])


def with_a_done_task(crm: Rapport) -> None:
    """One task done (its words recorded), so lists show recorded and fresh words."""
    first = crm.outreach(AS_OF)[0]
    crm.complete_task(first.task_id, outcome="sent")


def test_listing_previewing_and_exporting_change_nothing_in_the_database(
    shop: Rapport, engine: Engine
) -> None:
    with_a_done_task(shop)
    before = database_dump(engine)
    assert before["rapport_outreach_task"]
    read_everything(shop)
    assert database_dump(engine) == before


@contextmanager
def read_only_session(engine: Engine) -> Iterator[Session]:
    """A session whose database refuses every write (SQLite ``query_only``, PostgreSQL
    ``READ ONLY`` transaction)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA query_only = ON")
            connection.commit()
        connection.begin()
        if not sqlite:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            with Session(bind=connection) as session:
                yield session
        finally:
            connection.rollback()
            if sqlite:  # the pooled connection is used again by other tests
                connection.exec_driver_sql("PRAGMA query_only = OFF")
                connection.commit()


def test_listing_previewing_and_exporting_run_in_a_read_only_transaction(
    shop: Rapport, engine: Engine, clock: FixedClock
) -> None:
    with_a_done_task(shop)
    with read_only_session(engine) as session:
        reader = Rapport(session, settings=shop.settings, clock=clock)
        read_everything(reader)
        rows = reader.outreach(AS_OF, statuses=list(TaskStatus))
    assert any(row.status is TaskStatus.DONE for row in rows)
    assert all(row.message for row in rows)


def test_the_read_only_session_really_refuses_writes(
    shop: Rapport, engine: Engine, clock: FixedClock
) -> None:
    """The check above proves something: a write in such a session fails."""
    with read_only_session(engine) as session:
        writer = Rapport(session, settings=shop.settings, clock=clock)
        with pytest.raises(DatabaseError):
            writer.complete_task(shop.outreach(AS_OF)[0].task_id)


# ------------------------------------------------------------------- the calendar of calls


def calls(crm: Rapport, as_of: dt.date, **filters: object) -> list[icalendar.Component]:
    out = io.StringIO()
    crm.write_outreach(out, "ics", as_of, **filters)  # type: ignore[arg-type]
    return list(icalendar.Calendar.from_ical(out.getvalue()).walk("VEVENT"))


def sequence(event: icalendar.Component) -> int:
    return int(str(event["sequence"]))


def test_ics_carries_the_vtimezone_of_the_zone_its_calls_name(shop: Rapport) -> None:
    calendar = icalendar.Calendar.from_ical(export(shop, "ics"))
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert calendar.get_missing_tzids() == set()


def test_ics_puts_a_call_still_open_after_its_day_on_the_listing_day(shop: Rapport) -> None:
    [on_time] = calls(shop, AS_OF)
    due = on_time.decoded("dtstart").date()
    later = max(due, AS_OF) + dt.timedelta(days=3)
    [late] = calls(shop, later)
    start = late.decoded("dtstart")
    assert (start.date(), start.hour, str(start.tzinfo)) == (later, 11, "Europe/Helsinki")
    assert f"Late: due {due.isoformat()}" in str(late["description"])


def test_ics_keeps_the_uid_and_raises_the_sequence_as_a_late_call_moves(shop: Rapport) -> None:
    [first] = calls(shop, AS_OF)
    due = first.decoded("dtstart").date()
    moved = [calls(shop, due + dt.timedelta(days=days))[0] for days in (1, 2)]
    assert {str(event["uid"]) for event in moved} == {str(first["uid"])}
    assert [sequence(first)] + [sequence(event) for event in moved] == [0, 1, 2]


def test_ics_keeps_a_done_call_on_its_own_day(shop: Rapport) -> None:
    [call] = [row for row in shop.outreach(AS_OF) if row.kind.value == "call"]
    shop.complete_task(call.task_id, outcome="reached")
    [done] = calls(shop, AS_OF + dt.timedelta(days=5), statuses=list(TaskStatus))
    assert done.decoded("dtstart").date() == call.due_on
    assert sequence(done) == 0


# ------------------------------------------------------------------- staff text on the lists


def test_reason_lines_write_money_as_babel_does_not_as_python_prints_it(shop: Rapport) -> None:
    reasons = {
        row.customer_id: row.reason for row in shop.outreach(AS_OF, rules=["thank_you_note"])
    }
    assert reasons["C-1"] == "Thank-you note: Espresso machine (€649.90)"
    assert reasons["C-2"] == "Thank-you note: Winter coat (€899.00)"


class Languages(HTMLParser):
    """The page's language and the language each draft and list of points is marked in."""

    def __init__(self) -> None:
        super().__init__()
        self.page: str | None = None
        self.marked: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.page = values.get("lang")
        elif values.get("class") in {"draft", "points"}:
            self.marked.append((values["class"] or "", values.get("lang")))


def test_call_sheet_marks_the_customers_words_with_their_language(shop: Rapport) -> None:
    shop.upsert_customer({"external_id": "C-2", "language": None})  # the business's language
    rows = shop.outreach(AS_OF)
    assert None in {row.language for row in rows}
    page = Languages()
    page.feed(export(shop, "html"))
    page.close()
    assert page.page == "en"  # the sheet's own words are English
    assert {lang for _, lang in page.marked} == {row.language or "en" for row in rows}
    assert {kind for kind, _ in page.marked} == {"draft", "points"}


def test_call_sheet_says_when_it_was_printed_on_the_business_clock(shop: Rapport) -> None:
    # The shop's clock says 07:00 UTC: 09:00 in Helsinki in November.
    assert "Printed 2026-11-23 09:00 EET." in export(shop, "html")
