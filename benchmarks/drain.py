"""Drain a staff backlog: plan day after day with people on staff and check the calls.

    python benchmarks/drain.py --customers 100000 --days 10 --staff 20
    python benchmarks/drain.py --customers 100000 --only check_in_call
    python benchmarks/drain.py --customers 100000 --staff 0   # the same days without staff

Imports a generated customer base once (SQLite, a temp folder), puts ``--staff`` people
on staff (``generate.staff``: half named like owners, half assigned by language; 10
calls and 20 cards a day each), then plans ``--days`` days in a row from 2026-11-23
(a Monday) without marking anything done, so the check-in calls due on the first day
that find no room wait and come back every day. After each day it prints what was
created, what waits, and whether the calls went in value order; at the end it checks:

(a) every customer has at most one check-in call (and none both called and waiting);
(b) no person has more calls or cards due on a day than ``per_day`` (none on days off);
(c) value order: each day, every check-in still waiting against the calls created that
    day for the people who could take it (its bound person, or anyone speaking its
    language when nobody is bound): a waiting check-in that outspends a call placed on
    a day inside its window, a day its contact budget had room for, is an inversion;
    one whose budget was full on those days is counted apart ("budget": its other,
    higher-priority tasks took the customer's contacts), and so is one that outspends
    only calls placed after its window ends ("edge": its window closes within the
    plan's days, and it is re-offered with a new window the day after). Also, per
    day, how many people were given a call cheaper than one they could have taken,
    and the share of all called customers whose spend is at least the median of those
    still waiting at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generated
from run import AS_OF, bench_settings, past_limits
from sqlalchemy import Engine, func, select

from rapport import Rapport, create_engine
from rapport.capacity import ContactBudget, Roster
from rapport.dates import WorkingDays
from rapport.models.tables import Customer, OutreachTask, WaitingOccasion
from rapport.store.tasks import LOADED_STATUSES

CHECK_IN = "check_in_call"


class Called(NamedTuple):
    customer: int
    person: str
    status: str
    spend: Decimal
    day: dt.date


class Waits(NamedTuple):
    customer: int
    person: str | None
    language: str | None
    spend: Decimal
    earliest: dt.date
    window_end: dt.date


def called_since(engine: Engine, after_id: int) -> list[Called]:
    """The check-in calls created after task ``after_id``, with the customer's trailing
    spend now."""
    stmt = (
        select(
            OutreachTask.customer_id,
            OutreachTask.assigned_to,
            OutreachTask.status,
            Customer.spend_365d,
            OutreachTask.due_on,
        )
        .join(Customer, Customer.id == OutreachTask.customer_id)
        .where(OutreachTask.id > after_id, OutreachTask.rule == CHECK_IN)
    )
    with engine.connect() as connection:
        return [Called(c, p or "", str(s), v, d) for c, p, s, v, d in connection.execute(stmt)]


def waiting_now(engine: Engine) -> list[Waits]:
    """The check-ins waiting for room (person: the one they are bound to, or None)."""
    stmt = (
        select(
            WaitingOccasion.customer_id,
            WaitingOccasion.assigned_to,
            Customer.language,
            Customer.spend_365d,
            WaitingOccasion.due_on,
            WaitingOccasion.window_end,
        )
        .join(Customer, Customer.id == WaitingOccasion.customer_id)
        .where(WaitingOccasion.rule == CHECK_IN)
    )
    with engine.connect() as connection:
        return [Waits(*row) for row in connection.execute(stmt)]


def waiting_task_days(engine: Engine, since: dt.date) -> dict[int, list[dt.date]]:
    """The days of the tasks that count against the contact budget (open or done, not
    service) from ``since``, of the customers with a check-in waiting."""
    stmt = (
        select(OutreachTask.customer_id, OutreachTask.due_on)
        .join(WaitingOccasion, WaitingOccasion.customer_id == OutreachTask.customer_id)
        .where(
            WaitingOccasion.rule == CHECK_IN,
            OutreachTask.status.in_(LOADED_STATUSES),
            OutreachTask.service.is_(False),
            OutreachTask.due_on >= since,
        )
    )
    days: dict[int, list[dt.date]] = defaultdict(list)
    with engine.connect() as connection:
        for customer, day in connection.execute(stmt):
            days[customer].append(day)
    return days


def created_by_kind(engine: Engine, after_id: int) -> Counter[str]:
    """Tasks created after task ``after_id`` per kind (missed records apart)."""
    stmt = (
        select(OutreachTask.kind, OutreachTask.status, func.count())
        .where(OutreachTask.id > after_id)
        .group_by(OutreachTask.kind, OutreachTask.status)
    )
    found: Counter[str] = Counter()
    with engine.connect() as connection:
        for kind, status, count in connection.execute(stmt):
            found[f"{kind} missed" if status == "missed" else str(kind)] += count
    return found


def last_task_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.max(OutreachTask.id))) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--data", type=Path, help="keep the generated files here and reuse them")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="RULE",
        help="enable only this rule (repeatable; default: the built-in rules as shipped)",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rapport-drain-"))
    files = generated(args.customers, args.data or folder / "data", as_of=AS_OF)
    url = f"sqlite:///{folder / 'drain.db'}"
    settings = bench_settings(args.staff, args.only)
    roster = Roster(settings.staff, WorkingDays(settings.business.country))
    clock = [dt.datetime.combine(AS_OF, dt.time(5), tzinfo=dt.UTC)]
    crm = Rapport.from_url(url, settings=settings, clock=lambda: clock[0])
    crm.migrate()
    print(
        f"drain: {args.customers:,} customers, {args.staff} staff, {args.days} days from "
        f"{AS_OF}, rules: {', '.join(args.only) or 'as shipped'}"
    )
    for kind in ("customers", "purchases", "interactions"):
        started = time.perf_counter()
        rows = crm.import_file(kind, files[kind]).rows
        print(f"import {kind}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    engine = create_engine(url)

    header = (
        "day", "as_of", "wd", "plan s", "load", "check-ins", "other calls", "cards",
        "waiting", "wait total", "people", "inverted", "budget", "edge", "min called",
        "max waiting",
    )  # fmt: skip
    widths = (3, 10, 3, 7, 5, 9, 11, 6, 8, 10, 6, 8, 6, 6, 10, 11)
    print("\n" + " ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    working_days = WorkingDays(settings.business.country)
    seconds: list[float] = []
    called: dict[int, list[tuple[int, Called]]] = defaultdict(list)  # customer: (day, call)
    inversions: list[str] = []
    edges = budgeted = 0
    caps = settings.caps
    waiting: list[Waits] = []
    for offset in range(args.days):
        as_of = AS_OF + dt.timedelta(days=offset)
        clock[0] = dt.datetime.combine(as_of, dt.time(5), tzinfo=dt.UTC)
        before = last_task_id(engine)
        started = time.perf_counter()
        report = crm.plan(as_of)
        seconds.append(time.perf_counter() - started)
        load = os.getloadavg()[0]
        kinds = created_by_kind(engine, before)
        today = [call for call in called_since(engine, before) if call.status != "missed"]
        for call in today:
            called[call.customer].append((offset + 1, call))
        waiting = waiting_now(engine)
        taken = waiting_task_days(engine, as_of - dt.timedelta(days=caps.per_days))
        # The cheapest call each person was given today, per day it is due on.
        cheapest: dict[str, dict[dt.date, Called]] = defaultdict(dict)
        for call in today:
            held = cheapest[call.person].get(call.day)
            if held is None or call.spend < held.spend:
                cheapest[call.person][call.day] = call
        given_worse: set[str] = set()
        day_inversions = day_edges = day_budgeted = 0
        for wait in waiting:
            first = max(wait.earliest, as_of)
            people = (wait.person,) if wait.person else roster.speakers(wait.language)
            worse = [
                call
                for person in people
                for call in cheapest.get(person, {}).values()
                if call.spend < wait.spend
            ]
            inside = [call for call in worse if first <= call.day <= wait.window_end]
            budget = ContactBudget(
                taken.get(wait.customer, ()), max_touches=caps.max_touches, per_days=caps.per_days
            )
            if inside and not any(budget.fits(call.day) for call in inside):
                day_budgeted += 1
                continue
            inside = [call for call in inside if budget.fits(call.day)]
            if inside:
                day_inversions += 1
                given_worse.update(call.person for call in inside)
                call = min(inside, key=lambda call: call.spend)
                inversions.append(
                    f"day {offset + 1}: customer {wait.customer} (spend {wait.spend}, "
                    f"window {first} to {wait.window_end}, for {wait.person or 'anyone'}) "
                    f"waits; customer {call.customer} (spend {call.spend}) called by "
                    f"{call.person} on {call.day}"
                )
            elif worse:
                day_edges += 1
        edges += day_edges
        budgeted += day_budgeted
        check_ins = report.rules[CHECK_IN]
        row = (
            offset + 1,
            as_of.isoformat(),
            "yes" if working_days.is_working_day(as_of) else "no",
            f"{seconds[-1]:.2f}",
            f"{load:.1f}",
            f"{len(today):,}",
            f"{kinds['call'] - len(today):,}",
            f"{kinds['card']:,}",
            f"{check_ins.waiting:,}",
            f"{sum(rule.waiting for rule in report.rules.values()):,}",
            f"{len(given_worse)}/{len(cheapest)}",
            f"{day_inversions:,}",
            f"{day_budgeted:,}",
            f"{day_edges:,}",
            f"{min(call.spend for call in today):.0f}" if today else "-",
            f"{max(wait.spend for wait in waiting):.0f}" if waiting else "-",
        )
        print(" ".join(f"{v!s:>{w}}" for v, w in zip(row, widths, strict=True)))
    crm.close()

    print(f"\nplan seconds: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}")
    calls = sum(len(days) for days in called.values())
    print(f"check-in calls created over {args.days} days: {calls:,} for {len(called):,} customers")
    print(f"check-ins still waiting after day {args.days}: {len(waiting):,}")
    twice = {customer: calls for customer, calls in called.items() if len(calls) > 1}
    also_waiting = {wait.customer for wait in waiting} & called.keys()
    past, most, nobody = past_limits(engine, settings)
    engine.dispose()
    verdicts = [
        (f"(a) customers with two check-in calls: {len(twice)}", not twice),
        (f"(a) customers both called and still waiting: {len(also_waiting)}", not also_waiting),
        (
            "(b) person-days past per_day: "
            f"{len(past)} (most on one day: "
            + ", ".join(f"{kind} {count}" for kind, count in most.items())
            + f"; limited kinds assigned to nobody on staff: {nobody})",
            not past and not nobody,
        ),
        (
            "(c) waiting check-ins outspending a call placed inside their window on a day "
            f"their budget allowed, summed over the days: {len(inversions):,} (budget full: "
            f"{budgeted:,}; edge, only after their window: {edges:,})",
            not inversions,
        ),
    ]
    if waiting:
        median = statistics.median(wait.spend for wait in waiting)
        spends = [call.spend for calls in called.values() for _, call in calls]
        share = sum(spend >= median for spend in spends) / len(spends) if spends else 1.0
        verdicts.append(
            (
                f"(c) called customers spending at least the median still waiting ({median:.0f}):"
                f" {share:.1%}",
                share >= 0.95,
            )
        )
    for line, ok in verdicts:
        print(f"{'OK  ' if ok else 'FAIL'} {line}")
    for line in (*(f"past: {p}" for p in past[:10]), *inversions[:20]):
        print(f"     {line}")
    for customer, made in list(twice.items())[:10]:
        print(f"     twice: customer {customer}: {made}")


if __name__ == "__main__":
    main()
