"""Settings: ``rapport.toml`` read into pydantic models.

Every key is optional. Unknown keys and bad values are errors that name the key path
(``rules.birthday_card.lead_dayz: unknown key``), found when the file is loaded rather
than when a rule first runs.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import warnings
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import holidays
import pydantic
from dateutil.rrule import rrulestr
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from rapport._errors import ConfigError
from rapport.models.enums import Channel, TaskKind
from rapport.models.values import Amount, CurrencyCode, LanguageTag, TimeZoneName

CONFIG_FILE_NAME = "rapport.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessSettings(_Section):
    """Who is reaching out: name and signature for messages, and where the business is."""

    name: str = "Our shop"
    timezone: TimeZoneName = "UTC"
    country: str | None = None
    currency: CurrencyCode = "EUR"
    language: LanguageTag = "en"
    signature: str | None = None

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(
                f"no public holiday calendar for country {value!r}; "
                "use an ISO 3166 two-letter code such as 'FI'"
            )
        return code


class PlannerSettings(_Section):
    """How far ahead to plan, how far back to catch up, and when messages go out."""

    horizon_days: Annotated[int, Field(ge=0, le=366)] = 7
    catch_up_days: Annotated[int, Field(ge=0, le=3660)] = 30
    send_hour: Annotated[int, Field(ge=0, le=23)] = 9
    #: Deprecated, no effect: planning stores no words any more (messages are rendered
    #: when they are listed, previewed or exported, and recorded when a task is done).
    #: Still accepted so existing rapport.toml files load; setting it warns.
    render_messages: bool = True
    # Nurturing rules that create nothing for a customer while a complaint is open.
    suppress_during_open_case: list[str] = ["check_in_call", "rhythm_break", "surprise"]

    @model_validator(mode="after")
    def _render_messages_is_deprecated(self) -> PlannerSettings:
        if "render_messages" in self.model_fields_set:
            warnings.warn(
                "planner.render_messages has no effect: messages are rendered when a task "
                "is listed, previewed or exported; remove it from rapport.toml",
                DeprecationWarning,
                stacklevel=2,
            )
        return self


class OutreachSettings(_Section):
    """How outreach lists are exported: when calls go in the calendar, and for how long."""

    call_hour: Annotated[int, Field(ge=0, le=23)] = 10
    call_minutes: Annotated[int, Field(ge=5, le=240)] = 15


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: The weekdays in ``datetime.date.weekday()`` order.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The kinds of task a ``per_day`` limit may name (reminders are staff's own notes).
CAPACITY_KINDS = tuple(kind.value for kind in TaskKind)


class StaffMember(_Section):
    """A ``[[staff]]`` entry: one person who carries out tasks, and how many a day.

    ``name`` matches customers' ``owner``. ``per_day`` limits the tasks of a kind due on
    one of their working days; kinds it does not list are unlimited. ``days`` are the
    weekdays they work (default: Monday to Friday); public holidays of the business's
    country and the dates in ``off`` are days off too.
    """

    name: Annotated[str, Field(min_length=1, max_length=200)]
    languages: list[LanguageTag] = []
    per_day: dict[str, Annotated[int, Field(ge=0, le=100_000)]] = {}
    days: Annotated[list[Weekday], Field(min_length=1)] = ["mon", "tue", "wed", "thu", "fri"]
    off: list[dt.date] = []

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("has spaces at its start or end")
        return value

    @field_validator("per_day")
    @classmethod
    def _known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        for kind in value:
            if kind not in CAPACITY_KINDS:
                raise ValueError(
                    f"unknown task kind {kind!r}; use one of {', '.join(CAPACITY_KINDS)}"
                )
        return value

    @field_validator("days")
    @classmethod
    def _no_repeated_days(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value):
            raise ValueError("lists a day more than once")
        return value


class CapsSettings(_Section):
    """At most ``max_touches`` outbound tasks per customer in any ``per_days`` days."""

    max_touches: Annotated[int, Field(ge=1)] = 2
    per_days: Annotated[int, Field(ge=1, le=366)] = 7


class ConsentDefaults(_Section):
    """What an unknown (never asked) consent means, per channel."""

    mail: bool = True
    phone: bool = True
    email: bool = False
    sms: bool = False

    def allows_unknown(self, channel: Channel) -> bool:
        return channel in self.unknown_allowed

    @cached_property
    def unknown_allowed(self) -> frozenset[Channel]:
        """The channels an unknown consent allows (asked for every occasion of a plan)."""
        return frozenset(channel for channel in Channel if getattr(self, channel.value))


class RuleSettings(_Section):
    """Settings every rule has; a rule's own settings model extends this."""

    enabled: bool = True
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.MAIL, Channel.EMAIL]
    priority: Annotated[int, Field(ge=0, le=1000)] = 50

    @field_validator("channels")
    @classmethod
    def _no_repeats(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("lists a channel more than once")
        return value


_Rs = TypeVar("_Rs", bound=RuleSettings)


class RulesSettings(BaseModel):
    """``[rules.<name>]`` sections as written. Each rule reads its own with the settings
    model that lives with the rule (:meth:`of`); :func:`parse_settings` checks the
    sections of the rules rapport ships, and a section for a rule nobody registered is
    an error when the planner is built.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    _read: dict[str, RuleSettings] = PrivateAttr(default_factory=dict)

    def of(self, name: str, model: type[_Rs]) -> _Rs:
        """Rule ``name``'s section read with its ``model`` (the defaults when absent)."""
        found = self._read.get(name)
        if isinstance(found, model):
            return found
        raw = (self.model_extra or {}).get(name)
        if isinstance(raw, model):
            read = raw
        else:
            try:
                read = model.model_validate({} if raw is None else raw)
            except pydantic.ValidationError as error:
                raise ConfigError("; ".join(describe(error, f"rules.{name}"))) from None
        self._read[name] = read
        return read

    def names(self) -> list[str]:
        """The rules that have a section."""
        return sorted((self.model_extra or {}).keys())


class CustomTrigger(_Section):
    """When a declarative rule fires: exactly one of a date field, a calendar rule
    (RFC 5545 RRULE), an event, or inactivity."""

    date_field: Literal["birthday", "customer_since"] | None = None
    rrule: str | None = None
    event: Literal["purchase", "interaction"] | None = None
    inactive_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    offset_days: Annotated[int, Field(ge=-365, le=3650)] = 0
    #: Date fields: where 29 February falls in common years (default: the built-in
    #: rule's policy for that date, birthday_card's or anniversary's).
    feb29: Literal["feb28", "mar1"] | None = None
    category: str | None = None  # purchase events
    min_amount: Amount | None = None  # purchase events, business currency
    interaction_kind: str | None = None  # interaction events

    @model_validator(mode="after")
    def _exactly_one(self) -> CustomTrigger:
        given = [
            name
            for name in ("date_field", "rrule", "event", "inactive_days")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of date_field, rrule, event or inactive_days"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.rrule is not None:
            try:
                rrulestr(self.rrule, dtstart=dt.datetime(2000, 1, 1))
            except (ValueError, TypeError) as error:
                raise ValueError(f"rrule {self.rrule!r} is not an RFC 5545 rule: {error}") from None
        return self


class CustomCondition(_Section):
    """Who a declarative rule is for; every given key must hold (compiled to SQL)."""

    tags_any: list[str] = []
    interests_any: list[str] = []
    languages: list[str] = []
    countries: list[str] = []
    owners: list[str] = []
    top_segment: bool = False
    min_spend_365d: Amount | None = None
    min_lifetime_value: Amount | None = None
    min_purchase_count: Annotated[int, Field(ge=0)] | None = None


class CustomAction(_Section):
    """What a declarative rule plans."""

    kind: Literal["card", "note", "gift"] = "card"  # what a letter by mail is
    channels: Annotated[list[Channel], Field(min_length=1)] = [Channel.EMAIL]
    template: str | None = None  # a template folder; default: the rule's name
    priority: Annotated[int, Field(ge=0, le=1000)] = 50
    window_days: Annotated[int, Field(ge=0, le=365)] = 7


class CustomRuleSpec(_Section):
    """A ``[[custom_rules]]`` entry: trigger, condition and action, checked at load time."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    enabled: bool = True
    trigger: CustomTrigger
    condition: CustomCondition = CustomCondition()
    action: CustomAction = CustomAction()


class Settings(BaseModel):
    """All of rapport's settings; every key has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str | None = None
    templates_dir: Path | None = None
    business: BusinessSettings = BusinessSettings()
    planner: PlannerSettings = PlannerSettings()
    caps: CapsSettings = CapsSettings()
    outreach: OutreachSettings = OutreachSettings()
    consent: ConsentDefaults = ConsentDefaults()
    rules: RulesSettings = RulesSettings()
    custom_rules: list[CustomRuleSpec] = []
    staff: list[StaffMember] = []

    @field_validator("staff")
    @classmethod
    def _one_entry_per_person(cls, value: list[StaffMember]) -> list[StaffMember]:
        seen: set[str] = set()
        for member in value:
            if member.name in seen:
                raise ValueError(f"{member.name!r} is listed twice; give each person one entry")
            seen.add(member.name)
        return value


def parse_settings(data: Mapping[str, Any], *, source: str = "settings") -> Settings:
    """Validate settings from a mapping (a parsed TOML file, or a dict in code)."""
    try:
        settings = Settings.model_validate(data)
    except pydantic.ValidationError as error:
        raise ConfigError(f"{source}: " + "; ".join(describe(error))) from None
    from rapport.rules import section_problems  # the rules' own models; they build on this

    if problems := section_problems(settings):
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return settings


def load_settings(path: Path | str | None = None) -> Settings:
    """Read ``path``, or ``rapport.toml`` in the current folder, or use the defaults."""
    if path is None:
        default = Path(CONFIG_FILE_NAME)
        if not default.exists():
            return Settings()
        path = default
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    settings = parse_settings(data, source=str(path))
    # A relative templates folder or SQLite file is relative to the file that names it,
    # so `rapport --config /srv/shop/rapport.toml` works from any folder (cron's is $HOME).
    folder = settings.templates_dir
    if folder is not None and not folder.is_absolute():
        settings = settings.model_copy(update={"templates_dir": path.parent / folder})
    if settings.database is not None:
        database = sqlite_url_relative_to(settings.database, path.parent)
        settings = settings.model_copy(update={"database": database})
    return settings


def sqlite_url_relative_to(url: str, folder: Path) -> str:
    """A ``sqlite:///relative.db`` URL with its file made absolute against ``folder``;
    any other URL as it is."""
    prefix, _, rest = url.partition(":///")
    if not rest or prefix.split("+")[0] != "sqlite":
        return url
    file, query, parameters = rest.partition("?")
    if file in ("", ":memory:") or file.startswith("file:") or Path(file).is_absolute():
        return url
    return f"{prefix}:///{(folder / file).absolute()}{query}{parameters}"


def describe(error: pydantic.ValidationError, prefix: str = "") -> list[str]:
    """``key.path: reason`` for each problem of a settings validation error."""
    lines = []
    for item in error.errors(include_url=False):
        parts = [prefix] if prefix else []
        path = ".".join([*parts, *(str(part) for part in item["loc"])])
        if item["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown key")
        else:
            reason = str(item["msg"]).removeprefix("Value error, ")
            lines.append(f"{path}: {reason} (got {item.get('input')!r})")
    return lines
