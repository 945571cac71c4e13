"""Messages and call sheets for outreach tasks: the data a template sees, and rendering.

Words are rendered when they are needed — a preview, an outreach list, an export — from
the templates and the data as they are at that moment; planning stores none. Only a task
marked done keeps its words, as the record of what the customer got. Rendering reads and
never writes.

The template context is built in bulk (one query per kind of fact, never one per task)
and holds plain values only — strings, numbers, dates, lists and dicts — so a template
can never reach a database object. docs/templates.md lists every variable.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import BigInteger, Dialect, select, type_coerce
from sqlalchemy.orm import Session

from rapport._errors import NotFoundError, TemplateError
from rapport.config import Settings
from rapport.dates import LocalDays, age_on, yearly_date
from rapport.models._columns import Money, RawTimestamp
from rapport.models.enums import (
    CaseStatus,
    PromiseStatus,
    PurchaseStatus,
    TaskKind,
)
from rapport.models.tables import (
    Case,
    Customer,
    FamilyMember,
    Interaction,
    Interest,
    OutreachTask,
    Promise,
    Purchase,
)
from rapport.rhythm import Visit, rhythm_of
from rapport.rules import BirthdayCard, OccasionContext, Rule
from rapport.store import TaskWords, chunked
from rapport.templates.render import CallScript, RenderedMessage, Renderer

#: Family birthdays this close are "upcoming" on call sheets and in messages.
UPCOMING_DAYS = 30
#: How far back purchases count for the usual item and days.
RHYTHM_DAYS = 730


class TaskFacts(Protocol):
    """What rendering reads of a task: an ``OutreachTask`` or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def kind(self) -> TaskKind: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def window_end(self) -> dt.date: ...
    @property
    def late(self) -> bool: ...
    @property
    def assigned_to(self) -> str | None: ...
    @property
    def context(self) -> dict[str, Any] | None: ...


#: The task columns rendering reads (loaded without building ORM objects).
TASK_FACT_COLUMNS = (
    OutreachTask.id,
    OutreachTask.customer_id,
    OutreachTask.rule,
    OutreachTask.kind,
    OutreachTask.channel,
    OutreachTask.due_on,
    OutreachTask.window_end,
    OutreachTask.late,
    OutreachTask.assigned_to,
    OutreachTask.context,
)


@dataclass(frozen=True)
class RenderedTask:
    """Everything written for one task: the message (or call script) and talking points."""

    task_id: int
    message: RenderedMessage | None
    call: CallScript | None
    talking_points: tuple[str, ...]


def _next_birthday(
    month: int | None, day: int | None, year: int | None, today: dt.date, feb29: str
) -> dict[str, Any] | None:
    if month is None or day is None:
        return None
    upcoming = yearly_date(month, day, today.year, feb29)  # type: ignore[arg-type]
    if upcoming < today:
        upcoming = yearly_date(month, day, today.year + 1, feb29)  # type: ignore[arg-type]
    return {
        "date": upcoming,
        "days_until": (upcoming - today).days,
        "turns": upcoming.year - year if year is not None else None,
    }


def business_variables(settings: Settings) -> dict[str, Any]:
    """The ``business`` part of the context (the same for every task)."""
    return {"name": settings.business.name, "signature": settings.business.signature}


def task_variables(
    task: TaskFacts,
    customer: dict[str, Any],
    business: dict[str, Any],
    today: dt.date,
    rules: Mapping[str, type[Rule]],
) -> dict[str, Any]:
    """One task's template variables, around its customer's (shared, read-only) facts."""
    return {
        "customer": customer,
        "occasion": occasion_variables(task, rules),
        "business": business,
        "staff": task.assigned_to,
        "today": today,
    }


def typed_context(task: TaskFacts, rules: Mapping[str, type[Rule]]) -> OccasionContext:
    """The task's stored context read through its rule's context model (a rule no longer
    configured keeps it as stored). A context the model rejects names the task."""
    rule = rules.get(task.rule)
    model = rule.context_model if rule is not None else OccasionContext
    try:
        return model.model_validate(task.context or {})
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "context"
        raise TemplateError(
            f"task {task.id} ({task.rule}): its stored context does not fit the rule's "
            f"{model.__name__} ({where}: {problem['msg']}); plan it again after fixing "
            "the rule, or cancel the task"
        ) from None


def occasion_variables(task: TaskFacts, rules: Mapping[str, type[Rule]]) -> dict[str, Any]:
    """The occasion part of the context: the rule's own facts, typed by its context model."""
    return {
        "rule": task.rule,
        "kind": task.kind.value,
        "channel": task.channel,
        "due_on": task.due_on,
        "window_end": task.window_end,
        "late": task.late,
        **typed_context(task, rules).model_dump(),
    }


