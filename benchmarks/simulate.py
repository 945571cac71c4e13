"""Time ``rapport simulate`` over a period on an existing database.

    python benchmarks/simulate.py --db sqlite:///path/to/shop.db --days 30
    python benchmarks/simulate.py --db postgresql+psycopg://... --from 2026-11-23 --days 30

Plans ``--days`` days from ``--from`` (default: the benchmark's day, 2026-11-23) on a
throwaway copy, each task done on its due day, and prints the time, the time per day
and the tasks per rule; the database is checked unchanged (its rows counted before and
after). The target (issue 17): 30 days at 100,000 customers in under a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import AS_OF, NOW, bench_settings
from sqlalchemy import Engine, func, select

from rapport import Rapport, create_engine
from rapport.models import metadata
from rapport.models.tables import Customer


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="the database URL (migrated, with data)")
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    engine = create_engine(args.db)
    crm = Rapport(engine, settings=bench_settings(), clock=lambda: NOW)
    with engine.connect() as connection:
        customers = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
    before = row_counts(engine)
    started = time.perf_counter()
    result = crm.simulate(args.start, args.start + dt.timedelta(days=args.days - 1))
    seconds = time.perf_counter() - started
    unchanged = row_counts(engine) == before
    print(f"simulate {args.days} days from {args.start} at {customers:,} customers")
    print(f"  seconds           {seconds:.1f} (target < 60 for 30 days at 100,000)")
    print(f"  per day           {seconds / args.days:.2f}")
    print(f"  tasks             {sum(result.totals.values()):,}")
    for rule, count in result.totals.items():
        print(f"    {rule:<22} {count:>8,}")
    print(f"  database unchanged: {unchanged}")
    crm.close()
    engine.dispose()


if __name__ == "__main__":
    main()
