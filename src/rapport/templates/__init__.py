"""Message templates: the shipped ``.j2`` files live in ``shipped/``, one folder per rule."""

from __future__ import annotations

from pathlib import Path

#: Where the templates shipped with rapport live; user folders are searched before it.
SHIPPED_TEMPLATES = Path(__file__).with_name("shipped")