def customer_facts(
    session: Session, ids: Sequence[int], settings: Settings, today: dt.date, days: LocalDays
) -> dict[int, dict[str, Any]]:
    """The ``customer`` part of the context for many customers, one query per fact.

    ``days`` turns stored instants into the business's days (as the rules count them);
    one ``LocalDays`` kept across batches keeps its offsets cache warm. Purchase times
    are read as the driver hands them over (no datetime built per row): two years of a
    customer's purchases only become days.
    """
    customers: dict[int, dict[str, Any]] = {}
    # Core, not the ORM: these are plain columns, and the ORM's row building costs more
    # than the queries.
    connection = session.connection()
    dialect = connection.dialect
    feb29 = BirthdayCard.configured(settings).settings.feb29
    interests: dict[int, list[Any]] = defaultdict(list)
    family: dict[int, list[dict[str, Any]]] = defaultdict(list)
    visits: dict[int, list[Visit]] = defaultdict(list)
    last_purchase: dict[int, tuple[str | None, dt.date, int, str]] = {}
    cases: dict[int, list[dict[str, Any]]] = defaultdict(list)
    promises: dict[int, list[dict[str, Any]]] = defaultdict(list)
    conversation: dict[int, dict[str, Any]] = {}
    since = dt.datetime.combine(today - dt.timedelta(days=RHYTHM_DAYS), dt.time.min, tzinfo=dt.UTC)
    for batch in chunked(list(ids)):
        for row in connection.execute(
            select(Interest.customer_id, Interest.topic, Interest.category, Interest.note)
            .where(Interest.customer_id.in_(batch))
            .order_by(Interest.id)
        ):
            interests[row.customer_id].append(row)
        for member in connection.execute(
            select(
                FamilyMember.customer_id,
                FamilyMember.name,
                FamilyMember.relation,
                FamilyMember.birth_month,
                FamilyMember.birth_day,
                FamilyMember.birth_year,
                FamilyMember.note,
            )
            .where(FamilyMember.customer_id.in_(batch))
            .order_by(FamilyMember.id)
        ):
            upcoming = _next_birthday(
                member.birth_month, member.birth_day, member.birth_year, today, feb29
            )
            family[member.customer_id].append(
                {
                    "name": member.name,
                    "relation": member.relation.value,
                    "birthday": upcoming["date"] if upcoming else None,
                    "days_until_birthday": upcoming["days_until"] if upcoming else None,
                    "turns": upcoming["turns"] if upcoming else None,
                    "note": member.note,
                }
            )
        purchases = connection.execute(
            select(
                Purchase.customer_id,
                type_coerce(Purchase.occurred_at, RawTimestamp()),
                Purchase.description,
                type_coerce(Purchase.amount, BigInteger()),  # decoded for the last one only
                Purchase.currency,
            )
            .where(
                Purchase.customer_id.in_(batch),
                Purchase.status == PurchaseStatus.COMPLETED,
                Purchase.occurred_at >= since,
            )
            .order_by(Purchase.occurred_at, Purchase.id)
        )
        for customer_id, occurred_at, description, amount, currency in purchases:
            day = days.of(occurred_at)
            visits[customer_id].append(Visit(day, description))
            last_purchase[customer_id] = (description, day, amount, currency)
        for case in connection.execute(
            select(Case.customer_id, Case.summary, Case.opened_at, Case.severity)
            .where(Case.customer_id.in_(batch), Case.status == CaseStatus.OPEN)
            .order_by(Case.opened_at)
        ):
            cases[case.customer_id].append(
                {
                    "summary": case.summary,
                    "opened_on": days.of(case.opened_at),
                    "severity": case.severity.value,
                }
            )
        for promise in connection.execute(
            select(Promise.customer_id, Promise.what, Promise.due_at, Promise.staff)
            .where(Promise.customer_id.in_(batch), Promise.status == PromiseStatus.OPEN)
            .order_by(Promise.due_at)
        ):
            promises[promise.customer_id].append(
                {
                    "what": promise.what,
                    "due_on": days.of(promise.due_at),
                    "staff": promise.staff,
                }
            )
        latest = connection.execute(
            select(
                Interaction.customer_id,
                Interaction.occurred_at,
                Interaction.kind,
                Interaction.direction,
                Interaction.summary,
                Interaction.staff,
            )
            .join(Customer, Customer.id == Interaction.customer_id)
            .where(
                Interaction.customer_id.in_(batch),
                Interaction.occurred_at == Customer.last_interaction_at,
            )
            .order_by(Interaction.id)
        )
        for interaction in latest:
            conversation[interaction.customer_id] = {
                "date": days.of(interaction.occurred_at),
                "kind": interaction.kind.value,
                "direction": interaction.direction.value,
                "summary": interaction.summary,
                "staff": interaction.staff,
            }
        customer_rows = connection.execute(
            select(
                Customer.id,
                Customer.external_id,
                Customer.preferred_name,
                Customer.first_name,
                Customer.last_name,
                Customer.language,
                Customer.email,
                Customer.phone,
                Customer.city,
                Customer.birth_year,
                Customer.birth_month,
                Customer.birth_day,
                Customer.customer_since,
                Customer.purchase_count,
            ).where(Customer.id.in_(batch))
        )
        for customer in customer_rows:
            rhythm = rhythm_of(visits[customer.id])
            age = (
                age_on(customer.birth_year, customer.birth_month, customer.birth_day, today)
                if customer.birth_month and customer.birth_day
                else None
            )
            customers[customer.id] = {
                "id": customer.external_id,
                "name": customer.preferred_name or customer.first_name,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "full_name": " ".join(n for n in (customer.first_name, customer.last_name) if n)
                or None,
                "language": customer.language,
                "email": customer.email,
                "phone": customer.phone,
                "city": customer.city,
                "interests": [i.topic for i in interests[customer.id]],
                "interest_details": [
                    {"topic": i.topic, "category": i.category.value, "note": i.note}
                    for i in interests[customer.id]
                ],
                "family": family[customer.id],
                "upcoming_family_birthdays": [
                    m
                    for m in family[customer.id]
                    if m["days_until_birthday"] is not None
                    and m["days_until_birthday"] <= UPCOMING_DAYS
                ],
                "age": age,
                "since": customer.customer_since,
                "years_as_customer": (
                    age_on(
                        customer.customer_since.year,
                        customer.customer_since.month,
                        customer.customer_since.day,
                        today,
                    )
                    if customer.customer_since
                    else None
                ),
                "usual_item": rhythm.usual_item,
                "usual_weekdays": list(rhythm.usual_weekdays),
                "median_gap_days": rhythm.median_gap_days,
                "purchase_count": customer.purchase_count,
                "last_purchase": _last_purchase(last_purchase.get(customer.id), dialect),
                "open_cases": cases[customer.id],
                "open_promises": promises[customer.id],
                "last_conversation": conversation.get(customer.id),
            }
    return customers


