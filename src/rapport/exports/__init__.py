"""Outreach lists: the tasks due, as rows, written as CSV, JSON, a printable HTML call
sheet, or an ICS calendar of calls.

Each task's words are rendered as the list is read, from the templates and the data as
they are now; a done task shows the words recorded when it was done. Listing never
writes. Rows are read in owner and due-day order, in batches, and streamed to the writer,
so a long list needs little memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.config import Settings
from rapport.messages import TASK_FACT_COLUMNS, TaskFacts, TaskRenderer, typed_context, words_of
from rapport.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from rapport.models.tables import Customer, OutreachTask
from rapport.rules import BUILTIN_BY_NAME, Rule
from rapport.store import TaskWords, chunked
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


def rule_labels(rules: Mapping[str, type[Rule]]) -> dict[str, str]:
    """Each rule's staff-facing name, as the rule gives it."""
    return {name: rule.title() for name, rule in rules.items()}


#: The built-in rules' names, for pages drawn without a rule catalog.
RULE_LABELS = rule_labels(BUILTIN_BY_NAME)


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


#: What a row shows beyond the task's facts: the recorded words and the customer.
_ROW_COLUMNS = (
    *TASK_FACT_COLUMNS,
    OutreachTask.priority,
    OutreachTask.status,
    OutreachTask.occasion_key,
    OutreachTask.subject,
    OutreachTask.body,
    OutreachTask.body_html,
    OutreachTask.call_script,
    OutreachTask.talking_points,
    Customer.external_id,
    Customer.first_name,
    Customer.last_name,
    Customer.preferred_name,
    Customer.language,
    Customer.email,
    Customer.phone,
    Customer.address_line1,
    Customer.address_line2,
    Customer.postal_code,
    Customer.city,
    Customer.country,
)
#: Tasks read (and rendered) per batch.
ROW_BATCH = 1000


def outreach_rows(
    session: Session,
    *,
    settings: Settings,
    renderer: Renderer,
    due_by: dt.date,
    kinds: Collection[TaskKind] = (),
    owner: str | None = None,
    rules: Collection[str] = (),
    statuses: Collection[TaskStatus] = OPEN_TASK_STATUSES,
) -> Iterator[OutreachRow]:
    """The tasks due on or before ``due_by`` (late ones included), by owner and due day.

    Words are written for ``due_by`` (the template's ``today``). A template error raises
    :class:`~rapport.TemplateError` naming the template and the task: a list never holds
    a blank message.
    """
    conditions: list[Any] = [OutreachTask.due_on <= due_by, OutreachTask.status.in_(statuses)]
    if kinds:
        conditions.append(OutreachTask.kind.in_(list(kinds)))
    if owner is not None:
        conditions.append(OutreachTask.assigned_to == owner)
    if rules:
        conditions.append(OutreachTask.rule.in_(list(rules)))
    # Core, not the ORM: rows of plain columns, built faster; nothing here is changed.
    connection = session.connection()
    # The order first (four small columns a task), then each batch's full rows: memory
    # stays flat however long the list, and the renderer knows which customers come back.
    order = [
        (task_id, customer_id, _recorded(status, rendered_at))
        for task_id, customer_id, status, rendered_at in connection.execute(
            select(
                OutreachTask.id,
                OutreachTask.customer_id,
                OutreachTask.status,
                OutreachTask.rendered_at,
            )
            .where(*conditions)
            .order_by(
                OutreachTask.assigned_to,
                OutreachTask.due_on,
                OutreachTask.priority.desc(),
                OutreachTask.id,
            )
        )
    ]
    writer = TaskRenderer(session, renderer, settings, due_by)
    writer.expect(customer_id for _, customer_id, recorded in order if not recorded)
    for batch in chunked(order, ROW_BATCH):
        rows = {
            row.id: row
            for row in connection.execute(
                select(*_ROW_COLUMNS)
                .join(Customer, Customer.id == OutreachTask.customer_id)
                .where(OutreachTask.id.in_([task_id for task_id, _, _ in batch]))
            )
        }
        writer.load(rows[task_id] for task_id, _, recorded in batch if not recorded)
        for task_id, _, recorded in batch:
            row = rows[task_id]
            words = _recorded_words(row) if recorded else words_of(writer.render(row))
            yield _row(row, words, renderer.rules)


def _recorded(status: TaskStatus, rendered_at: dt.datetime | None) -> bool:
    """Whether a task shows its recorded words: a closed task that has them. An open
    task's words are always written afresh (any kept from older versions are stale)."""
    return status not in OPEN_TASK_STATUSES and rendered_at is not None


def _recorded_words(row: Any) -> TaskWords:
    return TaskWords(
        subject=row.subject,
        body=row.body,
        body_html=row.body_html,
        call_script=row.call_script,
        talking_points=tuple(row.talking_points or ()),
    )


def _row(row: Any, words: TaskWords, rules: Mapping[str, type[Rule]]) -> OutreachRow:
    script = words.call_script or {}
    lines = [
        line
        for line in (
            row.address_line1,
            row.address_line2,
            " ".join(p for p in (row.postal_code, row.city) if p) or None,
            row.country,
        )
        if line
    ]
    name = " ".join(n for n in (row.first_name, row.last_name) if n)
    message: str | None = words.body
    if row.kind is TaskKind.CALL and script:
        message = f"{script.get('greeting', '')} {script.get('reason', '')}".strip()
    return OutreachRow(
        task_id=row.id,
        due_on=row.due_on,
        late=row.late,
        kind=row.kind,
        channel=row.channel,
        rule=row.rule,
        priority=row.priority,
        customer_id=row.external_id,
        customer_name=name or row.preferred_name or row.external_id,
        language=row.language,
        email=row.email,
        phone=row.phone,
        address=", ".join(lines) or None,
        subject=words.subject,
        message=message,
        talking_points=list(words.talking_points or script.get("talking_points") or []),
        owner=row.assigned_to,
        status=row.status,
        occasion_key=row.occasion_key,
        window_end=row.window_end,
        reason=occasion_reason(row, rules),
        greeting=script.get("greeting"),
        address_lines=lines,
    )


def occasion_reason(task: TaskFacts, rules: Mapping[str, type[Rule]]) -> str:
    """A one-line reason for staff, from the task's rule (in English; the message
    itself is in the customer's language)."""
    rule = rules.get(task.rule)
    if rule is None:  # a rule no longer configured: its name says enough
        return task.rule.replace("_", " ").capitalize()
    return rule.reason(typed_context(task, rules))
