"""The wheel carries everything rapport needs at run time: migrations, templates, py.typed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_contains_migrations_templates_and_type_marker(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("rapport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rapport/py.typed" in names
    assert "rapport/migrations/env.py" in names
    assert "rapport/migrations/script.py.mako" in names
    assert any(n.startswith("rapport/migrations/versions/0001_") for n in names)
    assert "rapport/templates/__init__.py" in names
    assert any(n.startswith("rapport/templates/shipped/") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "rapport = rapport.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
