"""Messages on real tasks: the planner writes them, previews match, broken templates are
reported without losing tasks, and the command line checks templates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rapport import Rapport, TaskKind, parse_settings
from rapport.messages import message_contexts
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


def test_the_planner_writes_messages_and_call_scripts(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    report = crm.plan(dt.date(2026, 11, 23))
    assert report.render_errors == []
    tasks = {t.rule: t for t in crm.find_tasks(status="planned")}
    assert set(tasks) == {"birthday_card", "check_in_call"}
    assert report.rendered == 2

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


def test_stored_messages_match_the_preview(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    with engine.connect() as connection:
        rows = {
            row.rule: row
            for row in connection.execute(
                select(
                    OutreachTask.rule,
                    OutreachTask.id,
                    OutreachTask.subject,
                    OutreachTask.body,
                    OutreachTask.body_html,
                    OutreachTask.call_script,
                    OutreachTask.talking_points,
                    OutreachTask.rendered_at,
                )
            )
        }
    card = crm.preview(rows["birthday_card"].id)
    assert (rows["birthday_card"].subject, rows["birthday_card"].body) == (card.subject, card.text)
    assert rows["birthday_card"].body_html == card.html
    call = crm.preview(rows["check_in_call"].id)
    assert rows["check_in_call"].call_script["greeting"] == call.greeting
    assert rows["check_in_call"].talking_points == call.talking_points
    assert all(row.rendered_at is not None for row in rows.values())


def test_a_broken_template_is_reported_and_the_tasks_are_kept(
    rapport: Rapport, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    (tmp_path / "birthday_card").mkdir()
    (tmp_path / "birthday_card" / "email.fi.j2").write_text(
        "{% block subject %}Hei{% endblock %}{% block text %}\n{{ customer.nmae }}\n{% endblock %}"
    )
    crm = shop(engine, clock, templates_dir=str(tmp_path))
    aino(crm)
    report = crm.plan(dt.date(2026, 11, 23))
    assert len(crm.find_tasks(status="planned")) == 2
    assert report.rendered == 1
    [error] = report.render_errors
    assert "birthday_card/email.fi.j2, line 2" in error
    assert "nmae" in error


def test_messages_can_be_written_again_after_a_profile_changes(
    rapport: Rapport, engine: Engine, clock: FixedClock
) -> None:
    crm = shop(engine, clock)
    aino(crm)
    crm.plan(dt.date(2026, 11, 23))
    crm.upsert_customer({"external_id": "C-1", "preferred_name": "Ainoliina"})
    assert crm.render_messages().rendered == 0  # already written
    assert crm.render_messages(again=True).rendered == 2
    card = crm.find_tasks(rule="birthday_card")[0]
    assert crm.preview(card).subject == "Hyvää syntymäpäivää, Ainoliina!"


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
        task = SimpleNamespace(
            id=1,
            customer_id=customer_id,
            rule="check_in_call",
            kind=TaskKind.CALL,
            channel="phone",
            due_on=dt.date(2026, 11, 23),
            window_end=dt.date(2026, 11, 30),
            late=False,
            context={},
            assigned_to=None,
        )
        context = message_contexts(session, [task], crm.settings, dt.date(2026, 11, 23))
    customer = context[1]["customer"]
    assert customer["usual_weekdays"] == [1]  # Tuesday
    assert customer["last_purchase"]["date"] == dt.date(2026, 11, 17)
    assert customer["open_promises"][0]["due_on"] == dt.date(2026, 12, 1)