def _last_purchase(
    raw: tuple[str | None, dt.date, int, str] | None, dialect: Dialect
) -> dict[str, Any] | None:
    """The last purchase as templates see it: only the last of a customer's many
    purchases has its stored amount decoded."""
    if raw is None:
        return None
    description, day, scaled, currency = raw
    amount = _MONEY.process_result_value(scaled, dialect)
    return {"description": description, "date": day, "amount": amount, "currency": currency}


_MONEY = Money()


def render_task(
    renderer: Renderer,
    task: TaskFacts,
    variables: Mapping[str, Any],
    language: str | None,
    points_cache: dict[tuple[int, str], tuple[str, ...]] | None = None,
) -> RenderedTask:
    """Write one task's message (or call script) and its talking points.

    ``points_cache`` keeps talking points per customer and language across a customer's
    tasks, when the points template reads only customer facts.
    """

    def points(chosen: str) -> tuple[str, ...]:
        if points_cache is None or not renderer.points_depend_on_customer_only(chosen):
            return tuple(renderer.talking_points(chosen, variables))
        key = (task.customer_id, chosen)
        if key not in points_cache:
            points_cache[key] = tuple(renderer.talking_points(chosen, variables))
        return points_cache[key]

    # A declarative rule may name another template folder than its own.
    folder = str((task.context or {}).get("template") or task.rule)
    if task.kind is TaskKind.CALL:
        _, chosen = renderer.find(folder, "call", language)
        call = renderer.render_call(folder, chosen, variables, points=points(chosen))
        return RenderedTask(task.id, None, call, call.talking_points)
    message = renderer.render_message(folder, task.kind.value, language, variables)
    return RenderedTask(task.id, message, None, points(message.language))


class MessagePreview(BaseModel):
    """One task's message or call script, as a customer (or the caller) would see it."""

    model_config = ConfigDict(frozen=True)

    task_id: int
    language: str
    subject: str | None
    text: str | None
    html: str | None
    greeting: str | None
    reason: str | None
    talking_points: list[str]

    @classmethod
    def from_rendered(cls, rendered: RenderedTask) -> MessagePreview:
        message, call = rendered.message, rendered.call
        language = message.language if message else call.language if call else ""
        return cls(
            task_id=rendered.task_id,
            language=language,
            subject=message.subject if message else None,
            text=message.text if message else None,
            html=message.html if message else None,
            greeting=call.greeting if call else None,
            reason=call.reason if call else None,
            talking_points=list(rendered.talking_points),
        )


