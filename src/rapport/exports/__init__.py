"""Outreach lists: the tasks due, as rows, written as CSV, JSON, a printable HTML call
sheet, or an ICS calendar of calls.

Rows are read in owner and due-day order and streamed to the writer, so a long list
needs little memory. Tasks not yet written (no message) are rendered first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import Settings
from rapport.messages import render_tasks
from rapport.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from rapport.models.tables import Customer, OutreachTask
from rapport.templates.render import Renderer

#: The CSV columns, in order (SPEC section 7). JSON objects have the same keys.
CSV_COLUMNS = (
    "task_id",
    "due_on",
    "late",
    "kind",
    "channel",
    "rule",
    "priority",
    "customer_id",
    "customer_name",
    "language",
    "email",
    "phone",
    "address",
    "subject",
    "message",
    "talking_points",
    "owner",
    "status",
)
RULE_LABELS = {
    "birthday_card": "Birthday card",
    "thank_you_note": "Thank-you note",
    "check_in_call": "Check-in call",
    "welcome": "Welcome",
    "aftercare": "Aftercare",
    "anniversary": "Anniversary",
    "family_birthday": "Family birthday",
    "rhythm_break": "We miss you",
    "surprise": "Surprise gift",
    "promise_reminder": "Promise due soon",
    "promise_delay_notice": "Promise late: tell the customer",
    "case_acknowledge": "New complaint: acknowledge",
    "case_follow_up": "Open complaint: follow up",
    "case_survey": "Complaint resolved: survey",
}


class OutreachRow(BaseModel):
    """One task on an outreach list, with what staff need to act on it."""

    model_config = ConfigDict(frozen=True)

    task_id: int
    due_on: dt.date
    late: bool
    kind: TaskKind
    channel: str | None
    rule: str
    priority: int
    customer_id: str
    customer_name: str
    language: str | None
    email: str | None
    phone: str | None
    address: str | None
    subject: str | None
    message: str | None
    talking_points: list[str]
    owner: str | None
    status: TaskStatus
    # Beyond the CSV columns: for the call sheet and the calendar.
    occasion_key: str
    window_end: dt.date
    reason: str
    greeting: str | None
    address_lines: list[str]

    def csv_values(self) -> dict[str, Any]:
        return {column: getattr(self, column) for column in CSV_COLUMNS}


def outreach_rows(
    session: Session,
    *,
    settings: Settings,
    renderer: Renderer,
    now: dt.datetime,
    due_by: dt.date,
    kinds: Collection[TaskKind] = (),
    owner: str | None = None,
    rules: Collection[str] = (),
    statuses: Collection[TaskStatus] = OPEN_TASK_STATUSES,
) -> Iterator[OutreachRow]:
    """The tasks due on or before ``due_by`` (late ones included), by owner and due day."""
    conditions: list[Any] = [OutreachTask.due_on <= due_by, OutreachTask.status.in_(statuses)]
    if kinds:
        conditions.append(OutreachTask.kind.in_(list(kinds)))
    if owner is not None:
        conditions.append(OutreachTask.assigned_to == owner)
    if rules:
        conditions.append(OutreachTask.rule.in_(list(rules)))
    if set(statuses) & set(OPEN_TASK_STATUSES):
        pending = set(
            session.scalars(
                select(OutreachTask.id).where(*conditions, OutreachTask.rendered_at.is_(None))
            )
        )
        if pending:
            render_tasks(session, renderer, settings, now=now, today=due_by, task_ids=pending)
    stmt = (
        select(OutreachTask, Customer)
        .join(Customer, Customer.id == OutreachTask.customer_id)
        .where(*conditions)
        .order_by(
            OutreachTask.assigned_to,
            OutreachTask.due_on,
            OutreachTask.priority.desc(),
            OutreachTask.id,
        )
        .execution_options(yield_per=500)
    )
    for task, customer in session.execute(stmt):
        yield _row(task, customer)


def _row(task: OutreachTask, customer: Customer) -> OutreachRow:
    script = task.call_script or {}
    lines = [
        line
        for line in (
            customer.address_line1,
            customer.address_line2,
            " ".join(p for p in (customer.postal_code, customer.city) if p) or None,
            customer.country,
        )
        if line
    ]
    name = " ".join(n for n in (customer.first_name, customer.last_name) if n)
    message: str | None = task.body
    if task.kind is TaskKind.CALL and script:
        message = f"{script.get('greeting', '')} {script.get('reason', '')}".strip()
    return OutreachRow(
        task_id=task.id,
        due_on=task.due_on,
        late=task.late,
        kind=task.kind,
        channel=task.channel,
        rule=task.rule,
        priority=task.priority,
        customer_id=customer.external_id,
        customer_name=name or customer.preferred_name or customer.external_id,
        language=customer.language,
        email=customer.email,
        phone=customer.phone,
        address=", ".join(lines) or None,
        subject=task.subject,
        message=message,
        talking_points=list(task.talking_points or script.get("talking_points") or []),
        owner=task.assigned_to,
        status=task.status,
        occasion_key=task.occasion_key,
        window_end=task.window_end,
        reason=occasion_reason(task),
        greeting=script.get("greeting"),
        address_lines=lines,
    )


def occasion_reason(task: OutreachTask) -> str:
    """A one-line reason for staff (in English; the message itself is in the customer's
    language)."""
    context = task.context or {}
    label = RULE_LABELS.get(task.rule, task.rule.replace("_", " ").capitalize())
    if task.rule == "birthday_card" and context.get("birthday"):
        day = dt.date.fromisoformat(context["birthday"])
        age = f", turns {context['age']}" if context.get("age") else ""
        return f"{label}: birthday {day.strftime('%d %b')}{age}"
    if task.rule == "thank_you_note" and context.get("purchases"):
        items = [
            f"{p.get('description') or 'purchase'} ({p['amount']} {p.get('currency', '')})".strip()
            for p in context["purchases"]
        ]
        return f"{label}: " + "; ".join(items)
    if task.rule == "check_in_call":
        last = context.get("last_contact")
        return f"{label}: last contact {last}" if last else f"{label}: no contact on record"
    if task.rule.startswith("promise_"):
        return f"{label}: {context.get('what')} (promised for {context.get('promised_on')})"
    if task.rule.startswith("case_"):
        return f"{label}: {context.get('summary')} (opened {context.get('opened_on')})"
    if task.rule == "rhythm_break":
        gap = context.get("median_gap_days")
        return f"{label}: usually every {gap:g} days, last {context.get('last_purchase_on')}"
    if task.rule.startswith("aftercare") and context.get("item"):
        return f"{label}: {context['item']} (bought {context.get('bought_on')})"
    if task.rule == "welcome" and context.get("item"):
        return f"{label}: first purchase {context['item']}"
    if task.rule == "anniversary":
        what = context.get("label") or "customer"
        return f"{label}: {what}, {context.get('years')} years on {context.get('anniversary_on')}"
    if task.rule == "family_birthday":
        member = f"{context.get('member')} ({context.get('relation')})"
        return f"{label}: {member} on {context.get('birthday')}"
    return label
