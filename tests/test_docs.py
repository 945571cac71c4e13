"""The code shown in the README runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_readme_examples_run_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    quickstart, planning, *_ = python_blocks(ROOT / "README.md")
    monkeypatch.chdir(tmp_path)
    exec(compile(quickstart, "README.md", "exec"), {})
    assert capsys.readouterr().out.split() == ["Aino", "649.9", "['jazz',", "'sailing']"]
    assert (tmp_path / "shop.db").exists()

    exec(compile(planning, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "0 0"  # the example customer has no birthday card or check-in due
    assert "thank_you_note" not in lines[0]
    assert any(" email C-17 " in line for line in lines[1:])  # the thank-you, by email


def test_the_configuration_example_in_the_docs_is_valid() -> None:
    import tomllib

    from rapport import parse_settings

    text = (ROOT / "docs" / "configuration.md").read_text()
    [example] = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    settings = parse_settings(tomllib.loads(example), source="docs/configuration.md")
    assert settings.business.name == "Harbour Books"
    assert [rule.name for rule in settings.custom_rules] == ["mothers_day"]


def test_the_declarative_rules_example_in_the_docs_is_valid() -> None:
    import tomllib

    from rapport import parse_settings

    text = (ROOT / "docs" / "rules.md").read_text()
    examples = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    settings = parse_settings(tomllib.loads(examples[0]), source="docs/rules.md")
    assert len(settings.custom_rules) == 4
