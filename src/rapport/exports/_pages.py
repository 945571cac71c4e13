"""The Jinja2 environment every HTML page of rapport's is written with (the call sheet,
the report, the staff's load): autoescaped, strict about undefined names."""

from __future__ import annotations

import jinja2


def page_environment() -> jinja2.Environment:
    """A new environment over the templates beside this module (each page adds its own
    globals to its own)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rapport.exports", "."),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
