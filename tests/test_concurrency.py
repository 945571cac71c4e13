"""Planners and imports started at the same moment against one database.

Real processes, not threads: each worker is a separate Python process with its own
connection, as cron jobs on several hosts would be. PostgreSQL runs them side by side;
SQLite has one writer at a time, so there the second waits, or says the database is busy.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from rapport import Rapport, create_engine
from rapport.models import Customer, OutreachTask, Purchase
from tests.conftest import tried

WORKER = """
import datetime as dt, sys, time
from rapport import Rapport
url, start_at = sys.argv[1], float(sys.argv[2])
with Rapport.from_url(url) as crm:
    crm.check_schema()
    time.sleep(max(0.0, start_at - time.time()))
    report = crm.plan(dt.date(2026, 3, 1))
    print(report.created)
"""

AS_OF = dt.date(2026, 3, 1)


def run_at_once(commands: list[list[str]]) -> list[str]:
    """Start every command at once, wait for all; each must exit 0. Their outputs."""
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, out + err
    return [out for out, _ in results]


def seed(url: str, customers: int) -> int:
    """Customers with birthdays, big purchases and stale contacts; returns the expected
    number of tasks for AS_OF (from a dry run)."""
    with Rapport.from_url(url) as crm:
        crm.migrate()
        crm.upsert_customers(
            {
                "external_id": f"C-{n}",
                "address_line1": "Rantakatu 5",
                "city": "Helsinki",
                "phone": "+358 40 123 4567",
                "birthday": f"--03-{n % 9 + 1:02d}",
                "tags": ["vip"] if n % 5 == 0 else [],
            }
            for n in range(customers)
        )
        crm.record_purchases(
            {
                "customer_id": f"C-{n}",
                "external_id": f"P-{n}",
                "occurred_at": dt.datetime(2026, 2, 27, 12, tzinfo=dt.UTC),
                "amount": 900,
            }
            for n in range(0, customers, 3)
        )
        return crm.plan(AS_OF, dry_run=True).created


def test_four_planners_at_once_create_each_occasion_exactly_once(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    expected = seed(fresh_postgres_url, 5000)
    assert expected > 5000
    start_at = time.time() + 3
    outputs = run_at_once(
        [[sys.executable, "-c", WORKER, fresh_postgres_url, str(start_at)] for _ in range(4)]
    )
    created = [int(out.strip()) for out in outputs]
    tried(
        f"concurrency: 4 PostgreSQL planners at once created {created} tasks; {expected} expected"
    )
    assert sum(created) == expected

    engine = create_engine(fresh_postgres_url)
    try:
        with engine.connect() as connection:
            total, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(OutreachTask.occasion_key)))
            ).one()
    finally:
        engine.dispose()
    assert total == distinct == expected


SHARD_WORKER = """
import datetime as dt, sys, time
from rapport import Rapport
url, shard, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
with Rapport.from_url(url) as crm:
    time.sleep(max(0.0, start_at - time.time()))
    print(crm.plan(dt.date(2026, 3, 1), shard=shard).created)
