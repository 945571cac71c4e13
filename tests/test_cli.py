"""The installed ``rapport`` console script, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rapport import create_engine
from rapport.database import head_revision
from rapport.models import Customer, Purchase


def rapport_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("rapport")
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    environment = {k: v for k, v in os.environ.items() if k != "RAPPORT_DATABASE_URL"}
    environment.update({"COLUMNS": "120", **(env or {})})
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=300,
        check=False,
    )


def count(url: str, model: type[Customer] | type[Purchase]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def test_init_creates_the_tables(fresh_url: str) -> None:
    result = rapport_cli("init", "--db", fresh_url)
    assert result.returncode == 0, result.stderr
    assert f"rapport tables are at migration {head_revision()}" in result.stdout
    assert count(fresh_url, Customer) == 0


def test_init_defaults_to_rapport_db_in_the_current_folder(tmp_path: Path) -> None:
    result = rapport_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rapport.db").exists()


def test_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    result = rapport_cli("init", cwd=tmp_path, env={"RAPPORT_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "rapport.db").exists()


def test_demo_builds_a_database_plans_and_writes_the_call_sheet(fresh_url: str) -> None:
    result = rapport_cli("demo", "--db", fresh_url, "--customers", "60", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "60 customers" in result.stdout
    assert "plan for " in result.stdout
    assert "Outreach due by" in result.stdout
    sheet = Path(result.stdout.split("Call sheet: ")[1].split()[0])
    assert sheet.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert count(fresh_url, Customer) == 60
    assert count(fresh_url, Purchase) > 60

    shown = rapport_cli("customer", "show", "DEMO-00001", "--db", fresh_url, "--json")
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)
    assert profile["external_id"] == "DEMO-00001"
    assert profile["language"] == "en"


def test_demo_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        result = rapport_cli("demo", "--db", url, "--customers", "40", "--seed", "11")
        assert result.returncode == 0, result.stderr
        folder = str(Path(result.stdout.split("Call sheet: ")[1].split()[0]).parent)
        stable = [
            line
            for line in result.stdout.replace(url, "URL").replace(folder, "DEMO").splitlines()
            if not line.startswith("expired ")  # timing
        ]
        outputs.append(stable)
    assert outputs[0] == outputs[1]


def test_unknown_customer_fails_with_exit_1_and_a_message(fresh_url: str) -> None:
    assert rapport_cli("init", "--db", fresh_url).returncode == 0
    result = rapport_cli("customer", "show", "NOPE", "--db", fresh_url)
    assert result.returncode == 1
    assert "error: no customer with external_id 'NOPE'" in result.stderr


def test_an_unmigrated_database_fails_with_advice(tmp_path: Path) -> None:
    result = rapport_cli("customer", "show", "C-1", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 1
    assert "rapport init" in result.stderr


@pytest.mark.parametrize("args", [["no-such-command"], ["demo", "--customers", "zero"]])
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert rapport_cli(*args).returncode == 2
