"""Every failure a user can cause is one ``error:`` line and exit 1, through the installed
console script; ``--debug`` (or ``RAPPORT_DEBUG=1``) adds the traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import rapport_cli


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 1, and standard error is one ``error:`` line containing ``words``."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def initialised(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert rapport_cli("init", "--db", url).returncode == 0
    return url


def test_a_text_that_is_not_a_url_says_how_to_write_one(tmp_path: Path) -> None:
    result = rapport_cli("plan", "--db", "notaurl", cwd=tmp_path)
    assert_one_error_line(result, "'notaurl' is not a database URL", "sqlite:///")


def test_an_unsupported_database_names_the_supported_ones(tmp_path: Path) -> None:
    result = rapport_cli("plan", "--db", "mysql://x/y", cwd=tmp_path)
    assert_one_error_line(result, "SQLite and PostgreSQL, not mysql")


def test_a_postgresql_server_that_is_down_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://rapport:s3cret@127.0.0.1:{closed_port()}/shop"
    line = assert_one_error_line(
        rapport_cli("plan", "--db", url, cwd=tmp_path),
        "cannot connect to PostgreSQL",
        "check that the server is running",
    )
    assert "s3cret" not in line


def test_a_missing_postgres_extra_says_what_to_install(tmp_path: Path) -> None:
    # A psycopg that cannot be imported, as on a machine without rapport[postgres].
    shim = tmp_path / "shim" / "psycopg"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    result = rapport_cli(
        "plan",
        "--db",
        "postgresql://rapport@127.0.0.1/shop",
        cwd=tmp_path,
        env={"PYTHONPATH": str(shim.parent)},
    )
    assert_one_error_line(result, "pip install 'rapport[postgres]'")


def test_a_sqlite_file_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    result = rapport_cli("init", "--db", "sqlite:////nonexistent/dir/x.db", cwd=tmp_path)
    assert_one_error_line(result, "the folder /nonexistent/dir does not exist")


def test_plan_on_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("shopping list\n")
    result = rapport_cli("plan", "--db", "sqlite:///notes.db", cwd=tmp_path)
    assert_one_error_line(result, "notes.db is not a SQLite database")
    assert (tmp_path / "notes.db").read_text() == "shopping list\n"


def test_an_output_file_in_a_missing_folder_names_that_file(initialised: str) -> None:
    result = rapport_cli("outreach", "--db", initialised, "-o", "/nonexistent/out.csv")
    assert_one_error_line(result, "cannot write /nonexistent/out.csv", "No such file")


def test_a_rejects_file_that_cannot_be_written_is_an_error_line(
    initialised: str, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,birthday\nC-1,1980-02-30\nC-2,1985-06-01\n")
    result = rapport_cli(
        "import",
        "customers",
        str(customers),
        "--db",
        initialised,
        "--skip-invalid",
        "--rejects",
        "/nonexistent/r.csv",
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    assert "/nonexistent/r.csv" in last


def test_debug_shows_the_traceback_before_the_error_line(tmp_path: Path) -> None:
    for args, env in (
        (("--debug", "plan", "--db", "notaurl"), {}),
        (("plan", "--db", "notaurl"), {"RAPPORT_DEBUG": "1"}),
    ):
        result = rapport_cli(*args, cwd=tmp_path, env=env)
        assert result.returncode == 1
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_logging_is_quiet_by_default_and_verbose_with_v(initialised: str, tmp_path: Path) -> None:
    out = tmp_path / "today.csv"
    quiet = rapport_cli("outreach", "--db", initialised, "-o", str(out))
    assert (quiet.returncode, quiet.stderr) == (0, "")
    verbose = rapport_cli("-v", "outreach", "--db", initialised, "-o", str(out))
    assert verbose.returncode == 0, verbose.stderr
    assert f"INFO rapport.cli: 0 tasks written to {out}" in verbose.stderr
