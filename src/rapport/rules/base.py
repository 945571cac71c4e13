"""What a rule is: a source of occasions, selected in SQL and dated by pure functions.

A rule answers one question — *which customers have an occasion due in this window?* —
with a query that runs in the database, and turns each candidate row into an
:class:`Occasion` with plain date logic. Everything else (consent, channels, caps,
catch-up, writing tasks) is the planner's job, so a rule stays small.

A host app writes its own rule by subclassing :class:`Rule`; see docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar, Self, TypeVarTuple

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import ColumnElement, Result, Select, func, select, true
from sqlalchemy.orm import Session

from rapport.config import RuleSettings, Settings
from rapport.dates import WorkingDays
from rapport.models.enums import Channel, TaskKind
from rapport.models.tables import Customer, OutreachTask
from rapport.rules.history import History

_Columns = TypeVarTuple("_Columns")

#: The day ``rapport templates check`` renders its examples for.
SAMPLE_DAY = dt.date(2026, 11, 23)

#: What staff do on each channel unless a rule says otherwise.
DEFAULT_KINDS: Mapping[Channel, TaskKind] = {
    Channel.MAIL: TaskKind.CARD,
    Channel.EMAIL: TaskKind.EMAIL,
    Channel.SMS: TaskKind.SMS,
    Channel.PHONE: TaskKind.CALL,
}


@dataclass(frozen=True, slots=True)
class Occasion:
    """A reason to reach one customer, with the days it makes sense.

    ``occasion_key`` identifies the occasion for ever: the planner creates at most one
    task per key, however often it runs. ``anchor_at`` is the fact the occasion grew from
    (a purchase, the last contact), when a newer fact can make it moot.
    """

    customer_id: int
    occasion_key: str
    due_on: dt.date
    window_end: dt.date
    priority: int
    context: dict[str, Any] = field(default_factory=dict)
    anchor_at: dt.datetime | None = None
    assigned_to: str | None = None  # default: the customer's owner

    def __post_init__(self) -> None:
        if self.window_end < self.due_on:
            raise ValueError(
                f"occasion {self.occasion_key}: window ends {self.window_end} "
                f"before the due day {self.due_on}"
            )


@dataclass(frozen=True, slots=True)
class Absence:
    """Why a rule has no occasion for a customer on a day, for ``rapport explain``.

    ``code`` is stable for programs (``missing_data``, ``not_in_segment``, ``cadence``,
    ...); ``reason`` says it to a person with the numbers that decided it; ``detail``
    holds those numbers as values.
    """

    code: str
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)


def none_to_act_on(
    ctx: PlanContext,
    model: Any,
    customer_id: int,
    acts_on: Collection[Any],
    *,
    code: str,
    noun: str,
    records: str,
) -> Absence | None:
    """Why a rule about a customer's records (complaints, promises) has no occasion: none
    of them is in a status it acts on (how many are in the others is said). None when
    some are: their days are outside the plan's, and there is nothing more to say.
    ``records`` names the detail holding the counts per status (``cases``)."""
    counts: dict[Any, int] = dict(
        ctx.rows(
            select(model.status, func.count())
            .where(model.customer_id == customer_id)
            .group_by(model.status)
        ).all()
    )
    if any(counts.get(status) for status in acts_on):
        return None
    wanted = " or ".join(status.value for status in acts_on)
    others = ", ".join(f"{n} {status.value}" for status, n in sorted(counts.items()))
    return Absence(
        code,
        f"no {wanted} {noun}" + (f" ({others})" if others else ""),
        {records: {str(status.value): n for status, n in counts.items()}},
    )


@dataclass(frozen=True, slots=True)
class AlreadyPlanned:
    """An occasion a rule found already planned, in SQL, and counted without building it.

    Rules with many occasions (birthdays, anniversaries, check-ins) mark in their query
    the rows whose task exists (see :func:`planned`), so a re-run reads those rows but
    creates no objects and looks up no keys for them. The mark must only ever be set for
    an occasion whose key is stored. A rule that says ``marks_planned`` must mark every
    occasion it planned: the planner looks none of its keys up, and only the unique key
    is left to stop a second task.
    """

    customer_id: int


@dataclass(frozen=True, slots=True)
class PlannedCount:
    """How many occasions a rule's query found already planned, counted in SQL without
    reading them back (limited to the plan's shard with :meth:`PlanContext.in_shard`).

    A re-run of a day finds nearly every occasion planned; counting them in the database
    keeps those rows out of Python altogether.
    """

    count: int


def count_planned(ctx: PlanContext, stmt: Select[Any]) -> PlannedCount:
    """The rows of ``stmt`` (a rule's query, narrowed to its planned occasions) counted."""
    count = ctx.rows(select(func.count()).select_from(stmt.subquery())).scalar()
    return PlannedCount(int(count or 0))


def planned(key: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL: a task with this occasion key exists (a column for the rule's query)."""
    return select(OutreachTask.id).where(OutreachTask.occasion_key == key).exists()


def planned_for_anchor(rule: str, anchor: Any) -> ColumnElement[bool]:
    """SQL: ``rule`` planned a task for the customer from this very fact (``anchor``: the
    last contact of a check-in's cycle, the last purchase of a lapse). Rules keyed by
    such a fact's local day mark their planned occasions by the fact itself."""
    return (
        select(OutreachTask.id)
        .where(
            OutreachTask.customer_id == Customer.id,
            OutreachTask.rule == rule,
            OutreachTask.anchor_at == anchor,
        )
        .exists()
    )


@dataclass(frozen=True)
class PlanContext:
    """What a rule needs to find its occasions: the session, the days, the settings.

    Occasions due from ``first_due`` (the catch-up limit) to ``last_due`` (the horizon)
    are wanted; the planner decides which are late or missed.
    """

    session: Session
    as_of: dt.date
    first_due: dt.date
    last_due: dt.date
    settings: Settings
    working_days: WorkingDays
    #: The top segment's spend threshold per share, read once per plan (see segments).
    spend_thresholds: dict[float, Any] = field(default_factory=dict, compare=False)
    #: SQL for "this customer id is in the plan's shard" (None: every customer).
    shard: Callable[[Any], ColumnElement[bool]] | None = None

    def rows(self, stmt: Select[*_Columns]) -> Result[*_Columns]:
        """Run a query of plain columns and return its rows (the database's own rows,
        without the ORM's bookkeeping per row: a rule's query may return thousands).
        The planner flushes the session before the rules run, so nothing is missed."""
        return self.session.connection().execute(stmt)

    def in_shard(self, customer_id: Any) -> ColumnElement[bool]:
        """SQL: the customer (an id column) belongs to the shard being planned."""
        return true() if self.shard is None else self.shard(customer_id)

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.settings.business.timezone)

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The business's calendar day of an instant."""
        return moment.astimezone(self.zone).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        """The first instant of a business calendar day, in UTC."""
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.zone).astimezone(dt.UTC)

    @cached_property
    def history(self) -> History:
        """Purchases, spend and contacts as they stood on ``as_of``: rules read these
        instead of the ``Customer`` rollups, so a plan for an earlier day sees that day.
        Built on first use, after the planner's housekeeping has aged the spend."""
        return History.of(
            self.session,
            as_of=self.as_of,
            cutoff=self.day_start(self.as_of + dt.timedelta(days=1)),
            currency=self.settings.business.currency,
        )


class OccasionContext(BaseModel):
    """What an occasion tells its templates and staff: each rule declares its own fields.

    The planner stores the context with the task as JSON; rendering reads it back through
    the rule's model, so a template sees dates as dates and money as ``Decimal`` because
    the model says so, not because of a key's name. This base keeps any key (rules that
    declare nothing, such as a host app's own, pass their context through as stored).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _undeclared_dates(cls, data: Any) -> Any:
        """For keys no model declares (a host rule's context): ISO dates under
        ``birthday``, ``last_contact`` and keys ending in ``_on`` become dates, and a
        ``total`` becomes a ``Decimal``, as they did before rules declared their contexts.
        Declared fields need no such help."""
        if cls.model_config.get("extra") != "allow" or not isinstance(data, dict):
            return data
        return {key: _undeclared(key, value, cls.model_fields) for key, value in data.items()}


def _undeclared(key: str, value: Any, declared: Mapping[str, Any]) -> Any:
    if key in declared or value is None:
        return value
    if key in {"birthday", "last_contact"} or key.endswith("_on"):
        return _iso_date(value)
    if key == "total":
        return Decimal(str(value))
    return value


def _iso_date(value: Any) -> Any:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


class RuleContext(OccasionContext):
    """The base of a rule's declared context: keys it does not declare are dropped."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Rule(ABC):
    """A source of occasions. Subclass it, set ``name``, and implement :meth:`occasions`.

    Everything about one rule lives with it: ``settings_model`` validates its
    ``[rules.<name>]`` section (it must extend :class:`~rapport.config.RuleSettings`);
    ``label`` names it for staff and :meth:`reason` says in one line why a task is on the
    list; ``context_model`` types the context its occasions carry to templates, and
    :meth:`sample_context` gives the example ``rapport templates check`` renders.
    ``service`` rules (complaints, promises) are never capped. ``internal`` rules make
    reminders for staff: no channel, no consent needed, never sent to the customer.
    ``kinds`` says what staff do on each channel.
    """

    name: ClassVar[str]
    label: ClassVar[str] = ""
    settings_model: ClassVar[type[RuleSettings]] = RuleSettings
    context_model: ClassVar[type[OccasionContext]] = OccasionContext
    service: ClassVar[bool] = False
    internal: ClassVar[bool] = False
    kinds: ClassVar[Mapping[Channel, TaskKind]] = DEFAULT_KINDS
    #: The rule's query recognises the occasions it already planned (it yields
    #: :class:`AlreadyPlanned` for them, see :func:`planned`), so the planner need not
    #: look its keys up. A rule that does not say so gets its keys checked.
    marks_planned: ClassVar[bool] = False

    @classmethod
    def title(cls) -> str:
        """The staff-facing name: ``label``, else the name in words."""
        return cls.label or cls.name.replace("_", " ").capitalize()

    @classmethod
    def reason(cls, context: Any) -> str:
        """One line for staff on why this task is on their list (in English; the message
        itself is in the customer's language). ``context`` is a ``context_model``."""
        return cls.title()

    @classmethod
    def sample_context(cls, full: bool) -> dict[str, Any]:
        """An example context for ``rapport templates check``: rich (``full``) or with
        every optional fact missing."""
        return {}

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings if settings is not None else self.settings_model()

    @classmethod
    def configured(cls, settings: Settings) -> Self:
        """The rule with its ``[rules.<name>]`` section of ``settings`` (or its defaults):
        how one rule reads another's settings (the check-in's top segment, say)."""
        return cls(settings.rules.of(cls.name, cls.settings_model))

    @abstractmethod
    def occasions(self, ctx: PlanContext) -> Iterable[Occasion | AlreadyPlanned | PlannedCount]:
        """The occasions due between ``ctx.first_due`` and ``ctx.last_due``.

        Select candidates with SQL (never every customer), compute dates with plain
        functions. A yearly occasion should be offered for its latest year only, so a
        long outage never floods a customer with old occasions.
        """

    def why_not(self, ctx: PlanContext, customer_id: int) -> Absence | None:
        """Why :meth:`occasions` found nothing for this customer (``ctx`` is a plan
        narrowed to them): the missing fact, or when the next occasion falls. None when
        the rule cannot say more than "nothing due in the plan's days"."""
        return None

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None
    ) -> int:
        """Cancel this rule's open tasks whose reason went away (a refund, a newer contact).

        Called by the planner for everyone, and after writes for the customers written.
        Returns how many tasks were cancelled.
        """
        return 0
