"""``rapport staff``, the report's staff section and ``outreach --owner`` with
``[[staff]]``, through the installed console script on SQLite and PostgreSQL.

The shop: maria speaks Finnish and makes two calls a day, sven speaks Swedish, makes
three and is off on Wednesday 2026-04-08. Five Finnish and two Swedish VIPs, none with an
owner, were last heard from on 2026-01-05, so a check-in call is due for each from Monday
2026-04-06; planned that day alone, maria's day fills and three Finnish calls wait.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from rapport import Rapport, load_settings
from rapport.exports.staff_page import KindLoad, day_fill, kind_loads
from rapport.rules import BUILTIN_RULES
from rapport.staffing import DayLoad
from tests.conftest import FixedClock, fresh_postgres_database
from tests.test_cli import rapport_cli

MONDAY = dt.date(2026, 4, 6)
WEEK = [(MONDAY + dt.timedelta(days=n)).isoformat() for n in range(7)]
# Check-in calls only; no country, so no public holiday moves a call.
RULES = "".join(
    f"[rules.{rule.name}]\nenabled = false\n"
    for rule in BUILTIN_RULES
    if rule.name != "check_in_call"
)
STAFF = """
[[staff]]
name = "maria"
languages = ["fi"]
per_day = { call = 2 }

[[staff]]
name = "sven"
languages = ["sv"]
per_day = { call = 3 }
off = ["2026-04-08"]
"""


def settings(url: str, *, staff: bool) -> str:
    business = '[business]\nname = "Harbour Books"\ntimezone = "Europe/Helsinki"\n'
    return f'database = "{url}"\n' + (STAFF if staff else "") + business + RULES


def ok(shop: Path, *args: str) -> str:
    result = rapport_cli(*args, cwd=shop)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    assert result.stderr == "", result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per backend for the module: the commands tested here only read."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('staff') / 'shop.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def shop(database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with rapport.toml (and nostaff.toml, the same shop without staff), the
    customers imported and Monday planned; ``plan.json`` holds the plan's report."""
    folder = tmp_path_factory.mktemp("shop")
    (folder / "rapport.toml").write_text(settings(database, staff=True))
    (folder / "nostaff.toml").write_text(settings(database, staff=False))
    people = [("F", "fi", n) for n in range(5)] + [("S", "sv", n) for n in range(2)]
    (folder / "customers.csv").write_text(
        "external_id,first_name,language,tags,phone\n"
        + "".join(f"{p}-{n},Name{n},{lang},vip,+358 40 100 20{n}\n" for p, lang, n in people)
    )
    (folder / "interactions.csv").write_text(
        "customer_id,occurred_at,kind,direction\n"
        + "".join(f"{p}-{n},2026-01-05T10:00:00Z,visit,inbound\n" for p, _, n in people)
    )
    ok(folder, "init")
    ok(folder, "import", "customers", "customers.csv")
    ok(folder, "import", "interactions", "interactions.csv")
    report = ok(folder, "plan", "--as-of", MONDAY.isoformat(), "--horizon", "0", "--json")
    (folder / "plan.json").write_text(report)
    return folder


def staff_json(shop: Path, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        ok(shop, "staff", "--from", MONDAY.isoformat(), "--format", "json", *args)
    )
    return data


def outreach(shop: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        ok(shop, "outreach", "--as-of", MONDAY.isoformat(), "--format", "json", *args)
    )
    return rows


# ---------------------------------------------------------------------------- rapport staff


def test_the_table_shows_each_persons_day_against_capacity_and_the_backlog(shop: Path) -> None:
    lines = ok(shop, "staff", "--from", MONDAY.isoformat()).splitlines()
    assert lines[0] == "staff load 2026-04-06 to 2026-04-12: tasks due / capacity per day"
    rows = {tuple(line.split()[:3]): line.split()[3:] for line in lines[2:16]}
    assert rows["maria", "Mon", "2026-04-06"] == ["call", "2/2", "full:", "call"]
    assert rows["maria", "Tue", "2026-04-07"] == ["call", "0/2"]
    assert rows["sven", "Mon", "2026-04-06"] == ["call", "2/3"]
    assert rows["sven", "Wed", "2026-04-08"] == ["-", "day", "off"]
    assert rows["sven", "Sat", "2026-04-11"] == ["-", "day", "off"]
    assert len(rows) == 14
    assert "backlog: 3 waiting for room, the oldest since 2026-04-06" in lines
    assert "check_in_call  3" in lines
    assert lines[-1] == "due 2026-04-06 to 2026-04-12 to nobody on staff: none"


