"""What a Python user expects of a command line, through the installed console script:
--version, ``python -m``, completion, several ids, a confirmation before erasing, clean
help, a fast start; and customer data printed as data."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from rapport import ImportKind, TaskKind, TaskStatus, load_settings
from rapport.cli import IMPORT_KINDS, TASK_KINDS, TASK_STATUSES
from tests.test_cli import rapport_cli
from tests.test_cli_commands import SETTINGS  # only thank-you notes, whatever the day

YESTERDAY = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


def ok(*args: str, cwd: Path | None = None) -> str:
    result = rapport_cli(*args, cwd=cwd)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A folder with rapport.toml, a database, two customers and a thank-you note each."""
    (tmp_path / "rapport.toml").write_text('database = "sqlite:///shop.db"\n' + SETTINGS)
    (tmp_path / "customers.csv").write_text(
        "external_id,first_name,last_name,email,phone,address_line1,postal_code,city,"
        "country,birthday\n"
        "C-1,[link=http://evil.example]Bob,[/],bob@example.com,+358 40 123 4567,"
        "Mannerheimintie 1,00100,Helsinki,FI,--12-02\n"
        "C-2,:fire: Aino,Virtanen,aino@example.fi,,Aleksanterinkatu 2,00170,Helsinki,FI,"
        "1980-12-02\n"
    )
    (tmp_path / "purchases.csv").write_text(
        "purchase_id,customer_id,occurred_at,amount,currency\n"
        f"P-1,C-1,{YESTERDAY}T10:00:00Z,750,EUR\nP-2,C-2,{YESTERDAY}T11:00:00Z,820,EUR\n"
    )
    ok("init", cwd=tmp_path)
    ok("import", "customers", "customers.csv", cwd=tmp_path)
    ok("import", "purchases", "purchases.csv", cwd=tmp_path)
    ok("plan", cwd=tmp_path)
    return tmp_path


def task_ids(shop: Path) -> list[int]:
    return [row["task_id"] for row in json.loads(ok("outreach", "--format", "json", cwd=shop))]


# ---------------------------------------------------------------------------- conventions


def test_version_prints_the_installed_version() -> None:
    assert ok("--version") == f"rapport {version('rapport')}\n"


def test_python_m_rapport_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rapport", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: rapport " in result.stdout


def test_the_shell_completes_command_names() -> None:
    completed = rapport_cli(
        env={"_RAPPORT_COMPLETE": "complete_bash", "COMP_WORDS": "rapport pl", "COMP_CWORD": "1"}
    )
    assert completed.stdout.split() == ["plan"]
    assert "--install-completion" in ok("--help")


def test_done_closes_several_tasks_and_reports_each_one_that_fails(shop: Path) -> None:
    first, second = task_ids(shop)
    assert ok("done", str(first), str(second), cwd=shop).splitlines() == [
        f"task {first} done",
        f"task {second} done",
    ]
    again = rapport_cli("done", str(first), "999", cwd=shop)
    assert again.returncode == 1
    assert again.stderr.startswith(f"error: task {first}: ")
    assert "error: task 999: no outreach task with id 999" in again.stderr


def test_erase_without_a_terminal_needs_yes(shop: Path) -> None:
    refused = rapport_cli("customer", "erase", "C-1", cwd=shop)
    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr
    assert "bob@example.com" in ok("customer", "show", "C-1", cwd=shop)
    assert "customer C-1 erased" in ok("customer", "erase", "C-1", "--yes", cwd=shop)


def erase_on_a_terminal(shop: Path, answer: str) -> tuple[int, str]:
    """Run ``customer erase C-1`` with a terminal as standard input, typing ``answer``."""
    script = Path(sys.executable).with_name("rapport")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(script), "customer", "erase", "C-1"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=shop,
            env={k: v for k, v in os.environ.items() if k != "RAPPORT_DATABASE_URL"},
        )
        os.write(controller, answer.encode() + b"\n")
        code = process.wait(timeout=120)
        os.close(terminal)
        terminal = -1
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            output += chunk
        return code, output.decode(errors="replace")
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)


