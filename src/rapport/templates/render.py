"""The message renderer: sandboxed Jinja2 templates, looked up by rule, kind and language.

Templates are files named ``<rule>/<kind>.<language>.j2`` with ``{% block subject %}``
(when the channel needs one) and ``{% block text %}``; an email's HTML body comes from
``<rule>/<kind>.<language>.html.j2`` when there is one, else from the shared layout
``_layout/email.html.j2`` around the text. Call tasks use ``<rule>/call.<language>.j2``
(blocks ``greeting`` and ``reason``) and ``_call_sheet/points.<language>.j2`` (one talking
point per line).

User folders are searched before the shipped templates. The language falls back along
``pt-BR -> pt -> the business language``. Templates run in Jinja2's sandbox with
``StrictUndefined``: they cannot reach Python internals, and a missing variable is an
error, never a blank in a customer's card. Each template is compiled once and reused.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import jinja2.meta
from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from jinja2.exceptions import SecurityError
from jinja2.runtime import new_context
from jinja2.sandbox import SandboxedEnvironment

from rapport._errors import TemplateError
from rapport.rules import BUILTIN_BY_NAME, Rule
from rapport.templates import SHIPPED_TEMPLATES

#: The languages rapport ships templates for.
SHIPPED_LANGUAGES = ("en", "fi", "es", "pl", "it", "sv")

LAYOUT_HTML = "_layout/email.html.j2"


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready to send or to copy onto a card."""

    language: str
    subject: str | None
    text: str
    html: str | None


@dataclass(frozen=True)
class CallScript:
    """What to say on a call: how to open, why we call, and what to talk about."""

    language: str
    greeting: str
    reason: str
    talking_points: tuple[str, ...]


#: What ``getattr`` finds on a plain dict: a key with one of these names is shadowed by
#: the method in Jinja (``customer.items`` is the method), so only other names take the
#: shortcut below.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _CountingSandbox(SandboxedEnvironment):
    """A sandbox that counts compilations, so tests can prove templates are reused."""

    compilations = 0

    def _compile(self, source: str, filename: str) -> Any:
        self.compilations += 1
        return super()._compile(source, filename)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``customer.name`` on a context dict, without the failed attribute lookup (an
        exception) that Jinja tries first: the same answer, as a dict has no attribute
        of that name, at a third of the cost. Everything else goes through the sandbox's
        checks."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def language_chain(language: str | None, default: str) -> list[str]:
    """``pt-BR`` -> ``["pt-BR", "pt", default]``, without repeats."""
    chain: list[str] = []
    if language:
        parts = language.split("-")
        for end in range(len(parts), 0, -1):
            chain.append("-".join(parts[:end]))
    chain.append(default)
    return list(dict.fromkeys(chain))


@lru_cache(maxsize=256)
def _parse_locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


class _LocaleFormats:
    """Babel formatting for one language, each result computed once.

    Babel's formatting takes tens of microseconds a call, and an outreach list repeats
    the same few dates and amounts in the same few languages. One object per language
    keeps its own answers, so a filter is a dict lookup once warm.
    """

    #: Past this many answers a cache starts over (a bound on memory, rarely reached).
    LIMIT = 65536

    def __init__(self, tag: str) -> None:
        self.locale = _parse_locale(tag)
        self._dates: dict[tuple[dt.date, str], str] = {}
        self._day_months: dict[dt.date, str] = {}
        self._money: dict[tuple[Decimal, str], str] = {}
        self._weekdays: dict[str, Any] = {}
        self._lists: dict[tuple[str, ...], str] = {}
        self._day_lists: dict[tuple[tuple[int, ...], str], str] = {}

    def date(self, value: dt.date, format: str) -> str:
        key = (value, format)
        try:
            return self._dates[key]
        except KeyError:
            text = str(format_date(value, format=format, locale=self.locale))
            return _remember(self._dates, key, text)

    def day_month(self, value: dt.date) -> str:
        try:
            return self._day_months[value]
        except KeyError:
            text = str(format_skeleton("MMMMd", value, locale=self.locale))
            return _remember(self._day_months, value, text)

    def money(self, amount: Decimal, currency: str) -> str:
        key = (amount, currency)
        try:
            return self._money[key]
        except KeyError:
            text = str(format_currency(amount, currency, locale=self.locale))
            return _remember(self._money, key, text)

    def weekday(self, value: int, width: str) -> str:
        try:
            names = self._weekdays[width]
        except KeyError:
            names = self._weekdays[width] = dict(self.locale.days["format"][width])
        return str(names[value])

    def weekdays(self, values: tuple[int, ...], width: str) -> str:
        key = (values, width)
        try:
            return self._day_lists[key]
        except KeyError:
            names = tuple(self.weekday(value, width) for value in values)
            return _remember(self._day_lists, key, self.and_list(names))

    def and_list(self, values: tuple[str, ...]) -> str:
        try:
            return self._lists[values]
        except KeyError:
            return _remember(
                self._lists, values, str(format_list(list(values), locale=self.locale))
            )


