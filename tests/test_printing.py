"""The call sheet on paper: the demo's day printed by a real browser (headless Chromium)
to PDF on A4 and on Letter, and its pages counted.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it). Without it
these tests skip on a developer's machine and fail in CI (``CI`` set), so a CI run can
never pass without printing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rapport import Rapport, parse_settings
from rapport.demo import (
    demo_cases,
    demo_customers,
    demo_interactions,
    demo_promises,
    demo_purchases,
)
from tests.conftest import FixedClock

#: The demo's business on a fixed day (the CLI's demo uses the real clock).
AS_OF = dt.date(2026, 11, 23)
SEED = 7
#: What a printed sheet must carry at least, on average, on every paper size.
TASKS_PER_PAGE = 3
PAPER_SIZES = ["A4", "letter"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    reason = "printing tests need Chromium (Debian's 'chromium' package; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must print, not skip")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def demo_sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """The demo's call sheet for :data:`AS_OF` (its HTML and how many tasks it lists),
    built as ``rapport demo`` builds it, on SQLite."""
    folder = tmp_path_factory.mktemp("printing")
    settings = parse_settings(
        {
            "business": {
                "name": "Harbour Books",
                "timezone": "Europe/Helsinki",
                "country": "FI",
                "signature": "Maria and the Harbour Books team",
            },
            "rules": {"thank_you_note": {"min_amount": 300}},
        }
    )
    clock = FixedClock(dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC))
    url = f"sqlite:///{folder / 'demo.db'}"
    with Rapport.from_url(url, settings=settings, clock=clock) as crm:
        crm.migrate()
        people = list(demo_customers(600, seed=SEED, as_of=AS_OF))
        crm.upsert_customers(people)
        crm.record_purchases(demo_purchases(people, seed=SEED, as_of=AS_OF, currency="EUR"))
        ids = [person["external_id"] for person in people]
        crm.record_interactions(demo_interactions(ids, seed=SEED, as_of=AS_OF))
        for case, resolved_at in demo_cases(ids, seed=SEED, as_of=AS_OF):
            opened = crm.open_case(case)
            if resolved_at is not None:
                crm.resolve_case(opened.id, at=resolved_at, on_first_contact=True)
        for promise in demo_promises(ids, seed=SEED, as_of=AS_OF):
            crm.create_promise(promise)
        crm.plan(AS_OF)
        path = folder / "call-sheet.html"
        with path.open("w", encoding="utf-8") as handle:
            count = crm.write_outreach(handle, "html", AS_OF)
    return path.read_text(encoding="utf-8"), count


def print_to_pdf(html: str, paper: str, folder: Path) -> bytes:
    """``html`` printed by headless Chromium on ``paper``, as the PDF's bytes.

    The paper size is set as a user's print dialog would: the sheet itself names none,
    so it prints on whatever the printer holds.
    """
    page = folder / f"sheet-{paper}.html"
    page.write_text(
        html.replace("</head>", f"<style>@page {{ size: {paper}; }}</style></head>", 1),
        encoding="utf-8",
    )
    pdf = folder / f"sheet-{paper}.pdf"
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return pdf.read_bytes()


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


def page_count(pdf: bytes) -> int:
    """The PDF's pages: its ``/Type /Page`` objects (Chromium writes them uncompressed)."""
    return len(_PAGE_OBJECT.findall(pdf))


def test_page_count_reads_a_pdf_that_chromium_wrote(tmp_path: Path) -> None:
    two_pages = (
        "<html><head></head><body><p>one</p><p style='break-before: page'>two</p></body></html>"
    )
    assert page_count(print_to_pdf(two_pages, "A4", tmp_path)) == 2


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_the_printed_demo_sheet_carries_at_least_three_tasks_a_page(
    demo_sheet: tuple[str, int], paper: str, tmp_path: Path
) -> None:
    html, tasks = demo_sheet
    assert tasks >= 60, "the demo's day should be a full one"
    pdf = print_to_pdf(html, paper, tmp_path)
    width, height = (float(side) for side in _MEDIA_BOX.findall(pdf)[0])
    expected = {"A4": (595, 842), "letter": (612, 792)}[paper]
    assert (round(width), round(height)) == expected
    pages = page_count(pdf)
    print(f"{paper}: {tasks} tasks on {pages} pages, {pages / tasks:.2f} pages a task")
    assert tasks / pages >= TASKS_PER_PAGE, f"{tasks} tasks on {pages} {paper} pages"


