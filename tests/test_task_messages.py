"""Messages on real tasks: planning stores no words, previews and lists render them now,
a done task keeps the words it was done with, broken templates raise naming the task,
reading never writes, and the command line checks templates."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport import Rapport, TaskKind, TaskStatus, TemplateError, parse_settings
from rapport.dates import LocalDays
from rapport.messages import customer_facts
from rapport.models import Customer, OutreachTask
from rapport.templates import SHIPPED_TEMPLATES
from tests.conftest import FixedClock, only_rules
from tests.test_cli import rapport_cli


def shop(engine: Engine, clock: FixedClock, **settings: object) -> Rapport:
    clock.now = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)  # plans below are for this day
    return Rapport(
        engine,
        settings=parse_settings(
            {
                "business": {"name": "Harbour Books"},
                "rules": only_rules("birthday_card", "thank_you_note", "check_in_call"),
                **settings,
            }
        ),
        clock=clock,
    )


def aino(crm: Rapport) -> None:
    crm.upsert_customer(
        {
            "external_id": "C-1",
            "first_name": "Aino",
            "language": "fi",
            "email": "aino@example.fi",
            "consent_email": "granted",
            "consent_mail": "refused",
            "phone": "+358 40 123 4567",
            "birthday": "--12-01",
            "tags": ["vip"],
            "interests": ["purjehdus"],
            "family": [{"name": "Eero", "relation": "child", "birthday": "2015-12-05"}],
        }
    )
    crm.record_interaction(
        {
            "customer_id": "C-1",
            "occurred_at": "2026-08-20T10:00:00Z",
            "kind": "visit",
            "direction": "inbound",
            "summary": "Kysyi talvisäilytyksestä",
        }
    )


WORD_COLUMNS = (
    OutreachTask.subject,
    OutreachTask.body,
    OutreachTask.body_html,
    OutreachTask.call_script,
    OutreachTask.talking_points,
    OutreachTask.rendered_at,
)


def stored_words(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """The word columns of every task, by rule."""
    with engine.connect() as connection:
        return {
            row[0]: tuple(row[1:])
            for row in connection.execute(select(OutreachTask.rule, *WORD_COLUMNS))
        }


def test_planning_stores_no_words(rapport: Rapport, engine: Engine, clock: FixedClock) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    assert {t.rule for t in crm.find_tasks(status="planned")} == {"birthday_card", "check_in_call"}
    assert set(stored_words(engine).values()) == {(None,) * len(WORD_COLUMNS)}


def test_previews_render_messages_and_call_scripts_now(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    tasks = {t.rule: t for t in crm.find_tasks(status="planned")}

    card = crm.preview(tasks["birthday_card"])
    assert (card.language, card.subject) == ("fi", "Hyvää syntymäpäivää, Aino!")
    assert card.text is not None
    assert "harrastuksellesi (purjehdus)" in card.text
    assert card.html is not None
    assert card.html.startswith("<!DOCTYPE html>")
    assert "Perhe: Eero (lapsi), syntymäpäivä 5. joulukuuta (12 päivän päästä, täyttää 11)" in (
        card.talking_points
    )

    call = crm.preview(tasks["check_in_call"])
    assert tasks["check_in_call"].kind is TaskKind.CALL
    assert call.greeting == "Hei Aino, täällä Harbour Books."
    assert call.reason is not None
    assert "20. elokuuta 2026 jälkeen" in call.reason
    assert "Viime keskustelu (20.8.2026): Kysyi talvisäilytyksestä" in call.talking_points
    assert crm.previews([tasks["check_in_call"], tasks["birthday_card"].id]) == [call, card]


def test_the_outreach_list_shows_the_words_of_the_preview(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    clock.now = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)  # a preview is for today
    rows = {row.rule: row for row in crm.outreach(dt.date(2026, 11, 30))}
    card = crm.preview(rows["birthday_card"].task_id)
    assert (rows["birthday_card"].subject, rows["birthday_card"].message) == (
        card.subject,
        card.text,
    )
    assert rows["birthday_card"].talking_points == card.talking_points
    call = crm.preview(rows["check_in_call"].task_id)
    assert rows["check_in_call"].greeting == call.greeting
    assert rows["check_in_call"].talking_points == call.talking_points


def test_a_done_task_keeps_the_words_it_was_done_with(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    card = crm.find_tasks(rule="birthday_card")[0]
    sent = crm.preview(card)
    crm.complete_task(card.id, outcome="card posted")

    subject, body, html, script, points, rendered_at = stored_words(engine)["birthday_card"]
    assert (subject, body, html, script) == (sent.subject, sent.text, sent.html, None)
    assert points == sent.talking_points
    assert rendered_at is not None
    assert stored_words(engine)["check_in_call"] == (None,) * len(WORD_COLUMNS)  # still open

    # The profile changes afterwards: history still shows what the customer got.
    crm.upsert_customer({"external_id": "C-1", "preferred_name": "Ainoliina"})
    [done] = crm.outreach(dt.date(2026, 11, 30), statuses=["done"])
    assert (done.subject, done.message) == (sent.subject, sent.text)
    assert done.subject == "Hyvää syntymäpäivää, Aino!"
    assert done.talking_points == sent.talking_points
    assert crm.preview(card).subject == "Hyvää syntymäpäivää, Ainoliina!"  # a preview is now


def test_a_done_call_keeps_its_call_script(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    call = crm.find_tasks(rule="check_in_call")[0]
    said = crm.preview(call)
    crm.complete_task(call.id, outcome="wants the spring catalogue")
    *_, script, points, _ = stored_words(engine)["check_in_call"]
    assert script == {
        "language": "fi",
        "greeting": said.greeting,
        "reason": said.reason,
        "talking_points": said.talking_points,
    }
    assert points == said.talking_points
    [done] = crm.outreach(dt.date(2026, 11, 30), statuses=["done"])
    assert done.greeting == said.greeting
    assert done.message == f"{said.greeting} {said.reason}"


def test_lists_show_the_profile_as_it_is_now(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    before = {row.rule: row for row in crm.outreach(dt.date(2026, 11, 30))}
    assert before["birthday_card"].subject == "Hyvää syntymäpäivää, Aino!"
    crm.upsert_customer({"external_id": "C-1", "preferred_name": "Ainoliina"})
    after = {row.rule: row for row in crm.outreach(dt.date(2026, 11, 30))}
    assert after["birthday_card"].subject == "Hyvää syntymäpäivää, Ainoliina!"
    card = crm.find_tasks(rule="birthday_card")[0]
    assert crm.preview(card).subject == "Hyvää syntymäpäivää, Ainoliina!"


def broken_birthday_card(tmp_path: Path) -> Path:
    (tmp_path / "birthday_card").mkdir()
    (tmp_path / "birthday_card" / "email.fi.j2").write_text(
        "{% block subject %}Hei{% endblock %}{% block text %}\n{{ customer.nmae }}\n{% endblock %}"
    )
    return tmp_path


def test_a_broken_template_does_not_stop_planning(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    crm = shop(engine, clock, templates_dir=str(broken_birthday_card(tmp_path)))
    aino(crm)
    report = crm.plan(dt.date(2026, 11, 23))
    assert len(crm.find_tasks(status="planned")) == 2
    assert report.created == 2  # nothing is rendered while planning, so nothing fails


@pytest.mark.parametrize("format", ["csv", "json", "html", "list"])
def test_a_broken_template_fails_the_list_naming_the_template_and_the_task(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path, format: str
) -> None:
    crm = shop(engine, clock, templates_dir=str(broken_birthday_card(tmp_path)))
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    [card] = crm.find_tasks(rule="birthday_card")

    def listing() -> object:
        if format == "list":
            return crm.outreach(dt.date(2026, 11, 30))
        return crm.write_outreach(io.StringIO(), format, dt.date(2026, 11, 30))

    with pytest.raises(TemplateError) as raised:
        listing()
    message = str(raised.value)
    assert f"task {card.id} (birthday_card, email) for customer C-1" in message
    assert "birthday_card/email.fi.j2, line 2" in message
    assert "nmae" in message
    assert raised.value.template == "birthday_card/email.fi.j2"
    assert raised.value.line == 2


def test_a_calendar_of_calls_does_not_render_the_cards(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    crm = shop(engine, clock, templates_dir=str(broken_birthday_card(tmp_path)))
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    assert crm.write_outreach(io.StringIO(), "ics", dt.date(2026, 11, 30), kinds=["call"]) == 1


def test_a_broken_template_fails_the_preview_and_keeps_a_done_task_open(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    crm = shop(engine, clock, templates_dir=str(broken_birthday_card(tmp_path)))
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    [card] = crm.find_tasks(rule="birthday_card")
    with pytest.raises(TemplateError, match=r"birthday_card/email\.fi\.j2, line 2"):
        crm.preview(card)
    with pytest.raises(TemplateError, match=f"task {card.id} "):
        crm.complete_task(card.id)
    assert crm.get_task(card.id).status is TaskStatus.PLANNED
    assert stored_words(engine)["birthday_card"] == (None,) * len(WORD_COLUMNS)


def test_render_messages_setting_is_deprecated_and_does_nothing(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    with pytest.warns(DeprecationWarning, match="planner.render_messages has no effect"):
        crm = shop(engine, clock, planner={"render_messages": True})
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    assert set(stored_words(engine).values()) == {(None,) * len(WORD_COLUMNS)}


def test_templates_check_command_passes_for_the_shipped_templates() -> None:
    result = rapport_cli("templates", "check")
    assert result.returncode == 0, result.stderr
    shipped = len(list(SHIPPED_TEMPLATES.glob("[a-z]*/*.j2")))
    assert f"{shipped} of {shipped} templates render correctly" in result.stdout


def test_templates_check_command_names_a_broken_user_template(tmp_path: Path) -> None:
    folder = tmp_path / "my-templates" / "thank_you_note"
    folder.mkdir(parents=True)
    (folder / "note.en.j2").write_text(
        "{% block text %}\nDear {{ customer.name }},\nThanks for {{ occasion.purchse }}\n"
        "{% endblock %}\n"
    )
    (tmp_path / "rapport.toml").write_text('templates_dir = "my-templates"\n')
    result = rapport_cli("templates", "check", "--config", str(tmp_path / "rapport.toml"))
    assert result.returncode == 1
    assert "FAIL thank_you_note/note.en.j2: thank_you_note/note.en.j2, line 3" in result.stderr
    assert "'dict object' has no attribute 'purchse'" in result.stderr


def test_call_sheet_days_are_the_business_days(engine: Engine, clock: FixedClock) -> None:
    """Late-evening visits in UTC are next-morning visits in Helsinki: the call sheet
    says Tuesday, as the rules count, and dates a promise by the business's calendar."""
    crm = shop(engine, clock, business={"timezone": "Europe/Helsinki"})
    crm.upsert_customer({"external_id": "C-1", "first_name": "Aino"})
    for monday in ("2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"):
        crm.record_purchase(  # 22:30 UTC on a Monday is 00:30 on Tuesday in Helsinki
            {"customer_id": "C-1", "occurred_at": f"{monday}T22:30:00Z", "amount": 30}
        )
    crm.create_promise(
        {"customer_id": "C-1", "what": "call back", "due_at": "2026-11-30T22:30:00Z"}
    )
    with Session(engine) as session:
        customer_id = session.scalar(select(Customer.id))
        assert customer_id is not None
        days = LocalDays(zoneinfo.ZoneInfo("Europe/Helsinki"))
        facts = customer_facts(session, [customer_id], crm.settings, dt.date(2026, 11, 23), days)
    customer = facts[customer_id]
    assert customer["usual_weekdays"] == [1]  # Tuesday
    assert customer["last_purchase"]["date"] == dt.date(2026, 11, 17)
    assert customer["open_promises"][0]["due_on"] == dt.date(2026, 12, 1)
