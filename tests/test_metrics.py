"""Service metrics: outreach per rule, top-segment coverage, complaints, promises, surveys."""

from __future__ import annotations

import datetime as dt
import io
import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import Engine

from rapport import Rapport, parse_settings
from rapport.exports.report_page import write_report_page
from tests.conftest import FixedClock, only_rules
from tests.test_cli_commands import invoke

D = dt.date
UTC = dt.UTC


@pytest.fixture
def crm(rapport: Rapport, engine: Engine, clock: FixedClock) -> Rapport:
    clock.now = dt.datetime(2026, 11, 1, 8, tzinfo=UTC)
    settings = parse_settings({"rules": only_rules("birthday_card")})
    crm = Rapport(engine, settings=settings, clock=clock)
    for n, birthday in enumerate(("--11-05", "--11-06", "--11-07")):
        crm.upsert_customer(
            {
                "external_id": f"C-{n}",
                "birthday": birthday,
                "address_line1": "Kuja 1",
                "city": "Oulu",
                "tags": ["vip"],
            }
        )
    crm.upsert_customer({"external_id": "C-dnc", "birthday": "--11-05", "do_not_contact": True})
    crm.plan(D(2026, 11, 1))  # three cards due 29-31 Oct (late), one skipped
    return crm


def test_outreach_per_rule_counts_on_time_late_and_missed(crm: Rapport, clock: FixedClock) -> None:
    cards = {t.customer_id: t for t in crm.find_tasks()}
    crm.complete_task(cards["C-0"].id)
    crm.skip_task(cards["C-1"].id, reason="Moved abroad")
    clock.now = dt.datetime(2026, 11, 10, 8, tzinfo=UTC)
    crm.plan(D(2026, 11, 10))  # C-2's card expires
    report = crm.report(D(2026, 10, 1), D(2026, 11, 30))
    cards_metrics = report.rules["birthday_card"]
    assert (cards_metrics.tasks, cards_metrics.done, cards_metrics.expired) == (3, 1, 1)
    assert cards_metrics.skipped == 1
    assert cards_metrics.on_time_rate == 0.0  # the one done was late
    assert report.service.skipped_by_reason == {"Moved abroad": 1}
    # Counted per planner run: both runs found C-dnc's birthday and left it alone.
    assert report.service.not_planned_by_reason == {"do_not_contact": 2}


def test_coverage_of_the_top_segment(crm: Rapport) -> None:
    crm.record_interaction(
        {
            "customer_id": "C-0",
            "occurred_at": "2026-10-20T10:00:00Z",
            "kind": "call",
            "direction": "outbound",
        }
    )
    crm.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-05-20T10:00:00Z",
            "kind": "call",
            "direction": "outbound",
        }
    )
    service = crm.report(D(2026, 10, 1), D(2026, 10, 31)).service
    assert (service.top_segment, service.top_segment_contacted_90d) == (3, 1)
    assert service.coverage == pytest.approx(1 / 3, abs=1e-4)


def test_complaints_promises_and_surveys(crm: Rapport) -> None:
    first = crm.open_case(
        {"customer_id": "C-0", "summary": "Late", "opened_at": "2026-10-01T10:00:00Z"}
    )
    second = crm.open_case(
        {"customer_id": "C-1", "summary": "Broken", "opened_at": "2026-10-02T10:00:00Z"}
    )
    crm.resolve_case(first.id, at=dt.datetime(2026, 10, 2, 10, tzinfo=UTC), on_first_contact=True)
    crm.resolve_case(second.id, at=dt.datetime(2026, 10, 6, 10, tzinfo=UTC), on_first_contact=False)
    crm.record_survey(5, case_id=first.id, at=dt.datetime(2026, 10, 5, tzinfo=UTC))
    crm.record_survey(2, case_id=second.id, at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    on_time = crm.create_promise(
        {"customer_id": "C-0", "what": "Call back", "due_at": "2026-10-10T12:00:00Z"}
    )
    too_late = crm.create_promise(
        {"customer_id": "C-1", "what": "Deliver", "due_at": "2026-10-12T12:00:00Z"}
    )
    crm.keep_promise(on_time.id, at=dt.datetime(2026, 10, 9, tzinfo=UTC))
    crm.keep_promise(too_late.id, at=dt.datetime(2026, 10, 14, tzinfo=UTC))
    service = crm.report(D(2026, 10, 1), D(2026, 10, 31)).service
    assert (service.cases_opened, service.cases_resolved) == (2, 2)
    assert service.first_contact_resolution_rate == 0.5
    assert service.median_days_to_resolution == 2.5
    assert (service.promises_due, service.promises_kept_on_time) == (2, 1)
    assert (service.survey_answers, service.average_survey_score) == (2, 3.5)


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.external.append(value)


def test_the_html_report_is_self_contained_with_svg_charts(crm: Rapport) -> None:
    out = io.StringIO()
    write_report_page(
        crm.report(D(2026, 10, 1), D(2026, 11, 30)),
        out,
        business="Harbour Books",
        generated_at=dt.datetime(2026, 11, 1, tzinfo=UTC),
    )
    page = Page()
    page.feed(out.getvalue())
    assert page.tags.count("svg") >= 1
    assert "rect" in page.tags
    assert page.external == []
    assert "Birthday card" in out.getvalue()


def test_report_command_formats(fresh_url: str, tmp_path: object) -> None:
    invoke("init", "--db", fresh_url)
    data = json.loads(invoke("report", "--db", fresh_url, "--format", "json"))
    assert data["total"]["tasks"] == 0
    assert "<svg" in invoke("report", "--db", fresh_url, "--format", "html")
    invoke("report", "--db", fresh_url, "--format", "pdf", code=2)


def test_the_html_report_says_when_it_was_made_on_the_business_clock(crm: Rapport) -> None:
    """It said "UTC" whatever the business's timezone (issue 14)."""
    out = io.StringIO()
    write_report_page(
        crm.report(D(2026, 10, 1), D(2026, 11, 30)),
        out,
        business="Harbour Books",
        generated_at=dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
        timezone="Europe/Helsinki",
    )
    assert "Generated 2026-11-01 09:30 EET." in out.getvalue()
    assert "UTC" not in out.getvalue()
