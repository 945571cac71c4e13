"""The code shown in the README runs as shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_readme_quickstart_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [quickstart] = python_blocks(ROOT / "README.md")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(compile(quickstart, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out.split() == ["Aino", "649.9", "['jazz',", "'sailing']"]
    assert (tmp_path / "shop.db").exists()
