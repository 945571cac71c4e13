"""Benchmark rapport on a generated customer base and print one table of medians.

    python benchmarks/run.py --customers 10000 --runs 3
    python benchmarks/run.py --customers 10000 --db postgresql://user@host/db
    python benchmarks/run.py --customers 1000000 --runs 1 --staff 20 --data /tmp/bench-1m

Each run starts from an empty database: import (through the public API), the first plan
of a day, the same plan again, the next day's plan, rendering the outreach list of every
open task twice (words written fresh, nothing stored; the second list is the "rendering"
figure, the first also compiles the templates), and the outreach CSV. On SQLite a
baseline runs too: the smallest hand-written SQL (Python's ``sqlite3``) that finds the
same kinds of occasions through the same indexes and inserts as many rows; the table
shows rapport's time divided by the baseline's. Peak RSS is the process's high-water
mark after each step.

With ``--staff N`` (SQLite), N ``[[staff]]`` people (``generate.staff``: 10 calls and 20
cards a day each) plan the same day too: the imported database is copied before the
first plan, and the copy's first plan runs with staff in a fresh process (its own peak
RSS) right after the plan without staff. The section under the table compares the two
and checks the placed calls and cards against the capacity of the horizon and each
person's days. ``--data`` keeps the generated files in a folder and reuses them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generated, staff
from sqlalchemy import Engine, func, select, text

from rapport import PlanReport, Rapport, Settings, TaskStatus, create_engine, parse_settings
from rapport.capacity import Roster
from rapport.database import SQLITE_CACHE_KB
from rapport.dates import WorkingDays
from rapport.models.tables import Customer, OutreachTask
from rapport.rules import BUILTIN_RULES
from rapport.store.tasks import LOADED_STATUSES

AS_OF = dt.date(2026, 11, 23)
NOW = dt.datetime.combine(AS_OF, dt.time(5), tzinfo=dt.UTC)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_database(url: str | None, folder: Path, run: int) -> str:
    if url is None:
        return f"sqlite:///{folder / f'bench-{run}.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def bench_settings(staff_count: int = 0, only: Collection[str] = ()) -> Settings:
    """The benchmark's business, with ``staff_count`` people on staff; with ``only``,
    just those rules enabled."""
    rules = {rule.name: {"enabled": rule.name in only} for rule in BUILTIN_RULES if only}
    return parse_settings(
        {
            "business": {"timezone": "Europe/Helsinki", "country": "FI", "name": "Bench"},
            "staff": staff(staff_count),
            "rules": rules,
        }
    )


def horizon_capacity(settings: Settings, as_of: dt.date) -> Counter[str]:
    """Per limited kind: the sum over the staff of ``per_day`` times their working days
    from ``as_of`` to ``as_of + horizon_days`` (the days a plan fills)."""
    roster = Roster(settings.staff, WorkingDays(settings.business.country))
    days = [as_of + dt.timedelta(days=n) for n in range(settings.planner.horizon_days + 1)]
    capacity: Counter[str] = Counter()
    for name, person in roster.people.items():
        working = sum(roster.works_on(name, day) for day in days)
        for kind, limit in person.limits.items():
            capacity[kind] += limit * working
    return capacity


def task_kinds(engine: Engine) -> dict[str, Counter[str]]:
    """Tasks per kind: ``placed`` (to do), ``service`` (placed even past capacity) and
    ``missed`` (a record of an occasion whose window had closed; no one's work)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    stmt = select(
        OutreachTask.kind, OutreachTask.status, OutreachTask.service, func.count()
    ).group_by(OutreachTask.kind, OutreachTask.status, OutreachTask.service)
    with engine.connect() as connection:
        for kind, status, service, count in connection.execute(stmt):
            which = "missed" if status == "missed" else "service" if service else "placed"
            found[str(kind)][which] += count
    return dict(sorted(found.items()))