class GlanceList(HTMLParser):
    """The rows of the one-line-per-task list at the top of the sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.in_glance = False
        self.task_rows = 0
        self.before_first_card = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "glance" in classes:
            assert self.before_first_card, "the short list comes before the cards"
            self.in_glance = True
        elif tag == "tr" and self.in_glance and "owner" not in classes:
            self.task_rows += 1
        elif tag == "article":
            self.before_first_card = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_glance = False


def test_the_sheet_opens_with_one_line_per_task(demo_sheet: tuple[str, int]) -> None:
    html, tasks = demo_sheet
    glance = GlanceList()
    glance.feed(html)
    glance.close()
    assert glance.task_rows == tasks + 1  # and the column headings
    assert "white-space: nowrap" in html.split("table.glance th, table.glance td")[1][:200]


# ---------------------------------------------------------------------------- the staff chart

#: A small team for the demo's customers: a week of their days must print on one page.
TEAM = [
    {"name": "maria", "languages": ["fi", "sv"], "per_day": {"call": 6, "card": 12}},
    {"name": "lucia", "languages": ["es", "it"], "per_day": {"call": 4, "email": 20}},
    {"name": "piotr", "languages": ["pl"], "per_day": {"call": 3}, "off": ["2026-11-25"]},
    {"name": "emma", "languages": ["en"], "per_day": {"call": 5, "card": 8, "note": 8}},
]


@pytest.fixture(scope="module")
def staff_chart(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``rapport staff --format html`` page for the demo's business with
    :data:`TEAM`, over the week from :data:`AS_OF`, as the command writes it."""
    from rapport.exports.staff_page import write_staff_page

    folder = tmp_path_factory.mktemp("staff-chart")
    settings = parse_settings(
        {
            "business": {"name": "Harbour Books", "timezone": "Europe/Helsinki", "country": "FI"},
            "staff": TEAM,
        }
    )
    clock = FixedClock(dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC))
    with Rapport.from_url(f"sqlite:///{folder / 'demo.db'}", settings=settings, clock=clock) as crm:
        crm.migrate()
        people = list(demo_customers(600, seed=SEED, as_of=AS_OF))
        crm.upsert_customers(people)
        crm.record_purchases(demo_purchases(people, seed=SEED, as_of=AS_OF, currency="EUR"))
        ids = [person["external_id"] for person in people]
        crm.record_interactions(demo_interactions(ids, seed=SEED, as_of=AS_OF))
        crm.plan(AS_OF)
        load = crm.staff_load(AS_OF, days=7)
        path = folder / "staff.html"
        with path.open("w", encoding="utf-8") as handle:
            write_staff_page(load, handle, business="Harbour Books", generated_at=clock())
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_a_week_of_a_small_team_prints_on_one_page(
    staff_chart: str, paper: str, tmp_path: Path
) -> None:
    assert 'class="day full' in staff_chart or 'class="day over' in staff_chart, (
        "the demo's week should fill someone's day"
    )
    assert staff_chart.count('class="day') == len(TEAM) * 7
    assert page_count(print_to_pdf(staff_chart, paper, tmp_path)) == 1


# ------------------------------------------------------------------------ the simulated load


@pytest.fixture(scope="module")
def simulation_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``rapport simulate --format html`` page for two weeks of the demo's business,
    with a second configuration beside it."""
    from rapport.exports.simulation_page import write_simulation_page

    folder = tmp_path_factory.mktemp("simulation")
    business = {"name": "Harbour Books", "timezone": "Europe/Helsinki", "country": "FI"}
    clock = FixedClock(dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC))
    url = f"sqlite:///{folder / 'demo.db'}"
    with Rapport.from_url(url, settings=parse_settings({"business": business}), clock=clock) as crm:
        crm.migrate()
        people = list(demo_customers(300, seed=SEED, as_of=AS_OF))
        crm.upsert_customers(people)
        crm.record_purchases(demo_purchases(people, seed=SEED, as_of=AS_OF, currency="EUR"))
        ids = [person["external_id"] for person in people]
        crm.record_interactions(demo_interactions(ids, seed=SEED, as_of=AS_OF))
        other = parse_settings(
            {"business": business, "rules": {"thank_you_note": {"min_amount": 100}}}
        )
        result = crm.simulate(
            AS_OF, AS_OF + dt.timedelta(days=13), compare=other, compare_name="other.toml"
        )
        path = folder / "simulation.html"
        with path.open("w", encoding="utf-8") as handle:
            write_simulation_page(result, handle, business="Harbour Books", generated_at=clock())
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("paper", PAPER_SIZES)
def test_two_weeks_side_by_side_print_on_one_page(
    simulation_page: str, paper: str, tmp_path: Path
) -> None:
    assert simulation_page.count("data-tasks=") == 2 * 14  # both configurations' days
    assert "Compared: other.toml" in simulation_page
    assert page_count(print_to_pdf(simulation_page, paper, tmp_path)) == 1
