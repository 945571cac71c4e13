"""A message that cannot be written never becomes a blank line: with a user template that
uses an unknown variable, listing and exporting fail (exit 1) naming the template file,
line and task, and leave the previous output file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import rapport_cli
from tests.test_cli_commands import DATA, SETTINGS, write_recent_purchases

BROKEN = "{% block text %}\nDear {{ customer.nmae }},\nthank you.\n{% endblock %}\n"


@pytest.fixture
def config(fresh_url: str, tmp_path: Path) -> Path:
    """Two thank-you notes planned (in Finnish and Swedish), with settings whose user
    templates for those notes misspell a variable on line 2."""
    folder = tmp_path / "my-templates" / "thank_you_note"
    folder.mkdir(parents=True)
    for name in ("note.fi.j2", "note.sv.j2", "email.fi.j2", "email.sv.j2"):
        (folder / name).write_text(BROKEN)
    path = tmp_path / "rapport.toml"
    path.write_text(f'database = "{fresh_url}"\ntemplates_dir = "my-templates"\n' + SETTINGS)
    for args in (
        ("init",),
        ("import", "customers", str(DATA / "customers.csv")),
        ("import", "purchases", str(write_recent_purchases(tmp_path))),
    ):
        result = rapport_cli(*args, "--config", str(path))
        assert result.returncode == 0, result.stderr
    return path


def test_planning_stores_occasions_so_a_broken_template_does_not_stop_it(config: Path) -> None:
    result = rapport_cli("plan", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warning to overlook: the list is what fails
    check = rapport_cli("templates", "check", "--config", str(config))
    assert check.returncode == 1
    assert "FAIL thank_you_note/note.fi.j2: thank_you_note/note.fi.j2, line 2" in check.stderr


@pytest.mark.parametrize("format", ["csv", "json", "html"])
def test_a_list_with_a_broken_template_fails_and_keeps_the_old_file(
    config: Path, tmp_path: Path, format: str
) -> None:
    assert rapport_cli("plan", "--config", str(config)).returncode == 0
    output = tmp_path / f"list.{format}"
    output.write_text("yesterday's list\n")
    result = rapport_cli("outreach", "--config", str(config), "--format", format, "-o", str(output))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # Rich wraps long lines
    assert message.startswith("error: task ")
    assert "(thank_you_note, note) for customer C-" in message
    assert "thank_you_note/note." in message
    assert ".j2, line 2: 'dict object' has no attribute 'nmae'" in message
    assert f"(file {tmp_path / 'my-templates' / 'thank_you_note' / 'note.'}" in message
    assert f"{output} was left as it was" in message
    assert "rapport templates check" in message
    assert "Traceback" not in result.stderr
    assert output.read_text() == "yesterday's list\n"
    assert sorted(p.name for p in tmp_path.glob(".*partial")) == []


def test_a_list_on_standard_output_with_a_broken_template_fails(config: Path) -> None:
    assert rapport_cli("plan", "--config", str(config)).returncode == 0
    result = rapport_cli("outreach", "--config", str(config))
    assert result.returncode == 1
    assert "has no attribute 'nmae'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "nmae" not in result.stdout
