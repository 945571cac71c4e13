"""Messages and call sheets for outreach tasks: the data a template sees, and rendering.

The template context is built in bulk for a batch of tasks (one query per kind of fact,
never one per task) and holds plain values only — strings, numbers, dates, lists and
dicts — so a template can never reach a database object. docs/templates.md lists every
variable.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from rapport._errors import TemplateError
from rapport.config import Settings
from rapport.dates import LocalDays, age_on, yearly_date
from rapport.models.enums import (
    OPEN_TASK_STATUSES,
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
from rapport.store import chunked
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


def message_contexts(
    session: Session, tasks: Sequence[TaskFacts], settings: Settings, today: dt.date
) -> dict[int, dict[str, Any]]:
    """The template variables of each task, keyed by task id, loaded in bulk."""
    customer_ids = sorted({task.customer_id for task in tasks})
    facts = _CustomerFacts.load(session, customer_ids, settings, today)
    business = {"name": settings.business.name, "signature": settings.business.signature}
    contexts = {}
    for task in tasks:
        contexts[task.id] = {
            "customer": facts.customers[task.customer_id],
            "occasion": occasion_variables(task),
            "business": business,
            "staff": task.assigned_to,
            "today": today,
        }
    return contexts


def occasion_variables(task: TaskFacts) -> dict[str, Any]:
    """The occasion part of the context: the rule's own facts, typed for templates."""
    raw = dict(task.context or {})
    occasion: dict[str, Any] = {
        "rule": task.rule,
        "kind": task.kind.value,
        "channel": task.channel,
        "due_on": task.due_on,
        "window_end": task.window_end,
        "late": task.late,
    }
    for key, value in raw.items():
        if (key in {"birthday", "last_contact"} or key.endswith("_on")) and isinstance(value, str):
            occasion[key] = dt.date.fromisoformat(value)
        elif key == "total" and value is not None:
            occasion[key] = Decimal(str(value))
        elif key == "purchases" and isinstance(value, list):
            occasion[key] = [
                {
                    "description": p.get("description"),
                    "category": p.get("category"),
                    "amount": Decimal(str(p["amount"])),
                    "currency": p.get("currency"),
                    "date": dt.date.fromisoformat(p["date"]),
                }
                for p in value
            ]
        elif key not in {"timezone"}:
            occasion[key] = value
    return occasion


