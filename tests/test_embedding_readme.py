"""The README's second command works in a fresh shell, and CI runs both commands verbatim."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [block.strip() for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)]


def test_the_second_command_needs_no_active_virtualenv_and_no_new_system_pip() -> None:
    second = readme_commands()[1]
    # A bare `pip` is the system's (too old for --group) or none at all in a fresh shell.
    assert not re.search(r"(^|&&\s*)pip\b", second), second
    assert second == "scripts/dev-setup && scripts/test"


def test_dev_setup_makes_its_own_venv_with_a_current_pip_before_using_groups() -> None:
    script = (ROOT / "scripts" / "dev-setup").read_text()
    upgrade = script.index("-m pip install --quiet --upgrade pip")
    assert script.index("--group test") > upgrade
    assert '-m venv "$VENV"' in script


def test_ci_runs_the_readmes_two_commands_as_the_readme_shows_them() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "run_readme_command 0" in ci
    assert "run_readme_command 1" in ci
    [extractor] = re.findall(r"<<'PY'\n(.*?)^PY$", ci, re.S | re.M)
    for index, command in enumerate(readme_commands()[:2]):
        shown = subprocess.run(
            ["python3", "-", str(index)],
            input=extractor,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert shown.stdout.strip() == command
    # CI installs nothing by itself: what it tests is what the README says.
    assert "pip install" not in ci