def past_limits(engine: Engine, settings: Settings) -> tuple[list[str], dict[str, int], int]:
    """Each person's days against ``per_day``: the (person, kind, day) past their limit
    (service tasks aside, which may go past it), the most tasks of each limited kind on
    one person's day, and the tasks of a limited kind assigned to nobody on staff.

    A task counts on its day while open or done, and after it expired too (its day has
    passed; it held the place then)."""
    roster = Roster(settings.staff, WorkingDays(settings.business.country))
    limited = sorted({kind for person in roster.people.values() for kind in person.limits})
    stmt = (
        select(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on, func.count())
        .where(
            OutreachTask.status.in_((*LOADED_STATUSES, TaskStatus.EXPIRED)),
            OutreachTask.service.is_(False),
            OutreachTask.kind.in_(limited),
        )
        .group_by(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on)
    )
    past: list[str] = []
    most: Counter[str] = Counter()
    nobody = 0
    with engine.connect() as connection:
        for person, kind, day, count in connection.execute(stmt):
            if person is None or person not in roster:
                nobody += count
                continue
            limit = roster.limit(person, str(kind))
            if limit is None:
                continue
            allowed = limit if roster.works_on(person, day) else 0
            most[str(kind)] = max(most[str(kind)], count)
            if count > allowed:
                past.append(f"{person} {kind} {day}: {count} > {allowed}")
    return past, dict(sorted(most.items())), nobody


