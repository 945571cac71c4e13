"""Occasions waiting for staff capacity: the one owner of ``rapport_waiting``.

An occasion the planner could not place (nobody had room on a day its budget allowed)
waits here until a later plan places it or its window closes. The planner reads and
replaces the backlog through :class:`Backlog`; the staff view and metrics count it;
erasure drops a customer's rows with :func:`drop_waiting`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from rapport.models.enums import TaskKind
from rapport.models.tables import WaitingOccasion
from rapport.store.rows import chunked, insert_values

ShardCondition = Callable[[Any], ColumnElement[bool]]


class Waiting(NamedTuple):
    """One occasion waiting for room, as the planner found it today."""

    occasion_key: str
    customer_id: int
    rule: str
    kind: TaskKind
    channel: str | None
    due_on: dt.date
    window_end: dt.date
    priority: int
    assigned_to: str | None
    context: dict[str, Any]
    anchor_at: dt.datetime | None


class Backlog:
    """The occasions waiting for staff capacity (``rapport_waiting``)."""

    def __init__(self, session: Session, shard: ShardCondition | None = None) -> None:
        self.session = session
        self.shard = shard

    def _in_shard(self) -> list[ColumnElement[bool]]:
        return [] if self.shard is None else [self.shard(WaitingOccasion.customer_id)]

    def stored(self) -> dict[str, tuple[Waiting, dt.date]]:
        """What waited after the last run (of this shard) and since when, by key."""
        columns = [getattr(WaitingOccasion, name) for name in Waiting._fields]
        rows = self.session.connection().execute(
            select(*columns, WaitingOccasion.since).where(*self._in_shard())
        )
        return {row[0]: (Waiting(*row[:-1]), row[-1]) for row in rows}

    def replace(
        self,
        stored: Mapping[str, tuple[Waiting, dt.date]],
        waiting: Sequence[Waiting],
        as_of: dt.date,
    ) -> None:
        """Make the table hold exactly ``waiting`` for this shard. A row that waits
        again keeps the day it first waited; the rest of ``stored`` goes."""
        unchanged: list[str] = []
        rewrite: list[tuple[Any, ...]] = []
        for row in waiting:
            before = stored.get(row.occasion_key)
            if before is not None and before[0] == row:
                unchanged.append(row.occasion_key)
            else:
                rewrite.append((*row, as_of if before is None else before[1], as_of))
        kept = set(unchanged)
        for batch in chunked(sorted(key for key in stored if key not in kept)):
            self.session.execute(
                delete(WaitingOccasion)
                .where(WaitingOccasion.occasion_key.in_(batch))
                .execution_options(synchronize_session=False)
            )
        for batch in chunked(unchanged):
            self.session.execute(
                update(WaitingOccasion)
                .where(WaitingOccasion.occasion_key.in_(batch))
                .values(seen_on=as_of)
                .execution_options(synchronize_session=False)
            )
        columns = (*Waiting._fields, "since", "seen_on")
        insert_values(self.session, WaitingOccasion, columns, rewrite)

    def counts(self) -> dict[str, int]:
        """Occasions waiting per rule."""
        stmt = (
            select(WaitingOccasion.rule, func.count())
            .where(*self._in_shard())
            .group_by(WaitingOccasion.rule)
            .order_by(WaitingOccasion.rule)
        )
        return dict(self.session.execute(stmt).all())

    def since(self) -> dt.date | None:
        """The day the longest-waiting occasion first waited (None: nothing waits)."""
        return self.session.scalar(select(func.min(WaitingOccasion.since)).where(*self._in_shard()))


def drop_waiting(session: Session, customer_id: int) -> None:
    """Forget what waits for one customer (erasure: a waiting occasion is plan state)."""
    session.execute(
        delete(WaitingOccasion)
        .where(WaitingOccasion.customer_id == customer_id)
        .execution_options(synchronize_session=False)
    )