def test_the_json_carries_what_the_plan_placed_and_what_waits(shop: Path) -> None:
    load = staff_json(shop)
    assert (load["start"], load["days"]) == ("2026-04-06", 7)
    assert [person["name"] for person in load["staff"]] == ["maria", "sven"]
    due = {
        (person["name"], day["day"]): day["due"].get("call", 0)
        for person in load["staff"]
        for day in person["days"]
    }
    planned = Counter((row["owner"], row["due_on"]) for row in outreach(shop))
    assert {key: n for key, n in due.items() if n} == dict(planned)
    assert planned == {("maria", "2026-04-06"): 2, ("sven", "2026-04-06"): 2}
    plan = json.loads((shop / "plan.json").read_text())["rules"]["check_in_call"]
    assert (plan["created"], plan["waiting"]) == (4, 3)
    assert load["waiting"] == {"check_in_call": plan["waiting"]}
    assert load["waiting_since"] == "2026-04-06"
    assert load["unassigned"] == {}
    sven = {day["day"]: day for day in load["staff"][1]["days"]}
    assert (sven["2026-04-08"]["working"], sven["2026-04-08"]["capacity"]) == (False, {"call": 0})
    assert sven["2026-04-09"]["capacity"] == {"call": 3}


def test_days_and_from_choose_the_days_shown(shop: Path) -> None:
    load = staff_json(shop, "--days", "2")
    assert [day["day"] for day in load["staff"][0]["days"]] == WEEK[:2]
    assert staff_json(shop, "--json", "--days", "366")["days"] == 366


