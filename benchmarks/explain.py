"""Time ``rapport explain`` for single customers of an existing database.

    python benchmarks/explain.py --db sqlite:///path/to/shop.db --samples 25
    python benchmarks/explain.py --db postgresql+psycopg://... --as-of 2026-11-23

Picks ``--samples`` customers spread evenly over the ids, explains each one on
``--as-of`` (default: the benchmark's day, 2026-11-23) in a fresh transaction, and
prints the median, the slowest and the first call (which also warms the page cache),
with the verdicts' counts. ``benchmarks/run.py`` prints the same median for the
database it builds. The target (issue 17): under 0.2 s for one customer at 1,000,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import AS_OF, NOW, bench_settings, explain_times, sample_ids
from sqlalchemy import func, select

from rapport import Rapport, create_engine
from rapport.models.tables import Customer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="the database URL (migrated, with data)")
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    args = parser.parse_args()
    engine = create_engine(args.db)
    crm = Rapport(engine, settings=bench_settings(), clock=lambda: NOW)
    with engine.connect() as connection:
        customers = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
    ids = sample_ids(engine, args.samples)
    seconds, verdicts = explain_times(crm, ids, args.as_of)
    print(f"explain at {customers:,} customers, {len(ids)} of them, as of {args.as_of}")
    print(f"  first call        {seconds[0]:.3f} s (warms the cache)")
    print(f"  median            {statistics.median(seconds):.3f} s (target < 0.2 s)")
    print(f"  slowest           {max(seconds):.3f} s")
    print(f"  verdicts          {', '.join(f'{k} {n}' for k, n in verdicts.most_common())}")
    crm.close()
    engine.dispose()


if __name__ == "__main__":
    main()