"""


def occasion_keys(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(select(OutreachTask.occasion_key)).scalars())
    finally:
        engine.dispose()


def test_four_shards_at_once_create_exactly_what_one_run_creates(
    fresh_postgres_url: str,
) -> None:
    from tests.conftest import fresh_postgres_database

    seed(fresh_postgres_url, 2000)
    start_at = time.time() + 3
    outputs = run_at_once(
        [
            [sys.executable, "-c", SHARD_WORKER, fresh_postgres_url, f"{k}/4", str(start_at)]
            for k in range(1, 5)
        ]
    )
    created = [int(out.strip()) for out in outputs]
    tried(f"concurrency: 4 PostgreSQL shards at once created {created} tasks")
    assert all(n > 0 for n in created)

    with fresh_postgres_database() as reference:
        seed(reference, 2000)
        with Rapport.from_url(reference) as crm:
            crm.plan(AS_OF)
        expected = occasion_keys(reference)
    sharded = occasion_keys(fresh_postgres_url)
    assert sharded == expected  # no duplicates, no gaps
    assert sum(created) == len(expected)


# ---------------------------------------------------------------- overlapping imports


def purchase_row(n: int) -> str:
    """Purchase P-n, the same in every file that holds it (C-n//2, some refunded)."""
    status = "refunded" if n % 17 == 0 else "completed"
    day = dt.date(2025, 1, 1) + dt.timedelta(days=n % 600)
    return f"P-{n},C-{n // 2},{day.isoformat()}T12:00:00Z,{10 + n % 500}.25,{status}\n"


def import_files(folder: Path, name: str, customers: range) -> tuple[Path, Path]:
    people = folder / f"{name}-customers.csv"
    people.write_text(
        "external_id,first_name,city\n" + "".join(f"C-{n},Aino,Oulu\n" for n in customers)
    )
    bought = folder / f"{name}-purchases.csv"
    bought.write_text(
        "purchase_id,customer_id,occurred_at,amount,status\n"
        + "".join(purchase_row(n) for n in range(2 * customers.start, 2 * customers.stop))
    )
    return people, bought


def test_two_imports_of_overlapping_files_at_once_leave_exact_rollups(
    fresh_url: str, tmp_path: Path
) -> None:
    with Rapport.from_url(fresh_url) as crm:
        crm.migrate()
    first = import_files(tmp_path, "a", range(0, 3000))
    second = import_files(tmp_path, "b", range(2000, 5000))  # 1,000 customers in both
    script = Path(sys.executable).with_name("rapport")
    start_at = time.time() + 2
    run_at_once(
        [
            [
                "sh",
                "-c",
                f'sleep {start_at - time.time():.2f}; "$0" import customers "$1" --db "$3" '
                f'&& "$0" import purchases "$2" --db "$3"',
                str(script),
                str(people),
                str(bought),
                fresh_url,
            ]
            for people, bought in (first, second)
        ]
    )

    # What the rollups must be, from the rows of the two files.
    expected: dict[str, tuple[int, Decimal]] = {}
    for n in range(0, 10_000):
        _, customer, _, amount, status = purchase_row(n).strip().split(",")
        count, total = expected.get(customer, (0, Decimal(0)))
        if status == "completed":
            count, total = count + 1, total + Decimal(amount)
        expected[customer] = (count, total)
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as connection:
            stored = {
                row.external_id: (row.purchase_count, row.lifetime_value)
                for row in connection.execute(
                    select(Customer.external_id, Customer.purchase_count, Customer.lifetime_value)
                )
            }
            purchases, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(Purchase.external_id)))
            ).one()
    finally:
        engine.dispose()
    tried(
        f"concurrency: two imports at once ({fresh_url.split(':')[0]}): {len(stored)} customers "
        f"(1,000 in both files), {purchases} purchases (2,000 in both files), "
        "rollups checked for every customer"
    )
    assert (purchases, distinct) == (10_000, 10_000)
    assert stored == expected


# ---------------------------------------------------------------- SQLite: one writer


def seed_sqlite(path: Path, customers: int) -> tuple[str, int]:
    url = f"sqlite:///{path}"
    return url, seed(url, customers)


def test_two_sqlite_planners_at_once_plan_each_occasion_once(tmp_path: Path) -> None:
    url, expected = seed_sqlite(tmp_path / "shared.db", 2000)
    script = Path(sys.executable).with_name("rapport")
    run_at_once([[str(script), "plan", "--as-of", AS_OF.isoformat(), "--db", url]] * 2)
    keys = occasion_keys(url)
    tried(f"concurrency: two SQLite planners at once: {len(keys)} tasks, {expected} expected")
    assert len(keys) == len(set(keys)) == expected


