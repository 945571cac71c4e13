"""The daily planner: runs the rules, respects consent and contact caps, catches up on
missed days, and writes one task per occasion.

A day is planned in stages: (a) each enabled rule's new occasions, (b) pooled for the
day, (c) consent and channel chosen in one pass, (d) one contact budget per customer
shared by every rule, highest priority first, then (with ``[[staff]]``) each person's
capacity per day (:mod:`rapport.capacity`), (e) one bulk write per rule.

``plan(as_of)`` is safe to repeat and safe to run twice at once: the database's unique
``occasion_key`` (inserted with ON CONFLICT DO NOTHING) makes each occasion produce at
most one task, whoever inserts it first.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from rapport._errors import ConfigError
from rapport.capacity import (
    ContactBudget,
    Load,
    Placed,
    Roster,
    Wanted,
    assign_service,
    place_with_capacity,
)
from rapport.config import ConsentDefaults, CustomRuleSpec, RuleSettings, Settings
from rapport.consent import cancel_without_consent
from rapport.database import (
    CAPACITY_LOCK,
    PLANNER_LOCK,
    hold_lock,
    plan_each_query,
    plan_page_cache,
)
from rapport.dates import WorkingDays
from rapport.models.enums import (
    OPEN_TASK_STATUSES,
    CaseStatus,
    Channel,
    ConsentState,
    CustomerStatus,
    TaskKind,
    TaskStatus,
)
from rapport.models.tables import Case, Customer, OutreachTask
from rapport.rules import Occasion, PlanContext, Rule, rule_classes
from rapport.rules.base import AlreadyPlanned, PlannedCount
from rapport.store import Store, chunked, stored_rows
from rapport.store.runs import record_run
from rapport.store.tasks import expire_tasks, insert_tasks, planned_keys, read_load, sticky_people
from rapport.store.waiting import Backlog, Waiting

#: Above this many customers, reconciling looks at every open task instead of listing
#: the customers (a list that long would pass SQLite's limit on parameters).
RECONCILE_IDS = 5_000
#: Tasks that stand for a contact made or still to make; they count against the caps.
COUNTED_STATUSES = (*OPEN_TASK_STATUSES, TaskStatus.DONE)


class NewTask(NamedTuple):
    """One task row the planner writes, in the order of its columns (the others —
    words, outcome, snooze — start empty)."""

    customer_id: int
    rule: str
    kind: TaskKind
    channel: str | None
    occasion_key: str
    due_on: dt.date
    window_end: dt.date
    priority: int
    status: TaskStatus
    late: bool
    assigned_to: str | None
    send_at: dt.datetime | None
    context: dict[str, Any]
    anchor_at: dt.datetime | None
    service: bool
    created_at: dt.datetime
    reason: str | None


# ------------------------------------------------------------------------- pure logic


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``count``: the customers whose id falls in it.

    The id is stable for a customer's life, so a customer always belongs to the same
    shard, and all of a customer's tasks are planned (and capped) by the same worker.
    """

    number: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= self.count:
            raise ConfigError(
                f"shard {self.number}/{self.count}: the shard number must be between 1 and "
                f"{self.count}"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` -> shard 2 of 4."""
        number, _, count = text.partition("/")
        try:
            parts = int(number), int(count)
        except ValueError:
            raise ConfigError(f"shard {text!r}: write K/N, for example 2/4") from None
        return cls(*parts)

    def holds(self, customer_id: int) -> bool:
        return customer_id % self.count == self.number - 1

    def condition(self, column: Any) -> Any:
        return column % self.count == self.number - 1


@dataclass(frozen=True)
class _OneCustomer:
    """A plan narrowed to one customer (see :meth:`Planner.decide`)."""

    customer_id: int

    def holds(self, customer_id: int) -> bool:
        return customer_id == self.customer_id


@dataclass(frozen=True, slots=True)
class Reachability:
    """What the planner knows about a customer when choosing a channel."""

    status: CustomerStatus
    do_not_contact: bool
    consent: Mapping[Channel, ConsentState]
    has_email: bool
    has_phone: bool
    has_address: bool


def skip_reason(customer: Reachability) -> str | None:
    """Why nobody may contact this customer at all, or None."""
    if customer.status is CustomerStatus.DECEASED:
        return "deceased"
    if customer.status is CustomerStatus.INACTIVE:
        return "inactive"
    if customer.do_not_contact:
        return "do_not_contact"
    return None


def choose_channel(
    customer: Reachability, channels: Sequence[Channel], defaults: ConsentDefaults
) -> tuple[Channel | None, str | None]:
    """The first of ``channels`` the customer allows and can be reached on.

    Returns ``(channel, None)``, or ``(None, reason)``: ``no_consent`` when no listed
    channel is allowed, ``no_contact_details`` when the allowed ones lack an address,
    email or phone number.
    """
    allowed_somewhere = False
    unknown_allowed = defaults.unknown_allowed
    for channel in channels:
        state = customer.consent.get(channel, ConsentState.UNKNOWN)
        allowed = state is ConsentState.GRANTED or (
            state is ConsentState.UNKNOWN and channel in unknown_allowed
        )
        if not allowed:
            continue
        allowed_somewhere = True
        if channel is Channel.MAIL:
            reachable = customer.has_address
        elif channel is Channel.EMAIL:
            reachable = customer.has_email
        else:  # SMS and phone both need a number
            reachable = customer.has_phone
        if reachable:
            return channel, None
    return None, ("no_contact_details" if allowed_somewhere else "no_consent")


@dataclass(frozen=True)
class Placement:
    """Where one new task may go: its earliest and latest day, and its priority."""

    key: str
    earliest: dt.date
    latest: dt.date
    priority: int


def place_within_caps(
    taken: Iterable[dt.date],
    wanted: Sequence[Placement],
    *,
    max_touches: int,
    per_days: int,
) -> dict[str, dt.date | None]:
    """Give each wanted task a day so no ``per_days`` window holds over ``max_touches``.

    ``taken`` are the days of one customer's existing tasks. Higher priority goes
    first, at its earliest day when there is room; lower priority moves to the next
    day with room inside its window, and gets ``None`` (capped) when there is none.
    """
    budget = ContactBudget(taken, max_touches=max_touches, per_days=per_days)
    placed: dict[str, dt.date | None] = {}
    for item in sorted(wanted, key=lambda p: (-p.priority, p.earliest, p.key)):
        day = placed[item.key] = budget.first_fit(item.earliest, item.latest)
        if day is not None:
            budget.take(day)
    return placed


@lru_cache(maxsize=4096)  # a plan asks for the same few days and zones again and again
def send_at(day: dt.date, hour: int, timezone: str) -> dt.datetime:
    """``hour`` o'clock local time on ``day`` in ``timezone``, as a UTC instant."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


# ------------------------------------------------------------------------- reports


class RuleReport(BaseModel):
    """What one rule did in one run."""

    model_config = ConfigDict(frozen=True)

    created: int = 0
    already_planned: int = 0
    late: int = 0
    missed: int = 0
    moved_by_caps: int = 0
    #: Due but no room in the staff's days yet (``[[staff]]``); considered again next run.
    waiting: int = 0
    #: Service tasks placed past their person's capacity for the day.
    over_capacity: int = 0
    skipped: dict[str, int] = {}
    duration_seconds: float = 0.0


class PlannedTask(BaseModel):
    """A task the planner creates (or, in a dry run, would create)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    rule: str
    occasion_key: str
    kind: TaskKind
    channel: Channel | None
    due_on: dt.date
    window_end: dt.date
    priority: int
    status: TaskStatus
    late: bool
    assigned_to: str | None
    send_at: dt.datetime | None
    context: dict[str, Any]


class PlanReport(BaseModel):
    """The result of one planner run."""

    model_config = ConfigDict(frozen=True)

    as_of: dt.date
    horizon_days: int
    dry_run: bool
    rules: dict[str, RuleReport]
    expired: int = 0
    cancelled: int = 0
    duration_seconds: float = 0.0
    tasks: list[PlannedTask] = []

    @property
    def created(self) -> int:
        return sum(rule.created for rule in self.rules.values())


# ------------------------------------------------------------------------- the planner


@dataclass(frozen=True)
class DayDecisions:
    """What a plan decided for a day, before writing: per rule, the task rows (planned or
    missed) and the counts; the occasions that wait for staff; and what waited before."""

    ctx: PlanContext
    tallies: Mapping[str, _RuleTally]
    rows: Mapping[str, list[NewTask]]
    waiting: Sequence[Waiting]
    waited: Mapping[str, tuple[Waiting, dt.date]]

    def skipped(self, rule: str) -> Sequence[tuple[Occasion, str]]:
        """Each occasion of ``rule`` that was skipped, and why (a traced plan only)."""
        return self.tallies[rule].skipped_occasions or []


@dataclass
class _RuleTally:
    created: int = 0
    already_planned: int = 0
    missed: int = 0
    moved: int = 0
    waiting: int = 0
    over_capacity: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Each skipped occasion and why: kept only when a plan is explained.
    skipped_occasions: list[tuple[Occasion, str]] | None = None

    def skip(self, occasion: Occasion, reason: str) -> None:
        self.skipped[reason] += 1
        if self.skipped_occasions is not None:
            self.skipped_occasions.append((occasion, reason))


class Planner:
    """Runs the enabled rules for a day and turns their occasions into tasks.

    ``extra_rules`` are a host app's own :class:`Rule` subclasses; their settings come
    from ``[rules.<name>]`` sections. A section for a rule nobody registered is a
    :class:`ConfigError`.
    """

    def __init__(self, settings: Settings, extra_rules: Sequence[type[Rule]] = ()) -> None:
        self.settings = settings
        #: Every known rule by name (see :func:`rapport.rules.rule_classes`).
        self.catalog = rule_classes(settings, extra_rules)
        self.rules = [cls(self._rule_settings(cls)) for cls in self.catalog.values()]
        #: The staff and their capacity (empty without ``[[staff]]``).
        self.roster = Roster(settings.staff, WorkingDays(settings.business.country))

    def _rule_settings(self, cls: type[Rule]) -> RuleSettings:
        spec = getattr(cls, "spec", None)
        if isinstance(spec, CustomRuleSpec):
            return RuleSettings(
                enabled=spec.enabled, channels=spec.action.channels, priority=spec.action.priority
            )
        return self.settings.rules.of(cls.name, cls.settings_model)

    @property
    def enabled_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.settings.enabled]

    def reconcile(
        self, session: Session, now: dt.datetime, customer_ids: Collection[int] | None = None
    ) -> int:
        """Cancel open tasks whose reason went away (refunds, newer contacts) or whose
        customer no longer allows their channel (see :mod:`rapport.consent`)."""
        if customer_ids is not None and len(customer_ids) > RECONCILE_IDS:
            customer_ids = None  # one pass over the open tasks beats a huge IN list
        moot = sum(rule.reconcile(session, now, customer_ids) for rule in self.enabled_rules)
        return moot + cancel_without_consent(session, now, self.settings.consent, customer_ids)

    def plan(
        self,
        session: Session,
        *,
        as_of: dt.date,
        now: dt.datetime,
        horizon_days: int | None = None,
        dry_run: bool = False,
        shard: Shard | None = None,
    ) -> PlanReport:
        """Create the tasks due by ``as_of + horizon_days``; see the module docstring.

        With ``shard`` only the customers of that shard are planned, so N workers can
        plan one day together; shard 1 also does the shared housekeeping (trailing
        spend, reconciling), and each shard expires its own customers' tasks.
        """
        with plan_page_cache(session.connection()):
            return self._plan(
                session,
                as_of=as_of,
                now=now,
                horizon_days=horizon_days,
                dry_run=dry_run,
                shard=shard,
            )

    def _plan(
        self,
        session: Session,
        *,
        as_of: dt.date,
        now: dt.datetime,
        horizon_days: int | None,
        dry_run: bool,
        shard: Shard | None,
    ) -> PlanReport:
        started = time.perf_counter()
        settings = self.settings
        horizon = settings.planner.horizon_days if horizon_days is None else horizon_days
        if horizon < 0:
            raise ConfigError(f"horizon_days: {horizon} is negative")
        ctx = self._context(session, as_of, horizon, None if shard is None else shard.condition)
        expired = cancelled = 0
        if not dry_run:
            self._lock(session, shard)
            if shard is None or shard.number == 1:
                store = Store(
                    session,
                    currency=settings.business.currency,
                    timezone=settings.business.timezone,
                )
                store.ensure_rhythm_zone(now)
                store.refresh_trailing_spend(as_of, now)
                cancelled = self.reconcile(session, now)
            expired = expire_tasks(
                session, as_of, now, shard.condition if shard is not None else None
            )
        session.flush()  # the rules read through the connection (PlanContext.rows)
        day = self._decide(ctx, now, shard, lock_capacity=not dry_run)
        tallies, rows, waiting, waited = day.tallies, day.rows, day.waiting, day.waited
        # (e) one bulk write per rule (its count is the rule's report).
        reports: dict[str, RuleReport] = {}
        planned: list[PlannedTask] = []
        for rule in self.enabled_rules:
            tally = tallies[rule.name]
            rule_rows = rows[rule.name]
            write_started = time.perf_counter()
            if dry_run:
                tally.created = len(rule_rows)
                planned.extend(self._describe(session, rule, rule_rows))
            else:
                tally.created = insert_tasks(session, NewTask._fields, rule_rows)
                tally.already_planned += len(rule_rows) - tally.created
            tally.seconds += time.perf_counter() - write_started
            reports[rule.name] = RuleReport(
                created=tally.created,
                already_planned=tally.already_planned,
                late=sum(1 for row in rule_rows if row.late),
                missed=tally.missed,
                moved_by_caps=tally.moved,
                waiting=tally.waiting,
                over_capacity=tally.over_capacity,
                skipped=dict(sorted(tally.skipped.items())),
                duration_seconds=round(tally.seconds, 4),
            )
        report = PlanReport(
            as_of=as_of,
            horizon_days=horizon,
            dry_run=dry_run,
            rules=reports,
            expired=expired,
            cancelled=cancelled,
            duration_seconds=round(time.perf_counter() - started, 4),
            tasks=planned,
        )
        if not dry_run:
            if waited or waiting:
                Backlog(session, ctx.shard).replace(waited, waiting, as_of)
            record_run(session, as_of, horizon, now, report.model_dump(mode="json"))
        return report

    def decide(
        self, session: Session, *, as_of: dt.date, now: dt.datetime, customer_id: int
    ) -> DayDecisions:
        """What a plan for ``as_of`` would decide for one customer, writing nothing: the
        planner's own steps with the plan narrowed to that customer (as a shard narrows
        it), each skipped occasion's reason kept. :mod:`rapport.explain` words it."""
        horizon = self.settings.planner.horizon_days
        ctx = self._context(session, as_of, horizon, lambda column: column == customer_id)
        with plan_page_cache(session.connection()):
            session.flush()
            return self._decide(ctx, now, _OneCustomer(customer_id), trace=True)

    # ------------------------------------------------------------------ steps

    def _context(
        self,
        session: Session,
        as_of: dt.date,
        horizon: int,
        shard: Callable[[Any], Any] | None,
    ) -> PlanContext:
        """What the rules see of a plan for ``as_of``: occasions due from the catch-up
        limit to the horizon, of the customers ``shard`` selects (None: everyone)."""
        settings = self.settings
        return PlanContext(
            session=session,
            as_of=as_of,
            first_due=as_of - dt.timedelta(days=settings.planner.catch_up_days),
            last_due=as_of + dt.timedelta(days=horizon),
            settings=settings,
            working_days=WorkingDays(settings.business.country),
            shard=shard,
        )

    def _decide(
        self,
        ctx: PlanContext,
        now: dt.datetime,
        shard: Shard | _OneCustomer | None,
        *,
        lock_capacity: bool = False,
        trace: bool = False,
    ) -> DayDecisions:
        """The day's decisions: (a) every enabled rule's new occasions, (b) pooled for
        the whole day, (c) consent and channel, (d) one contact budget per customer
        across rules, and the staff's capacity. Nothing is written.

        With ``lock_capacity`` (a plan that writes) the staff's load is read and filled
        under one lock: one person's days are shared by every shard and planner."""
        tallies: dict[str, _RuleTally] = {}
        pool: list[tuple[Rule, Occasion]] = []
        for rule in self.enabled_rules:
            rule_started = time.perf_counter()
            tally = tallies[rule.name] = _RuleTally(skipped_occasions=[] if trace else None)
            pool.extend((rule, occasion) for occasion in self._fresh(rule, ctx, tally, shard))
            tally.seconds = time.perf_counter() - rule_started
        if lock_capacity and self.roster:
            hold_lock(ctx.session.connection(), CAPACITY_LOCK)
        waited = Backlog(ctx.session, ctx.shard).stored()
        rows, waiting = self._rows_for(pool, ctx, now, tallies, waited)
        rows = self._close_waiting(rows, waited, pool, waiting, ctx, now, tallies)
        return DayDecisions(ctx, tallies, rows, waiting, waited)

    def _lock(self, session: Session, shard: Shard | None) -> None:
        """One planner per shard at a time: the unique key alone already prevents
        duplicates, the lock also keeps two runs from racing on caps and expiry. On
        PostgreSQL each shard has its own lock; SQLite has one writer anyway."""
        hold_lock(session.connection(), PLANNER_LOCK + (shard.number if shard else 0))
        plan_each_query(session.connection())

    def _fresh(
        self, rule: Rule, ctx: PlanContext, tally: _RuleTally, shard: Shard | _OneCustomer | None
    ) -> list[Occasion]:
        """The rule's occasions that have no task yet (those that do are counted)."""
        occasions: dict[str, Occasion] = {}
        found_planned = 0
        for found in rule.occasions(ctx):
            if isinstance(found, PlannedCount):  # counted in SQL, in the shard already
                found_planned += found.count
                continue
            if shard is not None and not shard.holds(found.customer_id):
                continue
            if isinstance(found, AlreadyPlanned):
                found_planned += 1
            else:
                occasions[found.occasion_key] = found
        # Rules that mark their planned occasions in SQL need no key list shipped back;
        # the unique key still settles a race with another planner.
        existing = set() if rule.marks_planned else planned_keys(ctx.session, occasions)
        tally.already_planned = len(existing) + found_planned
        return [occasions[key] for key in sorted(occasions.keys() - existing)]

    def _rows_for(
        self,
        pool: Sequence[tuple[Rule, Occasion]],
        ctx: PlanContext,
        now: dt.datetime,
        tallies: Mapping[str, _RuleTally],
        waited: Mapping[str, tuple[Waiting, dt.date]],
    ) -> tuple[dict[str, list[NewTask]], list[Waiting]]:
        """The day's task rows per rule, after consent, catch-up, the contact budget and
        the staff's capacity; and the occasions that wait for room.

        The budget is one per customer, shared by every rule: all of the day's new
        nurturing occasions of a customer are placed together, highest priority first,
        so a birthday card never loses its day to a lesser note planned by another rule.
        Service and internal tasks are exempt; missed occasions are only recorded (with
        reason ``no_capacity`` when they were waiting for room, keys in ``waited``).
        """
        settings = self.settings
        counted_since = ctx.first_due - dt.timedelta(days=settings.caps.per_days)
        facts = _customer_facts(
            ctx.session,
            {o.customer_id for _, o in pool},
            counted_since,
            value=ctx.history.spend_365d if self.roster else None,
        )
        suppressing = set(settings.planner.suppress_during_open_case)
        suppressed = _with_open_cases(
            ctx.session, {o.customer_id for rule, o in pool if rule.name in suppressing}
        )
        # Customers share a few kinds of consent and details: each kind is judged once
        # per rule's channels (Reachability objects are shared, see _customer_facts).
        judged: dict[tuple[int, int], tuple[Channel | None, str | None]] = {}
        rows: dict[str, list[NewTask]] = {rule.name: [] for rule in self.enabled_rules}
        to_place: dict[int, list[Candidate]] = defaultdict(list)
        service: list[Candidate] = []
        for rule, occasion in pool:
            tally = tallies[rule.name]
            customer = facts[occasion.customer_id]
            channel: Channel | None = None
            if rule.internal:
                reason = None  # a reminder for staff: nobody is contacted
            elif rule.name in suppressing and occasion.customer_id in suppressed:
                reason = "open_case"
            else:
                verdict = judged.get((id(customer.reach), id(rule)))
                if verdict is None:
                    reason = skip_reason(customer.reach)
                    channels = rule.settings.channels
                    verdict = (
                        (None, reason)
                        if reason is not None
                        else choose_channel(customer.reach, channels, settings.consent)
                    )
                    judged[id(customer.reach), id(rule)] = verdict
                channel, reason = verdict
            if reason is not None:
                tally.skip(occasion, reason)
                continue
            if occasion.window_end < ctx.as_of:
                tally.missed += 1
                why = "no_capacity" if occasion.occasion_key in waited else None
                rows[rule.name].append(
                    self._row(rule, occasion, channel, customer, ctx, now, missed=True, reason=why)
                )
            elif rule.service or rule.internal:
                service.append(Candidate(rule, occasion, channel))
            else:
                to_place[occasion.customer_id].append(Candidate(rule, occasion, channel))
        if self.roster:
            return rows, self._staff_rows(rows, service, to_place, facts, ctx, now, tallies)
        for rule, occasion, channel in service:
            rows[rule.name].append(
                self._row(rule, occasion, channel, facts[occasion.customer_id], ctx, now)
            )
        caps = settings.caps
        for customer_id, items in to_place.items():
            customer = facts[customer_id]
            placements = place_within_caps(
                customer.task_days,
                [
                    Placement(o.occasion_key, o.due_on, o.window_end, o.priority)
                    for _, o, _ in items
                ],
                max_touches=caps.max_touches,
                per_days=caps.per_days,
            )
            for rule, occasion, channel in items:
                tally = tallies[rule.name]
                day = placements[occasion.occasion_key]
                if day is None:
                    tally.skip(occasion, "capped")
                    continue
                if day != occasion.due_on:
                    tally.moved += 1
                rows[rule.name].append(
                    self._row(
                        rule,
                        occasion if day == occasion.due_on else replace(occasion, due_on=day),
                        channel,
                        customer,
                        ctx,
                        now,
                        late=occasion.due_on < ctx.as_of,
                    )
                )
        return rows, []

    def _staff_rows(
        self,
        rows: dict[str, list[NewTask]],
        service: Sequence[Candidate],
        to_place: Mapping[int, Sequence[Candidate]],
        facts: Mapping[int, _Customer],
        ctx: PlanContext,
        now: dt.datetime,
        tallies: Mapping[str, _RuleTally],
    ) -> list[Waiting]:
        """Place the day's tasks within the contact budget and the staff's capacity
        (see :mod:`rapport.capacity`); add their rows, return what waits."""
        roster = self.roster
        load = Load(
            roster,
            ctx.as_of,
            ctx.last_due,
            read_load(ctx.session, roster.people, ctx.as_of, ctx.last_due),
        )
        customers = {item.occasion.customer_id for item in service}
        customers.update(to_place)
        # Customers whose owner is on staff have their person; only the others stick.
        unowned = [cid for cid in customers if facts[cid].owner not in roster]
        chosen = sticky_people(ctx.session, unowned, roster.people)

        def wanted(item: Candidate) -> Wanted:
            occasion, customer = item.occasion, facts[item.occasion.customer_id]
            person = next(
                (name for name in (occasion.assigned_to, customer.owner) if name in roster), None
            )
            return Wanted(
                key=occasion.occasion_key,
                customer_id=occasion.customer_id,
                kind=item.kind.value,
                earliest=occasion.due_on,
                latest=occasion.window_end,
                priority=occasion.priority,
                value=customer.value,
                language=customer.language,
                person=person,
            )

        # Service tasks first, on their own day, even past capacity (flagged).
        for item in sorted(service, key=lambda item: wanted(item).rank()):
            rule, occasion, channel = item
            customer = facts[occasion.customer_id]
            late = occasion.due_on < ctx.as_of
            if occasion.assigned_to and occasion.assigned_to not in roster:
                person = occasion.assigned_to  # the promise's own person, off the roster
            else:
                # A late one is today's work: it is due, and counted, today.
                if late:
                    occasion = replace(occasion, due_on=ctx.as_of)
                person, fits = assign_service(wanted(item), occasion.due_on, load, chosen)
                if not fits:
                    tallies[rule.name].over_capacity += 1
            rows[rule.name].append(
                self._row(
                    rule, occasion, channel, customer, ctx, now, late=late, assigned_to=person
                )
            )
        caps = self.settings.caps
        budgets = {
            customer_id: ContactBudget(
                facts[customer_id].task_days, max_touches=caps.max_touches, per_days=caps.per_days
            )
            for customer_id in to_place
        }
        items = {item.occasion.occasion_key: item for group in to_place.values() for item in group}
        demands = {key: wanted(item) for key, item in items.items()}
        outcomes = place_with_capacity(
            list(demands.values()), budgets=budgets, load=load, chosen=chosen
        )
        waiting: list[Waiting] = []
        for key, outcome in outcomes.items():
            rule, occasion, channel = items[key]
            tally = tallies[rule.name]
            customer = facts[occasion.customer_id]
            if isinstance(outcome, Placed):
                # A late occasion placed today has not moved: late ones go in today.
                late_today = occasion.due_on < ctx.as_of == outcome.day
                if outcome.day != occasion.due_on and not late_today:
                    tally.moved += 1
                rows[rule.name].append(
                    self._row(
                        rule,
                        replace(occasion, due_on=outcome.day)
                        if outcome.day != occasion.due_on
                        else occasion,
                        channel,
                        customer,
                        ctx,
                        now,
                        late=occasion.due_on < ctx.as_of,
                        assigned_to=outcome.person,
                    )
                )
            elif outcome == "capped":
                tally.skip(occasion, "capped")
            else:
                tally.waiting += 1
                waiting.append(
                    Waiting(
                        occasion_key=key,
                        customer_id=occasion.customer_id,
                        rule=rule.name,
                        kind=items[key].kind,
                        channel=None if channel is None else channel.value,
                        due_on=occasion.due_on,
                        window_end=occasion.window_end,
                        priority=occasion.priority,
                        assigned_to=demands[key].person or chosen.get(occasion.customer_id),
                        context=occasion.context,
                        anchor_at=occasion.anchor_at,
                    )
                )
        return waiting

    def _close_waiting(
        self,
        rows: dict[str, list[NewTask]],
        waited: Mapping[str, tuple[Waiting, dt.date]],
        pool: Sequence[tuple[Rule, Occasion]],
        waiting: Sequence[Waiting],
        ctx: PlanContext,
        now: dt.datetime,
        tallies: Mapping[str, _RuleTally],
    ) -> dict[str, list[NewTask]]:
        """Record as ``missed`` (``no_capacity``) what waited and that its rule no longer
        offers because the plan no longer looks back that far: its window has closed, or
        its due day is older than the catch-up days (``catch_up_days``).

        What its rule still offers was handled with the day's occasions; what the rule
        dropped while it still looks back that far became moot (a newer contact, a
        refund) and leaves the backlog.
        """
        offered = {occasion.occasion_key for _, occasion in pool}
        offered.update(row.occasion_key for row in waiting)
        for key, (row, _since) in waited.items():
            if key in offered or row.rule not in rows:
                continue
            if row.window_end >= ctx.as_of and row.due_on >= ctx.first_due:
                continue
            tallies[row.rule].missed += 1
            rows[row.rule].append(
                NewTask(
                    customer_id=row.customer_id,
                    rule=row.rule,
                    kind=row.kind,
                    channel=row.channel,
                    occasion_key=key,
                    due_on=row.due_on,
                    window_end=row.window_end,
                    priority=row.priority,
                    status=TaskStatus.MISSED,
                    late=False,
                    assigned_to=row.assigned_to,
                    send_at=None,
                    context=row.context,
                    anchor_at=row.anchor_at,
                    service=False,
                    created_at=now,
                    reason="no_capacity",
                )
            )
        return rows

    def _row(
        self,
        rule: Rule,
        occasion: Occasion,
        channel: Channel | None,
        customer: _Customer,
        ctx: PlanContext,
        now: dt.datetime,
        *,
        missed: bool = False,
        late: bool | None = None,
        assigned_to: str | None = None,
        reason: str | None = None,
    ) -> NewTask:
        is_late = (occasion.due_on < ctx.as_of) if late is None else late
        timed = channel in (Channel.EMAIL, Channel.SMS) and not missed
        return NewTask(
            customer_id=occasion.customer_id,
            rule=rule.name,
            kind=TaskKind.REMINDER if channel is None else rule.kinds[channel],
            channel=None if channel is None else channel.value,
            occasion_key=occasion.occasion_key,
            due_on=occasion.due_on,
            window_end=occasion.window_end,
            priority=occasion.priority,
            status=TaskStatus.MISSED if missed else TaskStatus.PLANNED,
            late=is_late and not missed,
            assigned_to=assigned_to or occasion.assigned_to or customer.owner,
            send_at=send_at(
                max(occasion.due_on, ctx.as_of),
                self.settings.planner.send_hour,
                customer.timezone or self.settings.business.timezone,
            )
            if timed
            else None,
            context=occasion.context,
            anchor_at=occasion.anchor_at,
            service=rule.service or rule.internal,
            created_at=now,
            reason=reason,
        )

    def _describe(self, session: Session, rule: Rule, rows: list[NewTask]) -> list[PlannedTask]:
        external = _external_ids(session, {row.customer_id for row in rows})
        return [
            PlannedTask(
                customer_id=external[row.customer_id],
                rule=rule.name,
                occasion_key=row.occasion_key,
                kind=row.kind,
                channel=Channel(row.channel) if row.channel else None,
                due_on=row.due_on,
                window_end=row.window_end,
                priority=row.priority,
                status=row.status,
                late=row.late,
                assigned_to=row.assigned_to,
                send_at=row.send_at,
                context=row.context,
            )
            for row in rows
        ]


# ------------------------------------------------------------------------- queries


class Candidate(NamedTuple):
    """One of the day's occasions that passed consent, with the channel chosen."""

    rule: Rule
    occasion: Occasion
    channel: Channel | None

    @property
    def kind(self) -> TaskKind:
        """What staff do for it: the rule's kind for the channel, or a reminder."""
        return TaskKind.REMINDER if self.channel is None else self.rule.kinds[self.channel]


@dataclass(slots=True)
class _Customer:
    reach: Reachability
    owner: str | None
    timezone: str | None
    task_days: list[dt.date]
    language: str | None = None
    value: Decimal = Decimal(0)


def _with_open_cases(session: Session, ids: Collection[int]) -> set[int]:
    """The customers among ``ids`` with a complaint still open."""
    found: set[int] = set()
    for batch in chunked(sorted(ids)):
        found.update(
            session.scalars(
                select(Case.customer_id).where(
                    Case.customer_id.in_(batch), Case.status == CaseStatus.OPEN
                )
            )
        )
    return found


def _external_ids(session: Session, ids: Collection[int]) -> dict[int, str]:
    found = stored_rows(session, Customer.id, ids, Customer.external_id)
    return {id_: row.external_id for id_, row in found.items()}


def _customer_facts(
    session: Session, ids: Collection[int], counted_since: dt.date, *, value: Any = None
) -> dict[int, _Customer]:
    """Consent, contact details and recent task days of these customers, in bulk; with
    ``value`` (SQL for their trailing spend) also their language and that value.

    Customers who allow the same channels and have the same kinds of details share one
    :class:`Reachability`, so the planner judges each kind once.
    """
    connection = session.connection()  # plain rows: the ORM's row objects cost more
    details = select(
        Customer.id,
        Customer.status,
        Customer.do_not_contact,
        Customer.consent_email,
        Customer.consent_sms,
        Customer.consent_phone,
        Customer.consent_mail,
        Customer.email.is_not(None) & (Customer.email != ""),
        Customer.phone.is_not(None) & (Customer.phone != ""),
        Customer.address_line1.is_not(None)
        & (Customer.address_line1 != "")
        & (
            (Customer.city.is_not(None) & (Customer.city != ""))
            | (Customer.postal_code.is_not(None) & (Customer.postal_code != ""))
        ),
        Customer.owner,
        Customer.timezone,
        Customer.language,
        Customer.id if value is None else value,
    ).where(Customer.id.in_(bindparam("ids", expanding=True)))
    days = select(OutreachTask.customer_id, OutreachTask.due_on).where(
        OutreachTask.customer_id.in_(bindparam("ids", expanding=True)),
        OutreachTask.status.in_(COUNTED_STATUSES),
        OutreachTask.service.is_(False),
        OutreachTask.due_on >= counted_since,
    )
    kinds: dict[tuple[Any, ...], Reachability] = {}
    facts: dict[int, _Customer] = {}
    for batch in chunked(sorted(ids)):
        for id_, *kind, owner, timezone, language, spend in connection.execute(
            details, {"ids": batch}
        ):
            reach = kinds.get(tuple(kind))
            if reach is None:
                status, no_contact, email, sms, phone, mail, has_email, has_phone, has_address = (
                    kind
                )
                reach = kinds[tuple(kind)] = Reachability(
                    status=status,
                    do_not_contact=bool(no_contact),
                    consent={
                        Channel.EMAIL: email,
                        Channel.SMS: sms,
                        Channel.PHONE: phone,
                        Channel.MAIL: mail,
                    },
                    has_email=bool(has_email),
                    has_phone=bool(has_phone),
                    has_address=bool(has_address),
                )
            facts[id_] = _Customer(
                reach=reach,
                owner=owner,
                timezone=timezone,
                task_days=[],
                language=language,
                value=Decimal(spend or 0) if value is not None else Decimal(0),
            )
        for customer_id, due_on in connection.execute(days, {"ids": batch}):
            facts[customer_id].task_days.append(due_on)
    return facts
