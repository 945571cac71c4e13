"""Why a customer gets, or does not get, each rule's contact on a day.

``rapport explain`` answers "why did (or didn't) Anna get a card?" before it happens.
The answer is the planner's own: :meth:`Planner.decide` runs a plan's steps narrowed to
one customer, as a shard narrows a plan, and keeps why each occasion it skipped was
skipped; this module words the outcome of each rule with the numbers behind it. A rule
that found nothing is asked why (:meth:`Rule.why_not`). Nothing is written.

With ``[[staff]]``, the capacity an occasion needs is judged against the tasks already
planned: the other customers' occasions of the same plan are not in the picture, so a
busy day can still make a ``due`` occasion wait when the day is planned for everyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from rapport.models.enums import OPEN_TASK_STATUSES, Channel, ConsentState, TaskStatus
from rapport.models.schemas import ConsentChangeOut
from rapport.planner import COUNTED_STATUSES, DayDecisions, NewTask, Planner
from rapport.rules import Occasion, Rule
from rapport.store import Store
from rapport.store.tasks import customer_tasks


class Verdict(StrEnum):
    """What a plan for the day does about one rule's occasion for the customer."""

    #: A plan for the day creates the task.
    DUE = "due"
    #: A task for the occasion exists and is still to do.
    PLANNED = "planned"
    #: The task for the occasion was done.
    DONE = "done"
    #: Due, but nobody on staff has room for it yet; every later plan offers it again.
    WAITING = "waiting"
    #: The rule has no occasion for the customer in the plan's days.
    NOT_DUE = "not_due"
    #: The occasion is there, but the customer is not contacted for it.
    SKIPPED = "skipped"


class RuleVerdict(BaseModel):
    """One rule's verdict for the customer, with why.

    ``code`` is stable for programs (see docs/tuning.md); ``reason`` says it with the
    numbers that decided it (None when the task is due or planned); ``detail`` holds
    those numbers as values.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    verdict: Verdict
    due_on: dt.date | None = None
    channel: Channel | None = None
    task_id: int | None = None
    code: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = {}


class Explanation(BaseModel):
    """Every enabled rule's verdict for one customer on one day (several for a rule
    with several occasions, such as two children's birthdays)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    as_of: dt.date
    first_due: dt.date
    last_due: dt.date
    verdicts: list[RuleVerdict]


#: The words of the planner's skip reasons that need no numbers.
_PLAIN_REASONS = {
    "deceased": "the customer is deceased",
    "inactive": "the customer is inactive",
    "open_case": "a complaint is still open: nurturing waits until it is resolved",
}
_DETAILS = {Channel.MAIL: "postal address", Channel.EMAIL: "email address"}


