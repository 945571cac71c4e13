"""Outreach tasks: finding them, changing their state, keeping a done task's words, and
the load they put on each person's days.

The one writer of ``rapport_outreach_task``: the planner inserts and expires tasks with
:func:`insert_tasks` and :func:`expire_tasks` and asks :func:`planned_keys`; rules and
consent cancel them with :func:`cancel_superseded`, :func:`cancel_open_tasks` and
:func:`cancel_tasks`, and the thank-you note revises its own with :func:`revise_tasks`;
erasure asks :func:`erase_tasks`. The staff view and the planner's capacity stage ask
the named queries here (:func:`read_load`, :func:`sticky_people`,
:func:`unassigned_load`). Listings, metrics and exports read tasks with their own
set-based queries.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from rapport._errors import NotFoundError, StateError
from rapport.models.enums import (
    INTERACTION_FOR_TASK,
    OPEN_TASK_STATUSES,
    Direction,
    TaskKind,
    TaskStatus,
)
from rapport.models.schemas import InteractionIn, TaskOut
from rapport.models.tables import Customer, OutreachTask
from rapport.store._base import StoreBase, owned_out
from rapport.store.rows import INSERT_BATCH, chunked, insert_values, rowcount, stored_keys

#: Tasks that take a place in a person's day: still to do, or done already.
LOADED_STATUSES = (*OPEN_TASK_STATUSES, TaskStatus.DONE)


def insert_tasks(session: Session, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert new tasks, skipping occasion keys another run inserted first; returns the
    tasks inserted. The driver's own ``executemany`` with ON CONFLICT DO NOTHING, on
    both databases: on PostgreSQL it is eight times faster than SQLAlchemy's multi-row
    VALUES with RETURNING, whose long statements psycopg parses anew for every batch."""
    if not rows:
        return 0
    return insert_values(session, OutreachTask, columns, rows, skip="occasion_key")