_K = TypeVar("_K")


def _remember(cache: dict[_K, str], key: _K, text: str) -> str:
    if len(cache) >= _LocaleFormats.LIMIT:
        cache.clear()
    cache[key] = text
    return text


_FORMATS: dict[str, _LocaleFormats] = {}


def _formats(context: Any) -> _LocaleFormats:
    """The formatters of the template's language (``locale`` in its context)."""
    tag = str(context["locale"])
    try:
        return _FORMATS[tag]
    except KeyError:
        formats = _FORMATS[tag] = _LocaleFormats(tag)
        return formats


@jinja2.pass_context
def _format_date(context: Any, value: dt.date | None, format: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):  # not cached: a timestamp rarely repeats
        return str(format_date(value, format=format, locale=_formats(context).locale))
    return _formats(context).date(value, format)


@jinja2.pass_context
def _day_month(context: Any, value: dt.date | None) -> str:
    """A day and month without the year ("28 February", "28. helmikuuta")."""
    if value is None:
        return ""
    return _formats(context).day_month(value)


@jinja2.pass_context
def _money(context: Any, amount: Decimal | str | int | None, currency: str) -> str:
    if amount is None:
        return ""
    return _formats(context).money(Decimal(str(amount)), currency)


@jinja2.pass_context
def _number(context: Any, value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    return str(format_decimal(value, locale=_formats(context).locale))


@jinja2.pass_context
def _weekday(context: Any, value: int, width: str = "wide") -> str:
    """A weekday number (Monday = 0) as a name in the customer's language."""
    return _formats(context).weekday(value, width)


@jinja2.pass_context
def _weekdays(context: Any, values: Iterable[int], width: str = "wide") -> str:
    """Weekday numbers as ``Monday and Friday`` in the customer's language: one lookup a
    list (``map("weekday")`` went through Jinja's filter machinery for every day)."""
    return _formats(context).weekdays(tuple(values), width)


@jinja2.pass_context
def _and_list(context: Any, values: Iterable[Any]) -> str:
    """``a, b and c`` in the customer's language."""
    return _formats(context).and_list(tuple(str(v) for v in values))


class Renderer:
    """Finds, compiles (once) and renders message templates.

    ``user_dirs`` are searched before the shipped templates; ``default_language`` ends
    every fallback chain.
    """

    def __init__(
        self,
        *,
        user_dirs: Sequence[Path] = (),
        default_language: str = "en",
        rules: Mapping[str, type[Rule]] | None = None,
    ) -> None:
        #: The rules whose tasks this renders, by name: each types its own context.
        self.rules: Mapping[str, type[Rule]] = rules if rules is not None else BUILTIN_BY_NAME
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(d)) for d in user_dirs]
        loaders.append(jinja2.FileSystemLoader(str(SHIPPED_TEMPLATES)))
        self.env = _CountingSandbox(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            auto_reload=False,
            cache_size=-1,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            date=_format_date,
            day_month=_day_month,
            money=_money,
            number=_number,
            weekday=_weekday,
            weekdays=_weekdays,
            and_list=_and_list,
        )
        self.default_language = default_language
        self.search_paths = [*(str(d) for d in user_dirs), str(SHIPPED_TEMPLATES)]
        self._templates: dict[str, jinja2.Template | None] = {}
        self._found: dict[tuple[str, str, str | None], tuple[jinja2.Template, str]] = {}
        self._html: dict[tuple[str, str, str], jinja2.Template | None] = {}
        self._globals: dict[str, dict[str, Any]] = {}
        self._customer_only: dict[str, bool] = {}
        self.lookups = 0
        self.lookup_hits = 0

    @property
    def names_resolved(self) -> int:
        """How many template names were looked up at least once (found or not)."""
        return len(self._templates)

    @property
    def compilations(self) -> int:
        """How many template sources were compiled (each should be compiled once)."""
        return self.env.compilations

    # ------------------------------------------------------------------ lookup

    def _get(self, name: str) -> jinja2.Template | None:
        self.lookups += 1
        if name in self._templates:
            self.lookup_hits += 1
            return self._templates[name]
        try:
            template: jinja2.Template | None = self.env.get_template(name)
        except jinja2.TemplateNotFound:
            template = None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                f"{error.name or name}, line {error.lineno}: {error.message}",
                template=error.name or name,
                line=error.lineno,
            ) from None
        self._templates[name] = template
        return template

    def find(self, rule: str, kind: str, language: str | None) -> tuple[jinja2.Template, str]:
        """The template for a rule and kind in the best available language.

        The answer is kept: a task asks three or four times (message, talking points,
        whether the points read only the customer), and every task of a list asks again.
        """
        key = (rule, kind, language)
        found = self._found.get(key)
        if found is not None:
            self.lookups += 1
            self.lookup_hits += 1
            return found
        tried = language_chain(language, self.default_language)
        for candidate in tried:
            template = self._get(f"{rule}/{kind}.{candidate}.j2")
            if template is not None:
                self._found[key] = (template, candidate)
                return template, candidate
        raise TemplateError(
            f"no {kind!r} template for rule {rule!r} in any of the languages tried "
            f"({', '.join(tried)}); add {rule}/{kind}.{tried[-1]}.j2 to your templates folder",
            template=f"{rule}/{kind}.{tried[-1]}.j2",
        )

    def available(self) -> list[str]:
        """Every template name the loaders can see (user folders and shipped)."""
        return sorted(set(self.env.list_templates(extensions=["j2"])))

    # ------------------------------------------------------------------ rendering

    def render_message(
        self, rule: str, kind: str, language: str | None, variables: Mapping[str, Any]
    ) -> RenderedMessage:
        """Subject (when the template has one), text, and for email an HTML body."""
        template, chosen = self.find(rule, kind, language)
        subject, text = self._blocks(
            template, variables, chosen, ("subject", "text"), optional={"subject"}
        )
        html = None
        if kind == "email":
            layout = self._html_layout(rule, kind, chosen)
            if layout is not None:
                html = self._render(
                    layout, variables, chosen, extra={"subject": subject, "text": text}
                )
        return RenderedMessage(
            language=chosen, subject=_one_line(subject) if subject else None, text=text, html=html
        )

    def render_call(
        self,
        rule: str,
        language: str | None,
        variables: Mapping[str, Any],
        *,
        points: Sequence[str] | None = None,
    ) -> CallScript:
        """The opening, the reason and the talking points of a call.

        ``points`` are talking points already written for this customer and language
        (see :meth:`points_depend_on_customer_only`); without them they are rendered.
        """
        template, chosen = self.find(rule, "call", language)
        if points is None:
            points = self.talking_points(chosen, variables)
        greeting, reason = self._blocks(template, variables, chosen, ("greeting", "reason"))
        return CallScript(
            language=chosen,
            greeting=_one_line(greeting),
            reason=_one_line(reason),
            talking_points=tuple(points),
        )

    def talking_points(self, language: str | None, variables: Mapping[str, Any]) -> list[str]:
        """Talking points alone (for cards and notes, as a memory aid for the writer)."""
        template, chosen = self.find("_call_sheet", "points", language)
        text = self._render(template, variables, chosen)
        return [line.strip() for line in text.splitlines() if line.strip()]

    def points_depend_on_customer_only(self, language: str | None) -> bool:
        """Whether the talking points template reads only the customer, the business and
        today, so one customer's points can be written once for all their tasks."""
        template, _ = self.find("_call_sheet", "points", language)
        name = template.name or ""
        if name not in self._customer_only:
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            used = jinja2.meta.find_undeclared_variables(self.env.parse(source))
            self._customer_only[name] = used <= {"customer", "business", "today", "locale"}
        return self._customer_only[name]

    def _html_layout(self, rule: str, kind: str, language: str) -> jinja2.Template | None:
        """An email's own HTML template, else the shared layout (looked up once)."""
        key = (rule, kind, language)
        if key not in self._html:
            own = self._get(f"{rule}/{kind}.{language}.html.j2")
            self._html[key] = own if own is not None else self._get(LAYOUT_HTML)
        return self._html[key]

    def _context(
        self,
        template: jinja2.Template,
        variables: Mapping[str, Any],
        locale: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """A Jinja context over the template's globals, the variables and ``locale``.

        Built as ``Template.render`` builds it, but with the globals flattened once per
        template: Jinja copies its globals (a ``ChainMap``) into every new context and
        lists their names again otherwise, which costs more than the smaller templates
        take to run.
        """
        name = template.name or ""
        flat = self._globals.get(name)
        if flat is None:
            flat = self._globals[name] = dict(template.globals)
        parent = {**flat, **variables, "locale": locale}
        if extra:
            parent.update(extra)
        return new_context(self.env, template.name, template.blocks, parent, True, flat)

    def _blocks(
        self,
        template: jinja2.Template,
        variables: Mapping[str, Any],
        locale: str,
        blocks: Sequence[str],
        *,
        optional: Collection[str] = (),
    ) -> list[str]:
        """Render several blocks of one template with one shared Jinja context."""
        texts: list[str] = []
        shared: Any = None
        for block in blocks:
            render_block = template.blocks.get(block)
            if render_block is None:
                if block in optional:
                    texts.append("")
                    continue
                raise TemplateError(
                    f"{template.name} has no {{% block {block} %}}", template=template.name
                )
            if shared is None:
                shared = self._context(template, variables, locale)
            texts.append(_tidy(self._guarded(template, partial(_join, render_block, shared))))
        return texts

    def _render(
        self,
        template: jinja2.Template,
        variables: Mapping[str, Any],
        locale: str,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        context = self._context(template, variables, locale, extra)
        return _tidy(self._guarded(template, partial(_join, template.root_render_func, context)))

    def _guarded(self, template: jinja2.Template, render: Callable[[], str]) -> str:
        """Run a render, turning Jinja's errors into a TemplateError with name and line."""
        try:
            try:
                return render()
            except Exception:
                # Rendering a block directly skips Jinja's traceback rewriting; ask for it,
                # so the error points at the template's own line, not generated code.
                self.env.handle_exception()
        except SecurityError as error:
            name, line = self._where(error, template)
            raise TemplateError(
                f"{name}, line {line}: unsafe: {error}", template=name, line=line
            ) from None
        except jinja2.UndefinedError as error:
            name, line = self._where(error, template)
            raise TemplateError(
                f"{name}, line {line}: {error.message}", template=name, line=line
            ) from None
        except jinja2.TemplateError as error:
            name, line = self._where(error, template)
            raise TemplateError(f"{name}, line {line}: {error}", template=name, line=line) from None

    def _where(self, error: BaseException, template: jinja2.Template) -> tuple[str, int | None]:
        """The template file and line an error was raised at (Jinja maps its frames)."""
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename and frame.filename.endswith(".j2")
        ]
        if not frames:
            return template.name or "?", None
        path, line = frames[-1].filename, frames[-1].lineno
        for base in self.search_paths:
            if path.startswith(base + "/"):
                return path[len(base) + 1 :], line
        return path, line


def _join(render_block: Callable[[Any], Iterable[str]], context: Any) -> str:
    return "".join(render_block(context))


_GAPS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Trim each line's end and keep at most one blank line between paragraphs, so a
    template's ``{% if %}`` lines never leave gaps in a customer's message."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _GAPS.sub("\n\n", "\n".join(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())