def test_erase_on_a_terminal_asks_first(shop: Path) -> None:
    code, output = erase_on_a_terminal(shop, "n")
    assert "Erase the personal data of customer C-1?" in output
    assert code == 1
    assert "bob@example.com" in ok("customer", "show", "C-1", cwd=shop)
    code, output = erase_on_a_terminal(shop, "y")
    assert (code, "customer C-1 erased" in output) == (0, True)


def test_the_demo_saves_its_settings_for_the_commands_it_suggests(tmp_path: Path) -> None:
    shown = ok("demo", "--customers", "30", "--seed", "5", cwd=tmp_path)
    settings_file = Path(shown.split("Settings: ")[1].split()[0])
    settings = load_settings(settings_file)
    assert settings.business.name == "Harbour Books"
    assert settings.database == f"sqlite:///{settings_file.parent / 'rapport-demo.db'}"
    assert f"rapport outreach --config {settings_file}" in shown
    # From another folder, with only the suggested --config: the demo's business and data.
    rows = json.loads(ok("outreach", "--config", str(settings_file), "--format", "json"))
    assert rows
    sheet = ok("outreach", "--config", str(settings_file), "--format", "html")
    assert "Harbour Books" in sheet


def test_a_relative_database_in_rapport_toml_is_relative_to_that_file(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "rapport.toml").write_text('database = "sqlite:///data/shop.db"\n')
    (shop / "data").mkdir()
    ok("init", "--config", str(shop / "rapport.toml"), cwd=tmp_path)
    assert (shop / "data" / "shop.db").exists()
    assert not (tmp_path / "data").exists()


def test_plan_without_a_database_says_to_run_init_and_creates_nothing(tmp_path: Path) -> None:
    result = rapport_cli("plan", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: there is no database at rapport.db; run `rapport init`")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [(), ("plan",), ("outreach",), ("report",), ("done",), ("import", "customers")]
)
def test_help_reads_as_a_person_would_write_it(command: tuple[str, ...]) -> None:
    shown = ok(*command, "--help")
    assert not re.search(r"<\w+>", shown), shown  # Typer 0.26's <str>, <bool>, <int>
    assert "[%Y-%m-%d]" not in shown


def test_a_day_in_another_form_fails_with_the_form_to_use() -> None:
    result = rapport_cli("plan", "--as-of", "02.12.2026")
    assert result.returncode == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "'02.12.2026' is not a day; write it as YYYY-MM-DD, for example 2026-12-02" in message
    assert "Value error" not in message


def test_the_command_line_starts_without_the_database_and_template_libraries() -> None:
    """`rapport --help` and completion start fast: what `rapport.cli` imports up front."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, rapport.cli; print(' '.join(sorted({m.split('.')[0] for m in "
            "sys.modules} & {'sqlalchemy', 'alembic', 'pydantic', 'jinja2', 'babel', "
            "'holidays', 'icalendar'})))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == ""


def test_the_choices_on_the_command_line_are_the_library_s() -> None:
    assert tuple(kind.value for kind in ImportKind) == IMPORT_KINDS
    assert tuple(kind.value for kind in TaskKind) == TASK_KINDS
    assert tuple(status.value for status in TaskStatus) == TASK_STATUSES


# ---------------------------------------------------------------------------- data is data


def test_customer_show_prints_markup_in_names_as_text(shop: Path) -> None:
    shown = ok("customer", "show", "C-1", cwd=shop)
    assert shown.splitlines()[0] == "[link=http://evil.example]Bob [/] (C-1)"
    assert "\x1b]8;" not in shown  # no terminal hyperlink
    assert ":fire: Aino Virtanen (C-2)" in ok("customer", "show", "C-2", cwd=shop)


def test_customer_show_gives_contact_details_and_a_readable_birthday(shop: Path) -> None:
    shown = ok("customer", "show", "C-1", cwd=shop)
    assert "Email:                bob@example.com" in shown
    assert "Phone:                +358 40 123 4567" in shown
    assert "Address:              Mannerheimintie 1, 00100 Helsinki, FI" in shown
    assert "Birthday:             2 December\n" in shown
    assert "--12-02" not in shown
    assert "Birthday:             2 December 1980" in ok("customer", "show", "C-2", cwd=shop)
