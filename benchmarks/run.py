"""Benchmark rapport on a generated customer base and print one table of medians.

    python benchmarks/run.py --customers 10000 --runs 3
    python benchmarks/run.py --customers 10000 --db postgresql://user@host/db

Each run starts from an empty database: import (through the public API), the first plan
of a day, the same plan again, the next day's plan, rendering the outreach list of every
open task twice (words written fresh, nothing stored; the second list is the "rendering"
figure, the first also compiles the templates), and the outreach CSV. On SQLite a
baseline runs too: the smallest hand-written SQL (Python's ``sqlite3``) that finds the
same kinds of occasions through the same indexes and inserts as many rows; the table
shows rapport's time divided by the baseline's. Peak RSS is the process's high-water
mark after each step.
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
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from sqlalchemy import text

from rapport import PlanReport, Rapport, create_engine, parse_settings

AS_OF = dt.date(2026, 11, 23)


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


def one_run(url: str, files: dict[str, Path]) -> dict[str, tuple[float, float, float]]:
    """{step: (seconds, rows, peak RSS MB)} for one run on an empty database."""
    settings = parse_settings(
        {"business": {"timezone": "Europe/Helsinki", "country": "FI", "name": "Bench"}}
    )
    now = dt.datetime.combine(AS_OF, dt.time(5), tzinfo=dt.UTC)
    crm = Rapport.from_url(url, settings=settings, clock=lambda: now)
    crm.migrate()
    results: dict[str, tuple[float, float, float]] = {}

    def step(name: str, work: object) -> None:
        started = time.perf_counter()
        rows = work() if callable(work) else 0  # type: ignore[operator]
        results[name] = (time.perf_counter() - started, float(rows or 0), rss_mb())

    for kind in ("customers", "purchases", "interactions"):
        step(f"import {kind}", lambda kind=kind: crm.import_file(kind, files[kind]).rows)
    first: list[PlanReport] = []

    def first_plan() -> int:
        first.append(crm.plan(AS_OF))
        return first[0].created

    step("plan (first of the day)", first_plan)
    # Show what each rule took (the birthday step should grow with the birthdays in the
    # window). Planning renders no messages: the lists below do.
    peak = results["plan (first of the day)"][2]
    for name, rule in first[0].rules.items():
        results[f"    rule {name}"] = (rule.duration_seconds, float(rule.created), peak)
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
    return results


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


def import_floor(url: str, folder: Path) -> dict[str, float]:
    """The database's own speed for the rows an import writes: the customers and purchases
    rapport stored, inserted again with Python's ``sqlite3`` ``executemany`` into a fresh
    database with the same tables and indexes. Returns rows/s per table."""
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    target_path = folder / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target_path}{suffix}").unlink(missing_ok=True)
    target = sqlite3.connect(target_path)
    target.execute("PRAGMA journal_mode = WAL")
    target.execute("PRAGMA synchronous = NORMAL")
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
        rows = source.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
        insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        started = time.perf_counter()
        target.executemany(insert, rows)
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
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    files = generate(args.customers, folder / "data", as_of=AS_OF)
    runs: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    baselines: list[float] = []
    floors: dict[str, list[float]] = defaultdict(list)
    for run in range(args.runs):
        url = fresh_database(args.db, folder, run)
        results = one_run(url, files)
        for name, figures in results.items():
            runs[name].append(figures)
        if args.db is None:
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
        f"{platform.python_version()}\n"
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
        label = f"floor: {table.removeprefix('rapport_')} rows/s"
        print(f"{label:<32} {statistics.median(rates):>9,.0f}  (sqlite3 executemany, same rows)")


if __name__ == "__main__":
    main()