class _CustomerFacts:
    """The customer part of the context for many customers, one query per fact."""

    def __init__(self) -> None:
        self.customers: dict[int, dict[str, Any]] = {}

    @classmethod
    def load(
        cls, session: Session, ids: Sequence[int], settings: Settings, today: dt.date
    ) -> _CustomerFacts:
        facts = cls()
        feb29 = settings.rules.birthday_card.feb29
        interests: dict[int, list[Any]] = defaultdict(list)
        family: dict[int, list[dict[str, Any]]] = defaultdict(list)
        visits: dict[int, list[Visit]] = defaultdict(list)
        last_purchase: dict[int, dict[str, Any]] = {}
        cases: dict[int, list[dict[str, Any]]] = defaultdict(list)
        promises: dict[int, list[dict[str, Any]]] = defaultdict(list)
        conversation: dict[int, dict[str, Any]] = {}
        # Days on a call sheet are the business's days, as the rules count them.
        days = LocalDays(zoneinfo.ZoneInfo(settings.business.timezone))
        since = dt.datetime.combine(
            today - dt.timedelta(days=RHYTHM_DAYS), dt.time.min, tzinfo=dt.UTC
        )
        for batch in chunked(list(ids)):
            for row in session.execute(
                select(Interest.customer_id, Interest.topic, Interest.category, Interest.note)
                .where(Interest.customer_id.in_(batch))
                .order_by(Interest.id)
            ):
                interests[row.customer_id].append(row)
            for member in session.execute(
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
            purchases = session.execute(
                select(
                    Purchase.customer_id,
                    Purchase.occurred_at,
                    Purchase.description,
                    Purchase.amount,
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
                last_purchase[customer_id] = {
                    "description": description,
                    "date": day,
                    "amount": amount,
                    "currency": currency,
                }
            for case in session.execute(
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
            for promise in session.execute(
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
            latest = session.execute(
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
            customer_rows = session.execute(
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
                facts.customers[customer.id] = {
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
                    "last_purchase": last_purchase.get(customer.id),
                    "open_cases": cases[customer.id],
                    "open_promises": promises[customer.id],
                    "last_conversation": conversation.get(customer.id),
                }
        return facts


def render_task(
    renderer: Renderer,
    task: TaskFacts,
    variables: Mapping[str, Any],
    language: str | None,
    points_cache: dict[tuple[int, str], tuple[str, ...]] | None = None,
) -> RenderedTask:
    """Write one task's message (or call script) and its talking points.

    ``points_cache`` keeps talking points per customer and language across the tasks of
    a batch, when the points template reads only customer facts.
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


@dataclass(frozen=True)
class RenderOutcome:
    """What a render pass did: tasks written, and the errors of those it could not write."""

    rendered: int
    errors: tuple[str, ...]


def render_tasks(
    session: Session,
    renderer: Renderer,
    settings: Settings,
    *,
    now: dt.datetime,
    today: dt.date,
    task_ids: Collection[int] | None = None,
    only_unrendered: bool = True,
    shard: Any = None,
) -> RenderOutcome:
    """Render open tasks (by default those not rendered yet) and store the results.

    A task whose template fails keeps no message; the error names the template and line,
    and the other tasks are still written.
    """
    stmt = select(OutreachTask.id).where(OutreachTask.status.in_(OPEN_TASK_STATUSES))
    if only_unrendered:
        stmt = stmt.where(OutreachTask.rendered_at.is_(None))
    if task_ids is not None:
        stmt = stmt.where(OutreachTask.id.in_(sorted(task_ids)))
    if shard is not None:
        stmt = stmt.where(shard.condition(OutreachTask.customer_id))
    # Ids first, then each batch's columns: memory stays flat however many tasks wait.
    ids = list(session.scalars(stmt.order_by(OutreachTask.id)))
    rendered = 0
    errors: list[str] = []
    for id_batch in chunked(ids):
        batch: list[Any] = list(
            session.execute(
                select(*TASK_FACT_COLUMNS)
                .where(OutreachTask.id.in_(id_batch))
                .order_by(OutreachTask.id)
            )
        )
        contexts = message_contexts(session, batch, settings, today)
        points_cache: dict[tuple[int, str], tuple[str, ...]] = {}
        updates = []
        for task in batch:
            variables = contexts[task.id]
            # Reminders are for staff: written in the business language.
            language = None if task.channel is None else variables["customer"]["language"]
            try:
                result = render_task(renderer, task, variables, language, points_cache)
            except TemplateError as error:
                errors.append(f"task {task.id} ({task.rule}, {task.kind.value}): {error}")
                continue
            updates.append(_stored(result, now))
            rendered += 1
        if updates:
            session.execute(_STORE_RENDERED, updates)
    session.flush()
    return RenderOutcome(rendered=rendered, errors=tuple(errors))


_TASKS: Table = OutreachTask.__table__  # type: ignore[assignment]
_STORE_RENDERED = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("b_id"))
    .values(
        subject=bindparam("b_subject"),
        body=bindparam("b_body"),
        body_html=bindparam("b_body_html"),
        call_script=bindparam("b_call_script"),
        talking_points=bindparam("b_talking_points"),
        rendered_at=bindparam("b_rendered_at"),
    )
)


def _stored(result: RenderedTask, now: dt.datetime) -> dict[str, Any]:
    """The parameters of ``_STORE_RENDERED`` for one task (one executemany per batch)."""
    message, call = result.message, result.call
    return {
        "b_id": result.task_id,
        "b_subject": message.subject if message else None,
        "b_body": message.text if message else None,
        "b_body_html": message.html if message else None,
        "b_call_script": {
            "language": call.language,
            "greeting": call.greeting,
            "reason": call.reason,
            "talking_points": list(call.talking_points),
        }
        if call
        else None,
        "b_talking_points": list(result.talking_points),
        "b_rendered_at": now,
    }