def explain(
    planner: Planner,
    session: Session,
    store: Store,
    external_id: str,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> Explanation:
    """Each enabled rule's verdict for the customer ``external_id`` on ``as_of``."""
    customer_id = store.require_customer_id(external_id)
    day = planner.decide(session, as_of=as_of, now=now, customer_id=customer_id)
    words = _Words(planner, store, external_id, customer_id, day)
    verdicts: list[RuleVerdict] = []
    for rule in planner.enabled_rules:
        found = list(words.decided(rule))
        if not found:
            found = [words.from_history(rule) or words.absent(rule)]
        verdicts.extend(found)
    return Explanation(
        customer_id=external_id,
        as_of=as_of,
        first_due=day.ctx.first_due,
        last_due=day.ctx.last_due,
        verdicts=verdicts,
    )


class _Words:
    """The verdicts of one customer's day, in words."""

    def __init__(
        self,
        planner: Planner,
        store: Store,
        external_id: str,
        customer_id: int,
        day: DayDecisions,
    ) -> None:
        self.planner = planner
        self.store = store
        self.external_id = external_id
        self.customer_id = customer_id
        self.day = day
        self.tasks = customer_tasks(store.session, customer_id)
        self._consent: list[ConsentChangeOut] | None = None

    def decided(self, rule: Rule) -> Iterator[RuleVerdict]:
        """The verdicts on the occasions the rule offered today."""
        for row in self.day.rows[rule.name]:
            yield self._row(rule, row)
        since = {key: first for key, (_, first) in self.day.waited.items()}
        for waiting in self.day.waiting:
            if waiting.rule != rule.name:
                continue
            who = f"{waiting.assigned_to}'s days" if waiting.assigned_to else "the staff's days"
            yield RuleVerdict(
                rule=rule.name,
                verdict=Verdict.WAITING,
                due_on=waiting.due_on,
                channel=Channel(waiting.channel) if waiting.channel else None,
                code="no_capacity",
                reason=(
                    f"no room for a {waiting.kind.value} in {who} from {waiting.due_on} to "
                    f"{waiting.window_end}; waiting since "
                    f"{since.get(waiting.occasion_key, self.day.ctx.as_of)}"
                ),
                detail={
                    "occasion_key": waiting.occasion_key,
                    "window_end": waiting.window_end,
                    "assigned_to": waiting.assigned_to,
                },
            )
        for occasion, code in self.day.skipped(rule.name):
            reason, detail = self._skip_reason(rule, occasion, code)
            yield RuleVerdict(
                rule=rule.name,
                verdict=Verdict.SKIPPED,
                due_on=occasion.due_on,
                code=code,
                reason=reason,
                detail={
                    "occasion_key": occasion.occasion_key,
                    "window_end": occasion.window_end,
                    **detail,
                },
            )

    def _row(self, rule: Rule, row: NewTask) -> RuleVerdict:
        channel = Channel(row.channel) if row.channel else None
        detail: dict[str, Any] = {
            "occasion_key": row.occasion_key,
            "window_end": row.window_end,
            "kind": row.kind.value,
            "assigned_to": row.assigned_to,
        }
        if row.status is TaskStatus.MISSED:
            waited = row.reason == "no_capacity"
            return RuleVerdict(
                rule=rule.name,
                verdict=Verdict.SKIPPED,
                due_on=row.due_on,
                channel=channel,
                code="no_capacity" if waited else "window_passed",
                reason=(
                    f"due {row.due_on}, but its window closed on {row.window_end}"
                    + (" while it waited for room in the staff's days" if waited else "")
                ),
                detail=detail,
            )
        return RuleVerdict(
            rule=rule.name,
            verdict=Verdict.DUE,
            due_on=row.due_on,
            channel=channel,
            detail={**detail, "late": row.late},
        )

    def from_history(self, rule: Rule) -> RuleVerdict | None:
        """The verdict on an occasion the rule found already planned: its task's."""
        if not self.day.tallies[rule.name].already_planned:
            return None
        # The occasion the rule counted is due within the plan's days: its task is one of
        # those (the open one first), else the rule's newest.
        ctx = self.day.ctx
        tasks = [task for task in self.tasks if task.rule == rule.name]
        current = [t for t in tasks if t.window_end >= ctx.first_due and t.due_on <= ctx.last_due]
        task = next((t for t in current if t.status in OPEN_TASK_STATUSES), None) or next(
            iter(current or tasks), None
        )
        if task is None:
            return None
        channel = Channel(task.channel) if task.channel else None
        detail = {"occasion_key": task.occasion_key, "status": task.status.value}
        if task.status in OPEN_TASK_STATUSES:
            verdict, code, reason = Verdict.PLANNED, None, None
        elif task.status is TaskStatus.DONE:
            done = self.day.ctx.local_date(task.completed_at) if task.completed_at else task.due_on
            verdict, code, reason = Verdict.DONE, "done", f"done on {done}"
        elif task.status is TaskStatus.MISSED:
            verdict, code = Verdict.SKIPPED, "window_passed"
            if task.reason == "no_capacity":
                code = "no_capacity"
            reason = (
                f"due {task.due_on}, but its window closed on {task.window_end} before a "
                f"plan could place it (recorded missed"
                + (", while it waited for staff)" if code == "no_capacity" else ")")
            )
        else:
            why = f" ({task.reason})" if task.reason else ""
            verdict, code = Verdict.SKIPPED, str(task.status.value)
            reason = f"its task of {task.due_on} was {task.status.value}{why}"
        return RuleVerdict(
            rule=rule.name,
            verdict=verdict,
            due_on=task.due_on,
            channel=channel,
            task_id=task.id,
            code=code,
            reason=reason,
            detail=detail,
        )

    def absent(self, rule: Rule) -> RuleVerdict:
        """The verdict of a rule that has no occasion for the customer: the rule says why."""
        ctx = self.day.ctx
        absence = rule.why_not(ctx, self.customer_id)
        if absence is None:
            return RuleVerdict(
                rule=rule.name,
                verdict=Verdict.NOT_DUE,
                code="no_occasion",
                reason=f"no occasion due from {ctx.first_due} to {ctx.last_due}",
            )
        due_on = absence.detail.get("due_on")
        return RuleVerdict(
            rule=rule.name,
            verdict=Verdict.NOT_DUE,
            due_on=due_on if isinstance(due_on, dt.date) else None,
            code=absence.code,
            reason=absence.reason,
            detail={key: _plain(value) for key, value in absence.detail.items()},
        )

    # ------------------------------------------------------------------ skip reasons

    def _skip_reason(self, rule: Rule, occasion: Occasion, code: str) -> tuple[str, dict[str, Any]]:
        if code in _PLAIN_REASONS:
            return _PLAIN_REASONS[code], {}
        if code == "capped":
            return self._capped(occasion)
        customer = self.store.get_customer(self.external_id)
        if code == "do_not_contact":
            change = self._latest_change({"do_not_contact"})
            said = "asked not to be contacted"
            if change is not None:
                origin = f", source: {change.source}" if change.source else ""
                said += f" (consent changed {self.day.ctx.local_date(change.changed_at)}{origin})"
            return said, _change_detail(change)
        channels = list(rule.settings.channels)
        consent = {ch: customer.consent[ch] for ch in channels}
        states = {ch: answer.state for ch, answer in consent.items()}
        detail: dict[str, Any] = {"consent": {ch.value: st.value for ch, st in states.items()}}
        if code == "no_consent":
            refused = [ch for ch, st in states.items() if st is ConsentState.REFUSED]
            unasked = [ch for ch, st in states.items() if st is not ConsentState.REFUSED]
            parts = []
            if refused:
                parts.append(f"{_names(refused)} refused")
            if unasked:
                parts.append(f"{_names(unasked)} never allowed (unknown needs a yes)")
            answered = [(a.changed_at, a.source) for a in consent.values() if a.changed_at]
            if answered:
                changed_at, source = max(answered, key=lambda pair: pair[0])
                where = f", source: {source}" if source else ""
                parts[-1] += f" (consent changed {self.day.ctx.local_date(changed_at)}{where})"
                detail.update(changed_at=changed_at, source=source)
            return "; ".join(parts), detail
        if code == "no_contact_details":
            allowed = [ch for ch in channels if self._allows(states[ch], ch)]
            missing = sorted({_DETAILS.get(ch, "phone number") for ch in allowed})
            return (
                f"allowed on {_names(allowed)}, but no {' or '.join(missing)} on file",
                detail,
            )
        return code.replace("_", " "), detail

    def _allows(self, state: ConsentState, channel: Channel) -> bool:
        """The planner's test (see :func:`rapport.planner.choose_channel`)."""
        return state is ConsentState.GRANTED or (
            state is ConsentState.UNKNOWN and self.planner.settings.consent.allows_unknown(channel)
        )

    def _capped(self, occasion: Occasion) -> tuple[str, dict[str, Any]]:
        """The contacts that leave no room within the caps around the occasion's days."""
        caps = self.planner.settings.caps
        reach = dt.timedelta(days=caps.per_days - 1)
        first, last = occasion.due_on - reach, occasion.window_end + reach
        contacts: list[tuple[dt.date, str]] = [
            (task.due_on, task.rule)
            for task in self.tasks
            if task.status in COUNTED_STATUSES and not task.service and first <= task.due_on <= last
        ]
        contacts += [
            (row.due_on, row.rule)
            for rows in self.day.rows.values()
            for row in rows
            if row.status is TaskStatus.PLANNED and not row.service and first <= row.due_on <= last
        ]
        listed = ", ".join(
            f"{self.planner.catalog[rule].title()} on {day}" for day, rule in sorted(contacts)
        )
        count = f"{len(contacts)} contact{'' if len(contacts) == 1 else 's'}"
        reason = (
            f"capped: {count} in the {caps.per_days} days around {occasion.due_on} to "
            f"{occasion.window_end} ({listed}); at most {caps.max_touches} in any "
            f"{caps.per_days} days"
        )
        return reason, {
            "contacts": [{"day": day, "rule": rule} for day, rule in sorted(contacts)],
            "max_touches": caps.max_touches,
            "per_days": caps.per_days,
        }

    def _latest_change(self, scopes: set[str]) -> ConsentChangeOut | None:
        if self._consent is None:
            self._consent = self.store.consent_log(self.external_id)
        changes = [c for c in self._consent if c.scope.value in scopes]
        return changes[-1] if changes else None


def _names(channels: Sequence[Channel]) -> str:
    names = [channel.value for channel in channels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _change_detail(change: ConsentChangeOut | None) -> dict[str, Any]:
    if change is None:
        return {}
    return {"changed_at": change.changed_at, "source": change.source}


def _plain(value: Any) -> Any:
    """A detail's value as JSON can hold it (money as text, to keep its cents)."""
    return str(value) if isinstance(value, Decimal) else value