def words_of(rendered: RenderedTask) -> TaskWords:
    """A rendered task as its columns keep it (what :meth:`Store.record_task_words`
    stores when the task is done, and what an outreach list shows)."""
    message, call = rendered.message, rendered.call
    return TaskWords(
        subject=message.subject if message else None,
        body=message.text if message else None,
        body_html=message.html if message else None,
        call_script={
            "language": call.language,
            "greeting": call.greeting,
            "reason": call.reason,
            "talking_points": list(call.talking_points),
        }
        if call
        else None,
        talking_points=tuple(rendered.talking_points),
    )


class TaskRenderer:
    """Renders tasks' words on demand, in the order they are asked for, and writes nothing.

    A list comes in owner and due-day order, not customer order. :meth:`expect` says how
    many tasks each customer has coming, so their facts — and their talking points, which
    usually read only customer facts — are loaded once, kept until their last task, then
    dropped: each customer's facts load once however the list is sorted, and memory stays
    bounded by the customers with tasks still to come. :meth:`load` reads the facts of a
    batch's new customers in bulk (one query per kind of fact).

    ``today`` is the day the words are written for (an outreach list's as-of day).
    """

    def __init__(
        self, session: Session, renderer: Renderer, settings: Settings, today: dt.date
    ) -> None:
        self.session = session
        self.renderer = renderer
        self.settings = settings
        self.today = today
        self._days = LocalDays(zoneinfo.ZoneInfo(settings.business.timezone))
        self._business = business_variables(settings)
        self._customers: dict[int, dict[str, Any]] = {}
        self._points: dict[int, dict[tuple[int, str], tuple[str, ...]]] = {}
        self._coming: Counter[int] = Counter()

    def expect(self, customer_ids: Iterable[int]) -> None:
        """Count tasks still to come per customer (one id per task)."""
        self._coming.update(customer_ids)

    def load(self, tasks: Iterable[TaskFacts]) -> None:
        """Read the facts of the customers of ``tasks`` not loaded yet, in bulk."""
        missing = sorted({task.customer_id for task in tasks} - self._customers.keys())
        if missing:
            self._customers.update(
                customer_facts(self.session, missing, self.settings, self.today, self._days)
            )

    def render(self, task: TaskFacts) -> RenderedTask:
        """One task's words; a template error names the task and is raised, never a blank."""
        if task.customer_id not in self._customers:
            self.load([task])
        customer = self._customers[task.customer_id]
        variables = task_variables(task, customer, self._business, self.today, self.renderer.rules)
        # Reminders are for staff: written in the business language.
        language = None if task.channel is None else customer["language"]
        points = self._points.setdefault(task.customer_id, {})
        try:
            rendered = render_task(self.renderer, task, variables, language, points)
        except TemplateError as error:
            raise TemplateError(
                f"task {task.id} ({task.rule}, {task.kind.value}) for customer "
                f"{customer['id']}: {error}{_file_of(self.renderer, error.template)}",
                template=error.template,
                line=error.line,
            ) from None
        self._done_with(task.customer_id)
        return rendered

    def render_all(self, tasks: Sequence[TaskFacts]) -> list[RenderedTask]:
        """The words of ``tasks``, in their order."""
        self.expect(task.customer_id for task in tasks)
        for batch in chunked(tasks):
            self.load(batch)
        return [self.render(task) for task in tasks]

    def _done_with(self, customer_id: int) -> None:
        self._coming[customer_id] -= 1
        if self._coming[customer_id] <= 0:
            del self._coming[customer_id]
            self._customers.pop(customer_id, None)
            self._points.pop(customer_id, None)


def _file_of(renderer: Renderer, template: str | None) -> str:
    """Where a failing template is on disk (yours or a shipped one), for the error."""
    if template is None or Path(template).is_absolute():
        return ""
    for folder in renderer.search_paths:
        if (Path(folder) / template).is_file():
            return f" (file {(Path(folder) / template).resolve()})"
    return ""


def render_tasks(
    session: Session,
    renderer: Renderer,
    settings: Settings,
    task_ids: Sequence[int],
    *,
    today: dt.date,
) -> list[RenderedTask]:
    """The words of these tasks as they would be written now, in the order given.

    Reads only: nothing is stored (a done task's words are recorded by the caller).
    """
    rows: dict[int, Any] = {}
    for batch in chunked(sorted(set(task_ids))):
        query = select(*TASK_FACT_COLUMNS).where(OutreachTask.id.in_(batch))
        for row in session.connection().execute(query):
            rows[row.id] = row
    missing = [task_id for task_id in task_ids if task_id not in rows]
    if missing:
        raise NotFoundError(f"no outreach task with id {missing[0]}")
    writer = TaskRenderer(session, renderer, settings, today)
    return writer.render_all([rows[task_id] for task_id in task_ids])
