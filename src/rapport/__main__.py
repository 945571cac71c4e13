"""``python -m rapport``: the command line, for when the console script is not on PATH."""

from __future__ import annotations

from rapport.cli import main

main()