class StaffGrid(HTMLParser):
    """The page's day cells (person, day and classes) and the kinds shown in them."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], set[str]] = {}
        self.text: dict[tuple[str, str], str] = {}
        self.current: tuple[str, str] | None = None
        self.html_lang: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_lang = values.get("lang")
        if tag in ("script", "link", "img", "iframe") or values.get("src"):
            self.external.append(tag)
        if tag == "td" and "data-day" in values:
            key = (values["data-person"] or "", values["data-day"] or "")
            self.cells[key] = set((values.get("class") or "").split())
            self.text[key] = ""
            self.current = key

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.text[self.current] += data


def test_the_html_page_shows_every_person_and_day_and_flags_the_full_day(shop: Path) -> None:
    ok(shop, "staff", "--from", MONDAY.isoformat(), "--format", "html", "-o", "staff.html")
    html = (shop / "staff.html").read_text(encoding="utf-8")
    grid = StaffGrid()
    grid.feed(html)
    grid.close()
    assert grid.html_lang == "en"
    assert grid.external == []  # self-contained: no script, stylesheet or image to fetch
    assert "http://" not in html
    assert "https://" not in html
    assert set(grid.cells) == {(name, day) for name in ("maria", "sven") for day in WEEK}
    assert {key for key, classes in grid.cells.items() if "full" in classes} == {
        ("maria", "2026-04-06")
    }
    assert " ".join(grid.text["maria", "2026-04-06"].split()) == "full call 2/2"
    assert " ".join(grid.text["sven", "2026-04-06"].split()) == "call 2/3"
    off = {key for key, classes in grid.cells.items() if "off" in classes}
    assert off == {("sven", WEEK[2])} | {(n, d) for n in ("maria", "sven") for d in WEEK[5:]}
    assert not any("over" in classes for classes in grid.cells.values())
    assert "Check-in call" in html  # the backlog, by the rule's name for staff
    assert "since 2026-04-06" in html
    assert "Generated " in html


@pytest.mark.parametrize("days", ["0", "367", "-3"])
def test_days_outside_one_to_366_is_one_line_of_bad_usage(tmp_path: Path, days: str) -> None:
    result = rapport_cli("staff", "--days", days, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"error: --days must be from 1 to 366, not {days}\n"
    assert list(tmp_path.iterdir()) == []  # refused before any database was opened


def test_without_staff_it_says_so_and_still_counts_the_tasks_due(shop: Path) -> None:
    text = ok(shop, "staff", "--config", "nostaff.toml", "--from", MONDAY.isoformat())
    first, *rest = text.splitlines()
    assert first.startswith("no staff configured")
    assert "[[staff]]" in first
    assert "docs/configuration.md" in first
    assert rest[-1] == "due 2026-04-06 to 2026-04-12 to nobody on staff: call 4"
    load = staff_json(shop, "--config", "nostaff.toml")
    assert (load["staff"], load["unassigned"]) == ([], {"call": 4})
    ok(shop, "staff", "--config", "nostaff.toml", "--format", "html", "-o", "nostaff.html")
    assert "No staff are configured" in (shop / "nostaff.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- report, outreach


def test_the_report_shows_each_persons_load_and_the_backlog(shop: Path) -> None:
    period = ("--from", WEEK[0], "--to", WEEK[-1])
    report = json.loads(ok(shop, "report", *period, "--json"))
    maria, sven = report["staff"]["people"]
    assert maria == {
        "name": "maria",
        "working_days": 5,
        "due": {"call": 2},
        "capacity": {"call": 10},
        "days_over": 0,
    }
    assert (sven["working_days"], sven["due"], sven["capacity"]) == (4, {"call": 2}, {"call": 12})
    assert report["staff"]["waiting"] == {"check_in_call": 3}
    assert report["staff"]["waiting_since"] == "2026-04-06"
    lines = ok(shop, "report", *period).splitlines()
    assert lines[lines.index("person  working days  due / capacity  days over") + 1].split() == [
        "maria",
        "5",
        "call",
        "2/10",
        "0",
    ]
    assert "backlog: 3 waiting for room, the oldest since 2026-04-06" in lines
    ok(shop, "report", *period, "--format", "html", "-o", "report.html")
    page = (shop / "report.html").read_text(encoding="utf-8")
    assert "Staff load" in page
    assert "call 2/12" in page


def test_without_staff_the_report_is_as_before(shop: Path) -> None:
    period = ("--config", "nostaff.toml", "--from", WEEK[0], "--to", WEEK[-1])
    assert "staff" not in json.loads(ok(shop, "report", *period, "--json"))
    assert "backlog" not in ok(shop, "report", *period)
    ok(shop, "report", *period, "--format", "html", "-o", "plain.html")
    assert "Staff load" not in (shop / "plain.html").read_text(encoding="utf-8")


def test_outreach_owner_lists_exactly_the_tasks_assigned_to_that_person(shop: Path) -> None:
    everyone = outreach(shop)
    marias = outreach(shop, "--owner", "maria")
    assert [row["task_id"] for row in marias] == [
        row["task_id"] for row in everyone if row["owner"] == "maria"
    ]
    assert len(marias) == 2  # her two calls a day; the other Finnish calls wait
    assert all(row["customer_id"].startswith("F-") for row in marias)
    assert all(row["due_on"] == MONDAY.isoformat() for row in marias)
    assert {row["owner"] for row in everyone} == {"maria", "sven"}


def test_a_service_call_past_capacity_is_flagged_in_the_table_the_page_and_the_report(
    fresh_url: str, tmp_path: Path
) -> None:
    """A complaint is acknowledged the day it comes in, even by someone with no room."""
    rules = "".join(
        f"[rules.{rule.name}]\nenabled = false\n"
        for rule in BUILTIN_RULES
        if rule.name != "case_acknowledge"
    )
    (tmp_path / "rapport.toml").write_text(
        f'database = "{fresh_url}"\n[[staff]]\nname = "maria"\nper_day = {{ call = 0 }}\n' + rules
    )
    clock = FixedClock(dt.datetime(2026, 4, 6, 9, tzinfo=dt.UTC))
    with Rapport.from_url(
        fresh_url, settings=load_settings(tmp_path / "rapport.toml"), clock=clock
    ) as crm:
        crm.migrate()
        crm.upsert_customer({"external_id": "C-1", "phone": "+358 40 100 200", "owner": "maria"})
        crm.open_case(
            {
                "customer_id": "C-1",
                "external_id": "K-1",
                "opened_at": "2026-04-06T08:00:00Z",
                "summary": "late delivery",
            }
        )
        crm.plan(MONDAY)
    table = ok(tmp_path, "staff", "--from", MONDAY.isoformat(), "--days", "1").splitlines()
    assert table[2].split() == ["maria", "Mon", "2026-04-06", "call", "1/0", "over:", "call"]
    ok(tmp_path, "staff", "--from", MONDAY.isoformat(), "--format", "html", "-o", "staff.html")
    grid = StaffGrid()
    grid.feed((tmp_path / "staff.html").read_text(encoding="utf-8"))
    assert "over" in grid.cells["maria", MONDAY.isoformat()]
    report = json.loads(ok(tmp_path, "report", "--from", WEEK[0], "--to", WEEK[-1], "--json"))
    [maria] = report["staff"]["people"]
    assert (maria["due"], maria["capacity"], maria["days_over"]) == ({"call": 1}, {"call": 0}, 1)


# ---------------------------------------------------------------------------- a day's flags


def test_a_day_off_shows_only_what_falls_due_on_it_and_that_is_over() -> None:
    day = DayLoad(day=MONDAY, working=False, due={"call": 1}, capacity={"call": 0, "card": 0})
    kinds = kind_loads(day)
    assert [str(kind) for kind in kinds] == ["call 1/0"]
    assert day_fill(kinds) == "over"


def test_a_working_day_shows_its_room_then_kinds_without_a_limit() -> None:
    day = DayLoad(
        day=MONDAY, working=True, due={"note": 4, "call": 3}, capacity={"call": 3, "card": 0}
    )
    kinds = kind_loads(day)
    assert [str(kind) for kind in kinds] == ["call 3/3", "note 4"]
    assert [kind.fill for kind in kinds] == ["full", ""]
    assert day_fill(kinds) == "full"


@pytest.mark.parametrize(
    ("due", "capacity", "percent"),
    [(0, 4, 0), (1, 4, 25), (4, 4, 100), (9, 4, 100), (0, 0, 0), (2, 0, 100), (5, None, 0)],
)
def test_the_bar_is_the_share_of_capacity_taken(
    due: int, capacity: int | None, percent: int
) -> None:
    assert KindLoad("call", due, capacity).percent == percent


def test_the_plan_table_shows_what_waits_for_room(shop: Path) -> None:
    printed = ok(shop, "plan", "--as-of", MONDAY.isoformat(), "--horizon", "0", "--dry-run")
    header, *rows = printed.splitlines()[1:]
    columns = header.split()
    [check_ins] = [row.split() for row in rows if row.startswith("check_in_call")]
    found = dict(zip(columns, check_ins, strict=False))
    assert (found["created"], found["already"], found["waiting"]) == ("0", "4", "3")