def test_a_sqlite_planner_that_cannot_write_says_the_database_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    url, expected = seed_sqlite(path, 300)
    script = Path(sys.executable).with_name("rapport")
    command = [str(script), "plan", "--as-of", AS_OF.isoformat(), "--db", f"{url}?timeout=1"]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        started = time.perf_counter()
        busy = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        waited = time.perf_counter() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.returncode == 1
    assert "database is busy" in busy.stderr
    assert "retry" in busy.stderr
    assert "Traceback" not in busy.stderr
    assert occasion_keys(url) == []  # nothing half-written
    retried = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert retried.returncode == 0, retried.stderr
    keys = occasion_keys(url)
    assert len(keys) == len(set(keys)) == expected
    tried(
        f"concurrency: SQLite busy: failed cleanly after {waited:.1f} s "
        f"({busy.stderr.strip()!r}); the retry planned {expected} tasks"
    )


# ---------------------------------------------------------------- staff capacity

PER_DAY = {"aino": {"call": 3, "card": 40}, "eero": {"call": 2, "card": 30}}
STAFF = [{"name": name, "per_day": limits} for name, limits in PER_DAY.items()]
LIMITS = {(name, kind): n for name, limits in PER_DAY.items() for kind, n in limits.items()}

STAFF_WORKER = """
import datetime as dt, json, sys, time
from rapport import Rapport, parse_settings
url, shard, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
settings = parse_settings({"staff": json.loads(sys.argv[4])})
with Rapport.from_url(url, settings=settings) as crm:
    time.sleep(max(0.0, start_at - time.time()))
    report = crm.plan(dt.date(2026, 3, 1), shard=None if shard == "-" else shard)
    print(report.created, sum(rule.waiting for rule in report.rules.values()))
"""


def load_per_day(url: str) -> dict[tuple[str, str, dt.date], int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    OutreachTask.assigned_to,
                    OutreachTask.kind,
                    OutreachTask.due_on,
                    func.count(),
                )
                .where(OutreachTask.service.is_(False))
                .group_by(OutreachTask.assigned_to, OutreachTask.kind, OutreachTask.due_on)
            )
            return {(str(person), str(kind), day): n for person, kind, day, n in rows}
    finally:
        engine.dispose()


def plan_with_staff_at_once(url: str, shards: list[str]) -> list[tuple[int, int]]:
    import json

    start_at = time.time() + 3
    outputs = run_at_once(
        [
            [sys.executable, "-c", STAFF_WORKER, url, shard, str(start_at), json.dumps(STAFF)]
            for shard in shards
        ]
    )
    return [(int(out.split()[0]), int(out.split()[1])) for out in outputs]


def assert_within_capacity(url: str) -> int:
    loads = load_per_day(url)
    for (person, kind, day), count in loads.items():
        assert person in ("aino", "eero")
        limit = LIMITS.get((str(person), kind))  # None: the kind is unlimited
        assert limit is None or count <= limit, f"{person}: {count} {kind} tasks on {day}"
    return sum(loads.values())


def test_four_planners_with_staff_at_once_never_exceed_anyone_s_capacity(
    fresh_postgres_url: str,
) -> None:
    seed(fresh_postgres_url, 3000)
    results = plan_with_staff_at_once(fresh_postgres_url, ["-"] * 4)
    tried(f"concurrency: 4 PostgreSQL planners with staff at once: (created, waiting) {results}")
    total = assert_within_capacity(fresh_postgres_url)
    assert sum(created for created, _ in results) == total > 0
    assert any(waiting > 0 for _, waiting in results)  # capacity did bind
    assert occasion_keys(fresh_postgres_url) == sorted(set(occasion_keys(fresh_postgres_url)))


def test_four_shards_with_staff_at_once_share_one_capacity_per_person(
    fresh_postgres_url: str,
) -> None:
    seed(fresh_postgres_url, 3000)
    results = plan_with_staff_at_once(fresh_postgres_url, [f"{k}/4" for k in range(1, 5)])
    tried(f"concurrency: 4 PostgreSQL shards with staff at once: (created, waiting) {results}")
    total = assert_within_capacity(fresh_postgres_url)
    assert sum(created for created, _ in results) == total > 0
    # Shard by shard the capacity fills up: together they create what one person's
    # days hold, not four times as much.
    cards = sum(n for (_, kind, _), n in load_per_day(fresh_postgres_url).items() if kind == "card")
    assert cards == (40 + 30) * 5  # Sunday 1 March to Sunday 8 March: five working days