def copy_sqlite(url: str, target: Path) -> str:
    """A consistent copy of a SQLite database (the backup API), as a URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    source.backup(copy)
    copy.close()
    source.close()
    return f"sqlite:///{target}"


def staff_plan(url: str, staff_count: int) -> dict[str, Any]:
    """The first plan of ``AS_OF`` with ``staff_count`` people on staff, on ``url`` (a
    copy of the imported database); run in a fresh process. Figures as plain values."""
    settings = bench_settings(staff_count)
    crm = Rapport.from_url(url, settings=settings, clock=lambda: NOW)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = crm.plan(AS_OF)
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "seconds": seconds,
        "peak_rss": rss_mb(),
        "load": (load_before, os.getloadavg()[0]),
        "created": report.created,
        "waiting": {name: rule.waiting for name, rule in report.rules.items() if rule.waiting},
        "over_capacity": sum(rule.over_capacity for rule in report.rules.values()),
    }
    crm.close()
    engine = create_engine(url)
    figures["kinds"] = task_kinds(engine)
    figures["past"], figures["most"], figures["nobody"] = past_limits(engine, settings)
    engine.dispose()
    figures["capacity"] = horizon_capacity(settings, AS_OF)
    return figures


def sample_ids(engine: Engine, samples: int) -> list[str]:
    """``samples`` external ids spread evenly over the customers' ids."""
    with engine.connect() as connection:
        low, high = connection.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
        step = max(1, (high - low) // samples)
        wanted = [low + n * step for n in range(samples)]
        rows = connection.execute(
            select(Customer.external_id).where(Customer.id.in_(wanted)).order_by(Customer.id)
        )
        return [external_id for (external_id,) in rows]


def explain_times(
    crm: Rapport, external_ids: list[str], as_of: dt.date
) -> tuple[list[float], Counter[str]]:
    """Seconds per explanation, in order, and how often each verdict came."""
    seconds: list[float] = []
    verdicts: Counter[str] = Counter()
    for external_id in external_ids:
        started = time.perf_counter()
        explanation = crm.explain(external_id, as_of)
        seconds.append(time.perf_counter() - started)
        verdicts.update(f"{v.verdict.value}" for v in explanation.verdicts)
    return seconds, verdicts


#: The days ``rapport simulate`` plans in each run (benchmarks/simulate.py plans more).
SIMULATED_DAYS = 7


def one_run(
    url: str,
    files: dict[str, Path],
    staff_copy: Path | None = None,
    staff_count: int = 0,
    import_only: bool = False,
) -> tuple[dict[str, tuple[float, float, float]], dict[str, Any] | None]:
    """{step: (seconds, rows, peak RSS MB)} for one run on an empty database; with
    ``staff_copy``, also the figures of the first plan with staff on a copy of it."""
    settings = bench_settings()
    crm = Rapport.from_url(url, settings=settings, clock=lambda: NOW)
    crm.migrate()
    results: dict[str, tuple[float, float, float]] = {}

    def step(name: str, work: object) -> None:
        started = time.perf_counter()
        rows = work() if callable(work) else 0  # type: ignore[operator]
        results[name] = (time.perf_counter() - started, float(rows or 0), rss_mb())

    for kind in ("customers", "purchases", "interactions"):
        step(f"import {kind}", lambda kind=kind: crm.import_file(kind, files[kind]).rows)
    # The nightly re-sync: the same customers file again, every row unchanged.
    step(
        "re-import customers (unchanged)",
        lambda: crm.import_file("customers", files["customers"]).unchanged,
    )
    if import_only:
        crm.close()
        return results, None
    staff_url = copy_sqlite(url, staff_copy) if staff_copy is not None else None
    first: list[PlanReport] = []

    def first_plan() -> int:
        first.append(crm.plan(AS_OF))
        return first[0].created

    step("plan (first of the day)", first_plan)
    staff_figures = None
    if staff_url is not None:
        engine = create_engine(url)
        without = task_kinds(engine)
        engine.dispose()
        # A fresh process: its own peak RSS, nothing warm from this one but the OS's
        # file cache (which the plan without staff had too).
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            staff_figures = pool.submit(staff_plan, staff_url, staff_count).result()
        staff_figures["without"] = without
        staff_figures["without_seconds"] = results["plan (first of the day)"][0]
        staff_figures["without_created"] = first[0].created
    # Show what each rule took (the birthday step should grow with the birthdays in the
    # window). Planning renders no messages: the lists below do.
    peak = results["plan (first of the day)"][2]
    for name, rule in first[0].rules.items():
        results[f"    rule {name}"] = (rule.duration_seconds, float(rule.created), peak)
    # Why (not) for single customers: the median of 25 spread over the ids.
    engine = create_engine(url)
    sampled = sample_ids(engine, 25)
    engine.dispose()
    seconds, _ = explain_times(crm, sampled, AS_OF)
    results["explain one customer (median)"] = (statistics.median(seconds), 1.0, rss_mb())
    # A week planned day by day on a throwaway copy (rapport simulate).
    step(
        f"simulate {SIMULATED_DAYS} days",
        lambda: sum(
            crm.simulate(AS_OF, AS_OF + dt.timedelta(days=SIMULATED_DAYS - 1)).totals.values()
        ),
    )
    step("plan (same day again)", lambda: crm.plan(AS_OF).created)
    step("plan (next day)", lambda: crm.plan(AS_OF + dt.timedelta(days=1)).created)
    # Every open task of the two plans (due by the next day's horizon), rendered as a
    # list is: fresh, in list order, nothing written. The first list of a process also
    # compiles the templates and loads Babel's locale data; the second is the figure.
    everything = AS_OF + dt.timedelta(days=1 + crm.settings.planner.horizon_days)
    step("first list (compiles templates)", lambda: len(crm.outreach(everything)))
    step("rendering (outreach list)", lambda: len(crm.outreach(everything)))
    step("outreach CSV", lambda: crm.write_outreach(io.StringIO(), "csv", AS_OF))
    crm.close()
    return results, staff_figures


def print_staff(runs: list[dict[str, Any]], staff_count: int) -> None:
    """The first plan with staff against the one without, and the capacity checks."""
    last = runs[-1]
    seconds = statistics.median(run["seconds"] for run in runs)
    without = statistics.median(run["without_seconds"] for run in runs)
    ratio = statistics.median(run["seconds"] / run["without_seconds"] for run in runs)
    capacity = last["capacity"]
    people = staff(staff_count)
    owners = sum(person["name"].startswith("staff") for person in people)
    horizon = bench_settings().planner.horizon_days
    print(
        f"\nstaff capacity: {staff_count} people ({owners} named like owners, "
        f"{staff_count - owners} by language), per_day call=10 card=20; days "
        f"{AS_OF} to {AS_OF + dt.timedelta(days=horizon)}; capacity "
        + ", ".join(f"{kind} {count:,}" for kind, count in sorted(capacity.items()))
    )
    loads = ", ".join(f"{a:.2f}->{b:.2f}" for a, b in (run["load"] for run in runs))
    print(f"load average (1 min) before->after the plan with staff: {loads}")
    print(f"{'first plan':<32} {'no staff':>12} {f'{staff_count} staff':>12}")
    print(f"{'seconds':<32} {without:>12.2f} {seconds:>12.2f}")
    print(f"{'tasks created':<32} {last['without_created']:>12,} {last['created']:>12,}")
    kinds = sorted(set(last["without"]) | set(last["kinds"]))
    for kind in kinds:
        for which in ("placed", "service", "missed"):
            before = last["without"].get(kind, {}).get(which, 0)
            after = last["kinds"].get(kind, {}).get(which, 0)
            if before or after:
                print(f"{f'  {kind} ({which})':<32} {before:>12,} {after:>12,}")
    waiting = sum(last["waiting"].values())
    print(f"{'waiting':<32} {'-':>12} {waiting:>12,}")
    for rule, count in sorted(last["waiting"].items()):
        print(f"{f'  {rule}':<32} {'':>12} {count:>12,}")
    print(f"{'over_capacity (service)':<32} {'-':>12} {last['over_capacity']:>12,}")
    print(f"{'peak RSS MB (own process)':<32} {'':>12} {last['peak_rss']:>12.0f}")
    print(f"ratio staff plan / plan without staff: {ratio:.2f}")
    verdicts = []
    for kind, limit in sorted(capacity.items()):
        placed = last["kinds"].get(kind, {}).get("placed", 0)
        verdicts.append((f"placed {kind}s {placed:,} <= capacity {limit:,}", placed <= limit))
    most = ", ".join(f"{kind} {count}" for kind, count in last["most"].items())
    verdicts.append(
        (
            f"no person's day past per_day (most on one day: {most}; {len(last['past'])} past)",
            not last["past"],
        )
    )
    verdicts.append(
        (f"limited kinds assigned to nobody on staff: {last['nobody']}", not last["nobody"])
    )
    verdicts.append((f"staff plan {ratio:.2f}x the plan without staff <= 1", ratio <= 1))
    for line, ok in verdicts:
        print(f"{'OK  ' if ok else 'FAIL'} {line}")
    for line in last["past"][:10]:
        print(f"     past: {line}")


def baseline(url: str, tasks: int) -> tuple[float, int]:
    """Hand-written SQL for the same occasions: birthdays in the window, big purchases,
    stale top customers; then inserts as many task rows as rapport's first plan created
    (into a table with a unique occasion key, like rapport's). Returns (seconds, found)."""
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    started = time.perf_counter()
    cursor = connection.cursor()
    days = [AS_OF + dt.timedelta(days=n) for n in range(-30, 15)]
    pairs = ",".join(f"({d.month},{d.day})" for d in days)
    cursor.execute("CREATE TEMP TABLE found (customer_id INTEGER, key TEXT)")
    cursor.execute(
        "INSERT INTO found SELECT id, 'birthday:' || id FROM rapport_customer "
        f"WHERE (birth_month, birth_day) IN (VALUES {pairs})"
    )
    since = (AS_OF - dt.timedelta(days=31)).isoformat()
    cursor.execute(
        "INSERT INTO found SELECT customer_id, 'thanks:' || id FROM rapport_purchase "
        "WHERE occurred_at >= ? AND amount >= 5000000 AND status = 'completed'",
        (since,),
    )
    threshold = cursor.execute(
        "SELECT spend_365d FROM rapport_customer WHERE spend_365d > 0 "
        "ORDER BY spend_365d DESC LIMIT 1 OFFSET "
        "(SELECT CAST(COUNT(*) * 0.2 AS INTEGER) FROM rapport_customer WHERE spend_365d > 0)"
    ).fetchone()
    cursor.execute(
        "INSERT INTO found SELECT id, 'checkin:' || id FROM rapport_customer "
        "WHERE spend_365d >= ? AND last_contact_at < ?",
        ((threshold or (0,))[0], (AS_OF - dt.timedelta(days=90)).isoformat()),
    )
    found = cursor.execute("SELECT COUNT(*) FROM found").fetchone()[0]
    cursor.execute(
        "CREATE TABLE bench_task (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
        "occasion_key TEXT NOT NULL UNIQUE, due_on DATE NOT NULL, status TEXT NOT NULL)"
    )
    cursor.execute(
        "INSERT INTO bench_task (customer_id, occasion_key, due_on, status) "
        "SELECT customer_id, key, ?, 'planned' FROM found LIMIT ?",
        (AS_OF.isoformat(), tasks),
    )
    cursor.executemany(  # as many rows as rapport wrote
        "INSERT INTO bench_task (customer_id, occasion_key, due_on, status) "
        "VALUES (?, ?, ?, 'planned')",
        ((n, f"extra:{n}", AS_OF.isoformat()) for n in range(max(0, tasks - found))),
    )
    connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, int(found)


#: A new customer's rollups, as an import writes them before any purchase (SQL values).
ROLLUPS_AT_FIRST_IMPORT = {
    "first_purchase_at": "NULL",
    "last_purchase_at": "NULL",
    "purchase_count": "0",
    "lifetime_value": "0",
    "spend_365d": "0",
    "spend_365d_as_of": "NULL",
    "last_interaction_at": "NULL",
    "last_contact_at": "NULL",
    "rhythm_visits": "NULL",
    "rhythm_due_on": "NULL",
}


FLOOR_ROLLUPS = """
UPDATE rapport_customer SET purchase_count = t.n, first_purchase_at = t.first,
    last_purchase_at = t.last, lifetime_value = t.value
FROM (SELECT customer_id, count(*) AS n, min(occurred_at) AS first,
             max(occurred_at) AS last, sum(amount) AS value
      FROM rapport_purchase WHERE status = 'completed' GROUP BY customer_id) AS t
WHERE rapport_customer.id = t.customer_id
"""


def import_floor(url: str, folder: Path) -> dict[str, float]:
    """The database's own speed for the rows an import writes: the customers and purchases
    rapport stored, inserted again with Python's ``sqlite3`` ``executemany`` into a fresh
    database with the same tables and indexes. Returns rows/s per table.

    Fair to SQLite: the same page cache as rapport's own connection, rows in the file's
    order, and customers as an import first writes them, before any purchase: their
    rollups empty (final rollups would land at random places in five indexes).
    """
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    target_path = folder / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target_path}{suffix}").unlink(missing_ok=True)
    target = sqlite3.connect(target_path)
    target.execute("PRAGMA journal_mode = WAL")
    target.execute("PRAGMA synchronous = NORMAL")
    target.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
    rates = {}
    for table in ("rapport_customer", "rapport_purchase"):
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
            "ORDER BY type DESC",  # the table before its indexes
            (table,),
        ):
            target.execute(sql)
        # The columns an INSERT writes: not the id, not generated ones (hidden 2 and 3).
        names = [
            name
            for _, name, *_, hidden in source.execute(f"PRAGMA table_xinfo({table})")
            if name != "id" and hidden not in (2, 3)
        ]
        columns = [ROLLUPS_AT_FIRST_IMPORT.get(name, name) for name in names]
        if table != "rapport_customer":
            columns = names
        rows = source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()
        insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        started = time.perf_counter()
        target.executemany(insert, rows)
        target.commit()
        if table == "rapport_purchase":
            # The issue's floor for purchases includes their rollups: one aggregate
            # UPDATE ... FROM of every customer's count, dates and spend.
            target.execute(FLOOR_ROLLUPS)
            target.commit()
        rates[table] = len(rows) / (time.perf_counter() - started)
    source.close()
    target.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL URL (default: SQLite files in a temp folder)")
    parser.add_argument(
        "--staff", type=int, default=0, help="also plan with N people on staff (SQLite)"
    )
    parser.add_argument("--data", type=Path, help="keep the generated files here and reuse them")
    parser.add_argument(
        "--import-only", action="store_true", help="stop each run after the import steps"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    files = generated(args.customers, args.data or folder / "data", as_of=AS_OF)
    staff_runs: list[dict[str, Any]] = []
    if args.staff and args.db:
        print("--staff: skipped on PostgreSQL (it copies the imported SQLite file)")
    runs: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    baselines: list[float] = []
    floors: dict[str, list[float]] = defaultdict(list)
    for run in range(args.runs):
        url = fresh_database(args.db, folder, run)
        staff_copy = folder / f"bench-{run}-staff.db" if args.staff and not args.db else None
        results, staff_figures = one_run(url, files, staff_copy, args.staff, args.import_only)
        if staff_figures is not None:
            staff_runs.append(staff_figures)
            for suffix in ("", "-wal", "-shm"):  # a million customers' copy is big
                Path(f"{staff_copy}{suffix}").unlink(missing_ok=True)
        for name, figures in results.items():
            runs[name].append(figures)
        if args.db is None and not args.import_only:
            created = int(results["plan (first of the day)"][1])
            baselines.append(baseline(url, created)[0])
    if args.db is None:
        # Once, after the runs: it holds every row in memory, which must not count in
        # the runs' peak RSS.
        for table, rate in import_floor(url, folder).items():
            floors[table].append(rate)

    database = "PostgreSQL" if args.db else f"SQLite {sqlite3.sqlite_version}"
    print(
        f"rapport benchmark: {args.customers:,} customers, {database}, median of {args.runs} "
        f"run(s)\nmachine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average at the end "
        f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}\n"
    )
    header = ("seconds", "rows", "rows/s", "peak RSS MB", "x baseline")
    widths = (9, 10, 10, 12, 10)
    print(f"{'step':<32} " + " ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    base = statistics.median(baselines) if baselines else None
    for name, figures in runs.items():
        seconds = statistics.median(f[0] for f in figures)
        rows = statistics.median(f[1] for f in figures)
        peak = max(f[2] for f in figures)
        rate = f"{rows / seconds:,.0f}" if seconds > 0 and rows else "-"
        ratio = f"{seconds / base:.1f}" if base and name == "plan (first of the day)" else ""
        print(f"{name:<32} {seconds:>9.2f} {rows:>10,.0f} {rate:>10} {peak:>12.0f} {ratio:>10}")
    if base is not None:
        print(f"{'baseline (sqlite3)':<32} {base:>9.2f}")
    for table, rates in floors.items():
        kind = table.removeprefix("rapport_")
        floor = statistics.median(rates)
        what = "sqlite3 executemany, same rows" + (
            " + one rollup UPDATE" if kind == "purchase" else ""
        )
        print(f"{f'floor: {kind} rows/s':<32} {floor:>9,.0f}  ({what})")
        step = runs.get(f"import {kind}s")
        if step:
            rate = statistics.median(f[1] / f[0] for f in step)
            print(f"{f'import {kind}s / floor time':<32} {floor / rate:>9.2f}  (target <= 2)")
    if staff_runs:
        print_staff(staff_runs, args.staff)


if __name__ == "__main__":
    main()
