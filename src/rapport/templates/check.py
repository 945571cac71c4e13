"""``rapport templates check``: render every template in every language with sample data.

Each template is rendered twice — for a customer we know a lot about and for one we know
almost nothing about — so a missing variable, a typo or a syntax error is found here, not
in a customer's card. Every (rule, kind) that exists in any language must exist in all
the shipped languages too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapport._errors import TemplateError
from rapport.templates.render import SHIPPED_LANGUAGES, Renderer
from rapport.templates.samples import sample_variables

_NAME = re.compile(r"^(?P<rule>[a-z0-9_]+)/(?P<kind>[a-z]+)\.(?P<lang>[A-Za-z-]+)\.j2$")


@dataclass(frozen=True)
class TemplateCheck:
    """The outcome for one template file."""

    template: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_templates(renderer: Renderer) -> list[TemplateCheck]:
    """Render every message and call template the renderer can see, in both sample shapes."""
    results: list[TemplateCheck] = []
    combinations: set[tuple[str, str]] = set()
    for name in renderer.available():
        match = _NAME.match(name)
        if match is None:
            continue
        rule, kind, language = match["rule"], match["kind"], match["lang"]
        if rule.startswith("_"):
            continue
        combinations.add((rule, kind))
        results.append(TemplateCheck(name, _render_both(renderer, rule, kind, language)))
    # Talking points (_call_sheet/points.*) are rendered with every call template above.
    for language in SHIPPED_LANGUAGES:
        for rule, kind in sorted(combinations):
            name = f"{rule}/{kind}.{language}.j2"
            if name not in {r.template for r in results}:
                results.append(
                    TemplateCheck(name, f"missing: {rule}/{kind} exists in another language")
                )
    return sorted(results, key=lambda r: r.template)


def _render_both(renderer: Renderer, rule: str, kind: str, language: str) -> str | None:
    for full in (True, False):
        variables = sample_variables(rule, kind, full=full, rules=renderer.rules)
        shape = "rich sample" if full else "sparse sample"
        try:
            if kind == "call":
                call = renderer.render_call(rule, language, variables)
                chosen = call.language
            else:
                message = renderer.render_message(rule, kind, language, variables)
                chosen = message.language
                if kind == "email" and not message.subject:
                    return f"an email needs a subject ({shape})"
                if not message.text:
                    return f"renders an empty message ({shape})"
        except TemplateError as error:
            return f"{error} ({shape})"
        if chosen != language:
            return f"resolved to language {chosen!r} instead of {language!r}"
    return None
