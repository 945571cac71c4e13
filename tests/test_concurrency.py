"""Planners started at the same moment against one PostgreSQL database.

Real processes, not threads: each worker is a separate Python process with its own
connection, as cron jobs on several hosts would be.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from rapport import Rapport, create_engine
from rapport.models import OutreachTask

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
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, fresh_postgres_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    created = [int(out.strip()) for out, _ in results]
    print(f"planners created {created} tasks; expected {expected} in all")
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
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", SHARD_WORKER, fresh_postgres_url, f"{k}/4", str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(1, 5)
    ]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    created = [int(out.strip()) for out, _ in results]
    print(f"shards created {created} tasks")
    assert all(n > 0 for n in created)

    with fresh_postgres_database() as reference:
        seed(reference, 2000)
        with Rapport.from_url(reference) as crm:
            crm.plan(AS_OF)
        expected = occasion_keys(reference)
    sharded = occasion_keys(fresh_postgres_url)
    assert sharded == expected  # no duplicates, no gaps
    assert sum(created) == len(expected)