def expire_tasks(
    session: Session,
    as_of: dt.date,
    now: dt.datetime,
    shard: Callable[[Any], Any] | None = None,
) -> int:
    """Open tasks whose window ended before ``as_of`` become ``expired`` (kept as
    history); ``shard`` narrows them by customer id. Returns how many."""
    stmt = (
        update(OutreachTask)
        .where(OutreachTask.status.in_(OPEN_TASK_STATUSES), OutreachTask.window_end < as_of)
        .values(status=TaskStatus.EXPIRED, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if shard is not None:
        stmt = stmt.where(shard(OutreachTask.customer_id))
    return rowcount(session.execute(stmt))


def cancel_superseded(
    session: Session,
    rule: str,
    newer: Any,
    *,
    reason: str,
    now: dt.datetime,
    customer_ids: Collection[int] | None,
) -> int:
    """Cancel ``rule``'s open tasks whose anchor is older than ``newer``.

    ``newer`` is a customer column (last contact, last purchase): a task planned from an
    older fact is moot once a newer one exists. One set-based UPDATE.
    """
    latest = select(newer).where(Customer.id == OutreachTask.customer_id).scalar_subquery()
    stmt = (
        update(OutreachTask)
        .where(
            OutreachTask.rule == rule,
            OutreachTask.status.in_(OPEN_TASK_STATUSES),
            OutreachTask.anchor_at.is_not(None),
            latest > OutreachTask.anchor_at,
        )
        .values(status=TaskStatus.CANCELLED, reason=reason, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if customer_ids is not None:
        stmt = stmt.where(OutreachTask.customer_id.in_(sorted(customer_ids)))
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def cancel_open_tasks(
    session: Session,
    rule: str,
    now: dt.datetime,
    customer_ids: Collection[int] | None,
    moot: Callable[[OutreachTask], str | None],
) -> int:
    """Cancel ``rule``'s open tasks for which ``moot`` gives a reason (row by row: for
    rules whose open tasks are few, such as promises and complaints)."""
    stmt = select(OutreachTask).where(
        OutreachTask.rule == rule, OutreachTask.status.in_(OPEN_TASK_STATUSES)
    )
    if customer_ids is not None:
        stmt = stmt.where(OutreachTask.customer_id.in_(sorted(customer_ids)))
    cancelled = 0
    for task in list(session.scalars(stmt)):
        reason = moot(task)
        if reason is not None:
            task.status = TaskStatus.CANCELLED
            task.reason = reason
            task.completed_at = now
            cancelled += 1
    session.flush()
    return cancelled


def cancel_tasks(session: Session, task_ids: Sequence[int], reason: str, now: dt.datetime) -> int:
    """Cancel these tasks with ``reason`` (kept as history); returns how many."""
    for batch in chunked(task_ids, INSERT_BATCH):
        session.execute(
            update(OutreachTask)
            .where(OutreachTask.id.in_(batch))
            .values(status=TaskStatus.CANCELLED, reason=reason, completed_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(task_ids)


def revise_tasks(
    session: Session, revisions: Sequence[tuple[int, Mapping[str, Any], dt.date]]
) -> None:
    """Give open tasks a new context and window end, as ``(task id, context,
    window_end)``: a thank-you note whose purchases changed since it was planned."""
    if revisions:
        session.execute(
            update(OutreachTask).execution_options(synchronize_session=False),
            [
                {"id": task_id, "context": dict(context), "window_end": window_end}
                for task_id, context, window_end in revisions
            ],
        )


def customer_tasks(session: Session, customer_id: int) -> list[Any]:
    """One customer's tasks, newest due day first: what an explanation cites (id, rule,
    occasion key, status, reason, kind, channel, due day, window end, service, when
    completed)."""
    return list(
        session.execute(
            select(
                OutreachTask.id,
                OutreachTask.rule,
                OutreachTask.occasion_key,
                OutreachTask.status,
                OutreachTask.reason,
                OutreachTask.kind,
                OutreachTask.channel,
                OutreachTask.due_on,
                OutreachTask.window_end,
                OutreachTask.service,
                OutreachTask.completed_at,
            )
            .where(OutreachTask.customer_id == customer_id)
            .order_by(OutreachTask.due_on.desc(), OutreachTask.id.desc())
        )
    )


def due_tasks(session: Session, day: dt.date) -> list[Any]:
    """The open tasks due by ``day``, the day's list (id, rule, kind, assigned_to and
    the customer's external id), in id order."""
    return list(
        session.execute(
            select(
                OutreachTask.id,
                OutreachTask.rule,
                OutreachTask.kind,
                OutreachTask.assigned_to,
                Customer.external_id,
            )
            .join(Customer, Customer.id == OutreachTask.customer_id)
            .where(OutreachTask.status.in_(OPEN_TASK_STATUSES), OutreachTask.due_on <= day)
            .order_by(OutreachTask.id)
        )
    )


def task_contact(
    *,
    task_id: int,
    customer_id: str,
    kind: TaskKind,
    rule: str,
    staff: str | None,
    at: dt.datetime,
    summary: str | None = None,
) -> InteractionIn | None:
    """The interaction a done task records, so the customer's last contact moves (a
    check-in cycle starts over); None for a reminder for staff, which contacts nobody."""
    if kind not in INTERACTION_FOR_TASK:
        return None
    return InteractionIn(
        customer_id=customer_id,
        occurred_at=at,
        kind=INTERACTION_FOR_TASK[kind],
        direction=Direction.OUTBOUND,
        summary=summary or f"{rule.replace('_', ' ')} done",
        staff=staff,
        task_id=task_id,
    )


def complete_tasks(session: Session, task_ids: Sequence[int], at: dt.datetime) -> None:
    """Mark open tasks done at ``at``, without keeping words (a simulated day's work)."""
    for batch in chunked(task_ids, INSERT_BATCH):
        session.execute(
            update(OutreachTask)
            .where(OutreachTask.id.in_(batch), OutreachTask.status.in_(OPEN_TASK_STATUSES))
            .values(status=TaskStatus.DONE, completed_at=at)
            .execution_options(synchronize_session=False)
        )


def planned_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these occasion keys already have a task (of any status)."""
    return stored_keys(session, OutreachTask.occasion_key, keys)


@dataclass(frozen=True)
class TaskWords:
    """A task's words as its columns hold them: the message (subject, text, HTML) or the
    call script, and the talking points."""

    subject: str | None
    body: str | None
    body_html: str | None
    call_script: Mapping[str, Any] | None
    talking_points: tuple[str, ...]


# ------------------------------------------------------------------------- the load


def read_load(
    session: Session, names: Collection[str], first: dt.date, last: dt.date
) -> Counter[tuple[str, str, dt.date]]:
    """Tasks due per ``(person, kind, day)`` from ``first`` to ``last``, for ``names``.

    Done tasks count too: a morning's finished calls do not make room for more calls the
    same day.
    """
    stmt = (
        select(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on, func.count())
        .where(
            OutreachTask.assigned_to.in_(sorted(names)),
            OutreachTask.status.in_(LOADED_STATUSES),
            OutreachTask.due_on.between(first, last),
        )
        .group_by(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on)
    )
    return Counter(
        {
            (person or "", TaskKind(kind).value, due_on): count
            for person, kind, due_on, count in session.execute(stmt)
        }
    )


def unassigned_load(
    session: Session, names: Collection[str], first: dt.date, last: dt.date
) -> dict[str, int]:
    """Tasks due from ``first`` to ``last`` assigned to nobody among ``names``, per kind."""
    stmt = (
        select(OutreachTask.kind, func.count())
        .where(
            OutreachTask.status.in_(LOADED_STATUSES),
            OutreachTask.due_on.between(first, last),
            OutreachTask.assigned_to.is_(None) | OutreachTask.assigned_to.not_in(sorted(names)),
        )
        .group_by(OutreachTask.kind)
    )
    counts: dict[str, int] = {}
    for kind, count in session.execute(stmt):
        value = TaskKind(kind).value
        counts[value] = counts.get(value, 0) + count
    return counts


def sticky_people(
    session: Session, customer_ids: Iterable[int], names: Collection[str]
) -> dict[int, str]:
    """The person of each customer's latest task among ``names``, when there is one."""
    found: dict[int, str] = {}
    if not names:
        return found
    connection = session.connection()
    # The person is matched through an expression, not the column: an index on a few
    # staff names would read every task they ever had, once per batch of customers,
    # where the customers' own index reads only their few tasks.
    latest = (
        select(func.max(OutreachTask.id))
        .where(
            OutreachTask.customer_id.in_(bindparam("ids", expanding=True)),
            func.coalesce(OutreachTask.assigned_to, "").in_(sorted(names)),
        )
        .group_by(OutreachTask.customer_id)
    )
    stmt = select(OutreachTask.customer_id, OutreachTask.assigned_to).where(
        OutreachTask.id.in_(latest.scalar_subquery())
    )
    for batch in chunked(sorted(customer_ids)):
        for customer_id, person in connection.execute(stmt, {"ids": batch}):
            found[customer_id] = person or ""
    return found


# ------------------------------------------------------------------------- one task


class TaskStore(StoreBase):
    """Reads and state changes of outreach tasks."""

    def get_task(self, task_id: int) -> TaskOut:
        row, external_id = self._task(task_id)
        return owned_out(TaskOut, row, external_id)

    def find_tasks(
        self,
        *,
        customer_id: str | None = None,
        rule: str | None = None,
        statuses: Collection[TaskStatus] | None = None,
        due_by: dt.date | None = None,
    ) -> list[TaskOut]:
        """Tasks matching every given filter, by due day, then priority (highest first)."""
        stmt = select(OutreachTask, Customer.external_id).join(
            Customer, Customer.id == OutreachTask.customer_id
        )
        if customer_id is not None:
            stmt = stmt.where(Customer.external_id == customer_id)
        if rule is not None:
            stmt = stmt.where(OutreachTask.rule == rule)
        if statuses is not None:
            stmt = stmt.where(OutreachTask.status.in_(list(statuses)))
        if due_by is not None:
            stmt = stmt.where(OutreachTask.due_on <= due_by)
        stmt = stmt.order_by(OutreachTask.due_on, OutreachTask.priority.desc(), OutreachTask.id)
        return [owned_out(TaskOut, row, external) for row, external in self.session.execute(stmt)]

    def record_task_words(self, task_id: int, words: TaskWords, *, at: dt.datetime) -> None:
        """Keep the words a done task's customer got (subject, text, HTML, call script,
        talking points) with the task, so history shows what was sent. Open tasks keep
        none: their words are rendered whenever they are listed."""
        task, _ = self._task(task_id)
        if task.status is not TaskStatus.DONE:
            raise StateError(f"task {task_id} is {task.status.value}; only done tasks keep words")
        task.subject = words.subject
        task.body = words.body
        task.body_html = words.body_html
        task.call_script = dict(words.call_script) if words.call_script is not None else None
        task.talking_points = list(words.talking_points)
        task.rendered_at = at
        self.session.flush()

    def change_task(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        now: dt.datetime,
        reason: str | None = None,
        outcome: str | None = None,
        snooze_until: dt.date | None = None,
    ) -> tuple[OutreachTask, str]:
        """Move an open (planned or snoozed) task to ``status``; history is kept."""
        task, external_id = self._task(task_id)
        if task.status not in OPEN_TASK_STATUSES:
            raise StateError(
                f"task {task_id} is {task.status.value}; only planned or snoozed tasks change"
            )
        if snooze_until is not None:
            if snooze_until > task.window_end:
                raise StateError(
                    f"task {task_id} cannot be snoozed to {snooze_until.isoformat()}: its "
                    f"window ends {task.window_end.isoformat()}; skip it instead"
                )
            task.due_on = snooze_until
            task.snoozed_until = snooze_until
        else:
            task.completed_at = now
        task.status = status
        task.reason = reason if reason is not None else task.reason
        task.outcome = outcome
        self.session.flush()
        return task, external_id

    def _task(self, task_id: int) -> tuple[OutreachTask, str]:
        """The task and its customer's external id."""
        task, external_id = self._owned(OutreachTask, task_id, "outreach task")
        return task, external_id

    def _finish_by_survey(self, task: OutreachTask, score: int, at: dt.datetime) -> None:
        """A survey answer is what an open survey task was waiting for: it is done."""
        if task.status in OPEN_TASK_STATUSES:
            task.status = TaskStatus.DONE
            task.completed_at = at
            task.outcome = f"survey answered: {score}/5"

    def _require_tasks(self, task_ids: set[int]) -> None:
        if not task_ids:
            return
        if missing := sorted(task_ids - stored_keys(self.session, OutreachTask.id, task_ids)):
            raise NotFoundError(f"no outreach task with id {missing[0]}")


#: A task's words and notes: what erasure blanks.
_TASK_WORDS = (
    "subject",
    "body",
    "body_html",
    "call_script",
    "talking_points",
    "context",
    "outcome",
)


def erase_tasks(session: Session, customer_id: int, now: dt.datetime) -> None:
    """Cancel one customer's open tasks (reason ``erased``) and blank the words of all of
    them; their kinds, days and outcomes' counts stay for the reports."""
    session.execute(
        update(OutreachTask)
        .where(
            OutreachTask.customer_id == customer_id,
            OutreachTask.status.in_(OPEN_TASK_STATUSES),
        )
        .values(status=TaskStatus.CANCELLED, reason="erased", completed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutreachTask)
        .where(OutreachTask.customer_id == customer_id)
        .values(dict.fromkeys(_TASK_WORDS))
        .execution_options(synchronize_session=False)
    )
