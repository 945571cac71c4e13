"""Messages: golden renders of every shipped template, the sandbox, fallbacks, the cache.

Golden files live in tests/golden/<rule>/<kind>.<language>.<sample>.txt. After changing
a template on purpose, regenerate them with ``RAPPORT_UPDATE_GOLDEN=1 scripts/test
tests/test_messages.py`` and read the diff: the golden files are the reviewed text.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rapport import TemplateError
from rapport.templates import SHIPPED_TEMPLATES
from rapport.templates.check import check_templates
from rapport.templates.render import SHIPPED_LANGUAGES, Renderer, language_chain
from rapport.templates.samples import sample_variables

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("RAPPORT_UPDATE_GOLDEN") == "1"

SHIPPED = sorted(
    (path.parent.name, path.name.split(".")[0], path.name.split(".")[1])
    for path in SHIPPED_TEMPLATES.glob("[a-z]*/*.j2")
)


def render_for_golden(renderer: Renderer, rule: str, kind: str, language: str, full: bool) -> str:
    variables = sample_variables(rule, kind, full=full)
    if kind == "call":
        call = renderer.render_call(rule, language, variables)
        points = "\n".join(f"- {point}" for point in call.talking_points)
        return (
            f"== greeting\n{call.greeting}\n== reason\n{call.reason}\n== talking points\n{points}\n"
        )
    message = renderer.render_message(rule, kind, language, variables)
    text = f"== subject\n{message.subject}\n== text\n{message.text}\n"
    if message.html is not None:
        text += f"== html\n{message.html}\n"
    return text


def test_every_rule_and_kind_is_shipped_in_all_six_languages() -> None:
    combinations = {(rule, kind) for rule, kind, _ in SHIPPED}
    assert {(rule, kind, lang) for rule, kind in combinations for lang in SHIPPED_LANGUAGES} == set(
        SHIPPED
    )
    assert {"birthday_card", "thank_you_note", "check_in_call"} <= {r for r, _ in combinations}


@pytest.mark.parametrize("full", [True, False], ids=["rich", "sparse"])
@pytest.mark.parametrize(("rule", "kind", "language"), SHIPPED)
def test_shipped_template_matches_its_golden_render(
    rule: str, kind: str, language: str, full: bool
) -> None:
    rendered = render_for_golden(Renderer(), rule, kind, language, full)
    path = GOLDEN / rule / f"{kind}.{language}.{'rich' if full else 'sparse'}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with RAPPORT_UPDATE_GOLDEN=1 and review"
    assert rendered == path.read_text(encoding="utf-8")


def test_sparse_renders_never_show_placeholders_or_python_values() -> None:
    renderer = Renderer()
    for rule, kind, language in SHIPPED:
        text = render_for_golden(renderer, rule, kind, language, full=False)
        body = text.split("== html")[0].replace("== subject\nNone", "")
        for leak in ("None", "{{", "}}", "[]", "Undefined"):
            assert leak not in body, f"{rule}/{kind}.{language}: {leak!r} in\n{body}"


def test_the_shipped_templates_pass_the_check() -> None:
    results = check_templates(Renderer())
    assert [r for r in results if not r.ok] == []
    assert len(results) == len(SHIPPED)


# ---------------------------------------------------------------------------- locale


def test_money_and_dates_use_the_customers_locale() -> None:
    renderer = Renderer()
    variables = sample_variables("check_in_call", "call", full=True)
    finnish = renderer.render_call("check_in_call", "fi", variables)
    english = renderer.render_call("check_in_call", "en", variables)
    assert "649,90\xa0€" in "\n".join(finnish.talking_points)
    assert "€649.90" in "\n".join(english.talking_points)
    assert "14. elokuuta 2026" in finnish.reason
    assert "August 14, 2026" in english.reason


@pytest.mark.parametrize(
    ("language", "chain"),
    [
        ("pt-BR", ["pt-BR", "pt", "en"]),
        ("sv-FI", ["sv-FI", "sv", "en"]),
        ("en", ["en"]),
        (None, ["en"]),
        ("zh-Hant-TW", ["zh-Hant-TW", "zh-Hant", "zh", "en"]),
    ],
)
def test_language_fallback_chain(language: str | None, chain: list[str]) -> None:
    assert language_chain(language, "en") == chain


def test_a_language_without_templates_falls_back_to_the_business_language() -> None:
    renderer = Renderer(default_language="fi")
    message = renderer.render_message(
        "birthday_card", "email", "pt-BR", sample_variables("birthday_card", "email", full=True)
    )
    assert message.language == "fi"
    assert message.subject == "Hyvää syntymäpäivää, Aino!"


def test_regional_language_uses_its_base_language() -> None:
    message = Renderer().render_message(
        "birthday_card", "email", "sv-FI", sample_variables("birthday_card", "email", full=True)
    )
    assert message.language == "sv"


# ---------------------------------------------------------------------------- user folders


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_user_templates_come_before_the_shipped_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        "birthday_card/email.en.j2",
        "{% block subject %}Cake time!{% endblock %}"
        "{% block text %}Hi {{ customer.name }}{% endblock %}",
    )
    write(
        tmp_path,
        "birthday_card/email.pt.j2",
        "{% block text %}Olá {{ customer.name }}{% endblock %}",
    )
    renderer = Renderer(user_dirs=[tmp_path])
    variables = sample_variables("birthday_card", "email", full=True)
    assert (
        renderer.render_message("birthday_card", "email", "en", variables).subject == "Cake time!"
    )
    brazil = renderer.render_message("birthday_card", "email", "pt-BR", variables)
    assert (brazil.language, brazil.text) == ("pt", "Olá Aino")
    assert renderer.render_message("birthday_card", "card", "en", variables).text.startswith(
        "Dear Aino"
    )


def test_a_template_missing_everywhere_names_the_rule_and_languages() -> None:
    with pytest.raises(TemplateError) as caught:
        Renderer().render_message("car_service", "email", "pt-BR", {})
    message = str(caught.value)
    assert "rule 'car_service'" in message
    assert "pt-BR, pt, en" in message


def test_a_typo_in_a_user_template_fails_the_check_with_name_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "birthday_card/card.en.j2",
        "{% block text %}\nDear {{ customer.name }},\n\nHappy {{ ocasion.age }}!\n{% endblock %}\n",
    )
    results = {r.template: r for r in check_templates(Renderer(user_dirs=[tmp_path]))}
    failure = results["birthday_card/card.en.j2"]
    assert failure.error is not None
    assert "birthday_card/card.en.j2, line 4" in failure.error
    assert "'ocasion' is undefined" in failure.error


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    write(tmp_path, "birthday_card/card.en.j2", "{% block text %}\n{% if %}\n{% endblock %}")
    with pytest.raises(TemplateError, match=r"birthday_card/card\.en\.j2, line 2"):
        Renderer(user_dirs=[tmp_path]).render_message(
            "birthday_card", "card", "en", sample_variables("birthday_card", "card", full=True)
        )


def test_a_template_only_in_some_languages_is_reported_missing_in_the_others(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "car_service/call.en.j2",
        "{% block greeting %}Hi{% endblock %}{% block reason %}Service!{% endblock %}",
    )
    results = {r.template: r for r in check_templates(Renderer(user_dirs=[tmp_path]))}
    assert results["car_service/call.en.j2"].ok
    assert "missing" in (results["car_service/call.fi.j2"].error or "")


# ---------------------------------------------------------------------------- security

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ customer.__class__ }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ '{0.__class__}'.format(customer) }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
]


@pytest.mark.parametrize("attack", ESCAPES)
def test_sandbox_escapes_raise_a_security_error(tmp_path: Path, attack: str) -> None:
    write(tmp_path, "birthday_card/email.en.j2", "{% block text %}" + attack + "{% endblock %}")
    renderer = Renderer(user_dirs=[tmp_path])
    with pytest.raises(TemplateError, match="unsafe") as caught:
        renderer.render_message(
            "birthday_card", "email", "en", sample_variables("birthday_card", "email", full=True)
        )
    assert caught.value.template == "birthday_card/email.en.j2"


def test_customer_data_is_never_evaluated_as_a_template() -> None:
    variables = sample_variables("birthday_card", "email", full=True)
    variables["customer"]["name"] = "{{ 7*7 }}"
    message = Renderer().render_message("birthday_card", "email", "en", variables)
    assert message.text.startswith("Hi {{ 7*7 }},")
    assert "49" not in message.text


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_markup_in_customer_data_is_escaped_in_html_and_kept_in_text() -> None:
    variables = sample_variables("thank_you_note", "email", full=True)
    variables["customer"]["name"] = "<script>alert('hi')</script>"
    message = Renderer().render_message("thank_you_note", "email", "en", variables)
    assert "<script>alert('hi')</script>" in message.text
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    parser = _TextCollector()
    parser.feed(message.html)
    assert "script" not in parser.tags
    assert any("<script>alert('hi')</script>" in chunk for chunk in parser.text)


# ---------------------------------------------------------------------------- the cache


def test_rendering_ten_thousand_tasks_compiles_each_template_once() -> None:
    renderer = Renderer()
    combos = [(r, k, lang) for r, k, lang in SHIPPED]
    samples = {
        (r, k, full): sample_variables(r, k, full=full)
        for r, k, _ in combos
        for full in (True, False)
    }
    renders = 0
    while renders < 10_000:
        for rule, kind, language in combos:
            variables = samples[(rule, kind, renders % 2 == 0)]
            if kind == "call":
                renderer.render_call(rule, language, variables)
            else:
                renderer.render_message(rule, kind, language, variables)
            renders += 1
    used_templates = len(combos) + len(SHIPPED_LANGUAGES) + 1  # + talking points + layout
    assert renderer.compilations == used_templates  # each compiled once, then reused
    assert renderer.lookups >= 10_000
    # Every name is looked up once (found or not), then answered from the cache.
    assert renderer.lookups - renderer.lookup_hits == renderer.names_resolved
    assert renderer.names_resolved <= 2 * len(combos) + len(SHIPPED_LANGUAGES) + 1


def test_day_month_leaves_out_the_year() -> None:
    variables = sample_variables("birthday_card", "email", full=False)
    variables["occasion"]["birthday"] = dt.date(2027, 2, 28)
    message = Renderer().render_message("birthday_card", "email", "fi", variables)
    assert "28. helmikuuta" in message.text
    assert not re.search(r"helmikuuta \d{4}", message.text)


@pytest.mark.parametrize("language", ["en", "fi", "sv", "es", "it", "pl"])
def test_the_weekdays_filter_says_what_mapping_weekday_said(tmp_path: Path, language: str) -> None:
    """``usual_weekdays|weekdays`` (one lookup a list) reads exactly as the slower
    ``map("weekday")|list|and_list`` the shipped talking points used before."""
    write(
        tmp_path,
        f"birthday_card/email.{language}.j2",
        "{% block text %}{{ customer.usual_weekdays|weekdays }}|"
        '{{ customer.usual_weekdays|map("weekday")|list|and_list }}|'
        '{{ customer.usual_weekdays|weekdays("abbreviated") }}{% endblock %}',
    )
    renderer = Renderer(user_dirs=[tmp_path])
    for days in ([], [2], [0, 4], [0, 2, 5, 6]):
        variables = sample_variables("birthday_card", "email", full=True)
        variables["customer"] = {**variables["customer"], "usual_weekdays": days}
        text = renderer.render_message("birthday_card", "email", language, variables).text
        fast, mapped, short = text.split("|")
        assert fast == mapped
        assert len(short) <= len(fast)
