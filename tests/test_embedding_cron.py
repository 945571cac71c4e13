"""docs/cron.md: the morning script and the bulk closing run as shown, and the units parse."""

from __future__ import annotations

import configparser
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rapport import TaskStatus
from rapport.testing import add_customer, rapport_for_tests

ROOT = Path(__file__).resolve().parents[1]
CRON = ROOT / "docs" / "cron.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", CRON.read_text(), flags=re.DOTALL)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/srv/shop of the docs: a venv whose rapport is this one, rapport.toml, a customer
    with a birthday next week."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "rapport").symlink_to(Path(sys.executable).with_name("rapport"))
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    (tmp_path / "rapport.toml").write_text(f'database = "{url}"\n')
    with rapport_for_tests(url, now=dt.datetime.now(dt.UTC)) as crm:
        birthday = crm.today() + dt.timedelta(days=3)
        add_customer(crm, "C-1", birthday=f"1990-{birthday:%m-%d}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    return tmp_path


def test_the_readme_links_the_cron_page() -> None:
    assert "(docs/cron.md)" in (ROOT / "README.md").read_text()


def test_the_morning_script_plans_and_writes_the_days_lists(shop: Path) -> None:
    [script] = [block for block in blocks("sh") if block.startswith("#!/bin/sh")]
    (shop / "morning.sh").write_text(script.replace("/srv/shop", str(shop)))
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(shop)}  # what cron gives a job
    ran = subprocess.run(
        ["sh", "morning.sh"], cwd=shop, env=environment, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    [csv] = (shop / "lists").glob("*.csv")
    assert "birthday_card" in csv.read_text()
    assert len(list((shop / "lists").glob("*.html"))) == 1


def test_the_crontab_line_calls_the_script_by_its_full_path_and_mails_only_failures() -> None:
    [crontab] = blocks("cron")
    assert crontab.startswith("MAILTO=")
    assert ">>/var/log/rapport/morning.log 2>&1 || tail" in crontab


def test_the_bulk_closing_example_closes_the_days_birthday_cards(shop: Path) -> None:
    [closing] = blocks("python")
    with rapport_for_tests(os.environ["RAPPORT_DATABASE_URL"]) as crm:
        crm.plan(crm.today())
        os.environ["DAY"] = (crm.today() + dt.timedelta(days=7)).isoformat()
        try:
            exec(compile(closing, "docs/cron.md", "exec"), {})
        finally:
            del os.environ["DAY"]
        tasks = crm.find_tasks()
    [card] = [task for task in tasks if task.rule == "birthday_card"]
    assert card.status is TaskStatus.DONE
    assert card.outcome == "Sent"


def test_the_systemd_units_name_the_script_and_a_daily_persistent_timer() -> None:
    service, timer = (configparser.ConfigParser() for _ in range(2))
    service_text, timer_text = blocks("ini")
    service.read_string(service_text)
    timer.read_string(timer_text)
    assert service["Service"]["ExecStart"] == "/srv/shop/rapport-morning.sh"
    assert service["Service"]["Type"] == "oneshot"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_exit_codes_table_matches_the_command_lines_contract() -> None:
    from rapport import cli

    assert "0 ok, 1 failed (the reason on standard error), 2 bad usage" in " ".join(
        (cli.__doc__ or "").split()
    )
    rows: list[Any] = re.findall(r"^\| ([0-9]) \|", CRON.read_text(), flags=re.MULTILINE)
    assert rows == ["0", "1", "2"]
