"""Every command through Typer's runner, and the installed console script end to end, as
a scheduled script would run it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import icalendar
import pytest
from click.testing import Result
from typer.testing import CliRunner

from rapport.cli import app, output_file
from rapport.rules import BUILTIN_RULES
from tests.test_cli import rapport_cli

DATA = Path(__file__).with_name("data")
TODAY = dt.datetime.now(dt.UTC).date()
runner = CliRunner()
# Only thank-you notes, so what is due does not depend on the day the tests run.
SETTINGS = '[business]\nname = "Harbour Books"\ntimezone = "Europe/Helsinki"\n' + "".join(
    f"[rules.{rule.name}]\nenabled = false\n"
    for rule in BUILTIN_RULES
    if rule.name != "thank_you_note"
)


@pytest.fixture
def db(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated empty database, with a settings file in the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    (tmp_path / "rapport.toml").write_text(SETTINGS)
    assert run("init", "--db", fresh_url).exit_code == 0
    return fresh_url


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout + result.stderr


def write_recent_purchases(tmp_path: Path) -> Path:
    """Purchases dated yesterday, so a thank-you note is due whatever day the tests run."""
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    path = tmp_path / "recent.csv"
    path.write_text(
        "purchase_id,customer_id,occurred_at,amount,currency,description\n"
        f"R-1,C-1,{yesterday}T10:00:00Z,750,EUR,Teak deck chair\n"
        f"R-2,C-2,{yesterday}T11:00:00Z,820,EUR,Wool coat\n"
    )
    return path


def test_import_customers_purchases_interactions(db: str, tmp_path: Path) -> None:
    assert "3 created" in invoke("import", "customers", str(DATA / "customers.csv"), "--db", db)
    assert "2 created" in invoke(
        "import", "interactions", str(DATA / "interactions.csv"), "--db", db
    )
    output = invoke("import", "purchases", str(DATA / "purchases.csv"), "--db", db, code=1)
    assert "line 5: customer_id: no customer with external_id 'C-404'" in output
    assert "nothing was imported" in output
    rejects = tmp_path / "rejects.csv"
    output = invoke(
        "import",
        "purchases",
        str(DATA / "purchases.csv"),
        "--db",
        db,
        "--skip-invalid",
        "--rejects",
        str(rejects),
        "--allow-rejects",
    )
    assert "3 created" in output
    assert "1 rejected" in output
    assert "C-404" in rejects.read_text()
    again = invoke("import", "customers", str(DATA / "customers.csv"), "--db", db)
    assert "0 created, 0 updated, 3 unchanged" in again


def test_import_of_a_bad_file_names_every_bad_row(db: str) -> None:
    output = invoke("import", "customers", str(DATA / "customers-bad.csv"), "--db", db, code=1)
    lines = [line for line in output.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 5", "line 6", "line 6"]
    assert "error: 3 of 5 rows are invalid; nothing was imported" in output


def test_rejects_without_skip_invalid_is_bad_usage(db: str, tmp_path: Path) -> None:
    invoke(
        "import",
        "customers",
        str(DATA / "customers.csv"),
        "--db",
        db,
        "--rejects",
        str(tmp_path / "r.csv"),
        code=2,
    )


@pytest.fixture
def planned(db: str, tmp_path: Path) -> str:
    invoke("import", "customers", str(DATA / "customers.csv"), "--db", db)
    invoke("import", "purchases", str(write_recent_purchases(tmp_path)), "--db", db)
    invoke("plan", "--db", db)
    return db


def test_plan_prints_a_report_and_json(db: str, tmp_path: Path) -> None:
    invoke("import", "customers", str(DATA / "customers.csv"), "--db", db)
    invoke("import", "purchases", str(write_recent_purchases(tmp_path)), "--db", db)
    preview = invoke("plan", "--db", db, "--dry-run")
    assert "dry run: nothing written" in preview
    assert "would create thank_you_note:" in preview
    report = json.loads(invoke("plan", "--db", db, "--json"))
    assert report["rules"]["thank_you_note"]["created"] == 2
    text = invoke("plan", "--db", db)
    [notes] = [line.split() for line in text.splitlines() if line.startswith("thank_you_note")]
    assert notes[:3] == ["thank_you_note", "0", "2"]  # created 0, already planned 2


def test_outreach_in_every_format(planned: str, tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(invoke("outreach", "--db", planned))))
    assert {r["rule"] for r in rows} == {"thank_you_note"}
    data = json.loads(invoke("outreach", "--db", planned, "--format", "json"))
    assert [d["task_id"] for d in data] == [int(r["task_id"]) for r in rows]
    sheet = tmp_path / "sheet.html"
    # Quiet by default (a cron job mails any output); `-v` logs "2 tasks written to ...".
    assert invoke("outreach", "--db", planned, "--format", "html", "-o", str(sheet)) == ""
    assert sheet.read_text().startswith("<!DOCTYPE html>")
    calendar = icalendar.Calendar.from_ical(invoke("outreach", "--db", planned, "--format", "ics"))
    assert list(calendar.walk("VEVENT")) == []  # no calls among these tasks
    notes = json.loads(invoke("outreach", "--db", planned, "--format", "json", "--kind", "note"))
    assert {d["kind"] for d in notes} == {"note"}
    assert (
        json.loads(invoke("outreach", "--db", planned, "--format", "json", "--owner", "Nobody"))
        == []
    )


def test_outreach_rejects_an_unknown_format(planned: str) -> None:
    assert "--format must be one of" in invoke(
        "outreach", "--db", planned, "--format", "pdf", code=2
    )


def test_done_skip_snooze(planned: str) -> None:
    first, second = (
        d["task_id"] for d in json.loads(invoke("outreach", "--db", planned, "--format", "json"))
    )
    assert f"task {first} done" in invoke(
        "done", str(first), "--outcome", "Card sent", "--db", planned
    )
    assert "only planned or snoozed" in invoke("done", str(first), "--db", planned, code=1)
    later = (TODAY + dt.timedelta(days=3)).isoformat()
    assert f"snoozed until {later}" in invoke(
        "snooze", str(second), "--until", later, "--db", planned
    )
    far = (TODAY + dt.timedelta(days=60)).isoformat()
    assert "window ends" in invoke("snooze", str(second), "--until", far, "--db", planned, code=1)
    assert f"task {second} skipped" in invoke(
        "skip", str(second), "--reason", "Moved abroad", "--db", planned
    )
    assert "no outreach task with id 999" in invoke("done", "999", "--db", planned, code=1)
    invoke("skip", str(second), "--db", planned, code=2)  # --reason is required


def test_customer_show_export_erase(planned: str, tmp_path: Path) -> None:
    assert "Aino Virtanen" in invoke("customer", "show", "C-1", "--db", planned)
    exported = tmp_path / "c1.json"
    invoke("customer", "export", "C-1", "--db", planned, "-o", str(exported))
    document = json.loads(exported.read_text())
    assert document["customer"]["email"] == "aino@example.fi"
    assert len(document["purchase"]) == 1
    assert len(document["outreach_task"]) >= 1
    assert "customer C-1 erased" in invoke("customer", "erase", "C-1", "--db", planned, "--yes")
    assert "was already erased" in invoke("customer", "erase", "C-1", "--db", planned, "--yes")
    after = json.loads(invoke("customer", "export", "C-1", "--db", planned))
    assert after["customer"]["email"] is None
    assert after["customer"]["first_name"] is None


def test_report_counts_tasks_per_rule(planned: str) -> None:
    data = json.loads(
        invoke(
            "report", "--db", planned, "--json", "--to", (TODAY + dt.timedelta(days=7)).isoformat()
        )
    )
    assert data["rules"]["thank_you_note"]["tasks"] == 2
    assert "thank_you_note" in invoke("report", "--db", planned)
    invoke("report", "--db", planned, "--from", "2026-12-01", "--to", "2026-11-01", code=2)


def test_templates_check(db: str) -> None:
    assert "templates render correctly" in invoke("templates", "check")


def test_the_database_can_come_from_the_settings_file(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    (tmp_path / "rapport.toml").write_text(f'database = "{fresh_url}"\n')
    assert "rapport tables are at migration" in invoke("init")
    assert not (tmp_path / "rapport.db").exists()


def test_a_bad_settings_file_fails_with_the_key_path(db: str, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[planner]\nhorizon = 3\n")
    assert "planner.horizon: unknown key" in invoke(
        "plan", "--db", db, "--config", str(tmp_path / "bad.toml"), code=1
    )


def test_the_installed_script_runs_a_morning_end_to_end(fresh_url: str, tmp_path: Path) -> None:
    """What cron runs: init, import (a bad row first), plan, outreach in four formats, done."""
    db = ["--db", fresh_url]
    (tmp_path / "rapport.toml").write_text(SETTINGS)

    def step(*args: str, code: int = 0) -> str:
        result = rapport_cli(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        return result.stdout + result.stderr

    step("init", *db)
    assert "nothing was imported" in step(
        "import", "customers", str(DATA / "customers-bad.csv"), *db, code=1
    )
    step("import", "customers", str(DATA / "customers.csv"), *db)
    step("import", "interactions", str(DATA / "interactions.csv"), *db)
    step("import", "purchases", str(write_recent_purchases(tmp_path)), *db)
    assert "thank_you_note" in step("plan", *db)
    for format in ("csv", "json", "html", "ics"):
        step("outreach", *db, "--format", format, "-o", str(tmp_path / f"today.{format}"))
        assert (tmp_path / f"today.{format}").stat().st_size > 0
    with (tmp_path / "today.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    assert "done" in step("done", rows[0]["task_id"], "--outcome", "Card posted", *db)
    remaining = json.loads(step("outreach", *db, "--format", "json"))
    assert [str(r["task_id"]) for r in remaining] == [rows[1]["task_id"]]
    assert "plan for" in step("plan", *db)  # a second run the same morning is harmless


def test_plan_by_shard(db: str, tmp_path: Path) -> None:
    invoke("import", "customers", str(DATA / "customers.csv"), "--db", db)
    invoke("import", "purchases", str(write_recent_purchases(tmp_path)), "--db", db)
    first = json.loads(invoke("plan", "--db", db, "--shard", "1/2", "--json"))
    second = json.loads(invoke("plan", "--db", db, "--shard", "2/2", "--json"))
    notes = [r["rules"]["thank_you_note"]["created"] for r in (first, second)]
    assert sum(notes) == 2
    again = json.loads(invoke("plan", "--db", db, "--json"))
    assert again["rules"]["thank_you_note"]["already_planned"] == 2
    assert "shard 3/2" in invoke("plan", "--db", db, "--shard", "3/2", code=1)


def test_an_output_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    """A cron run that fails half-way leaves yesterday's list, not a truncated one."""
    target = tmp_path / "today.csv"
    target.write_text("yesterday's list\n")

    def fail_half_way() -> None:
        with output_file(target) as handle:
            handle.write("half of today's")
            raise RuntimeError("the run failed here")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert target.read_text() == "yesterday's list\n"
    assert list(tmp_path.iterdir()) == [target]
    with output_file(target) as handle:
        handle.write("today's list\n")
    assert target.read_text() == "today's list\n"
    assert list(tmp_path.iterdir()) == [target]
