"""Reads and writes rapport's data through a ``Session`` it is given.

The store never commits: whoever opened the session (rapport's own API, or a host app)
decides. Writes are set-based (one statement per table per batch), and every write that
changes a customer's history refreshes that customer's rollups in the same transaction,
so the daily run never has to re-aggregate all history.

One module per aggregate, each the only one that writes its tables (erasure, in
:mod:`rapport.privacy`, asks each of them in turn). Rules select their candidates with
their own set-based SQL, as listings, metrics and exports read theirs; none of them
writes:

* :mod:`~rapport.store.customers`: customers, tags, interests, family, important dates,
  import digests, the profile;
* :mod:`~rapport.store.consent`: consent answers and their log;
* :mod:`~rapport.store.history`: purchases, refunds, interactions, cases, promises,
  surveys;
* :mod:`~rapport.store.tasks`: outreach tasks and the load they put on staff;
* :mod:`~rapport.store.waiting`: the occasions waiting for staff capacity;
* :mod:`~rapport.store.runs`: the planner's reports of its runs;
* :mod:`~rapport.store.rollups`: the rollups on customer rows and their checkpoints,
  with :mod:`~rapport.store.rhythm` computing the rhythm rollups by set;
* :mod:`~rapport.store.rows`: the one insert helper and the one "which keys are stored"
  lookup they all use, and PostgreSQL's statistics after a bulk load.

:class:`Store` is their composition, the one object callers use.
"""

from __future__ import annotations

from rapport.store._base import StoreBase, WriteSummary, customer_out, owned_out
from rapport.store.consent import ConsentStore
from rapport.store.customers import (
    CustomerOrder,
    CustomerStore,
    family_member_out,
    important_date_out,
)
from rapport.store.history import (
    HistoryStore,
)
from rapport.store.rollups import (
    RHYTHM_DAYS,
    RHYTHM_ZONE_CHECKPOINT,
    ROLLUP_BATCH,
    TRAILING_DAYS,
    TRAILING_SPEND_CHECKPOINT,
    RollupStore,
    trailing_spend_cutoff,
    trailing_spend_refreshed_to,
)
from rapport.store.rows import (
    CHUNK,
    INSERT_BATCH,
    chunked,
    insert_rows,
    insert_values,
    stored_keys,
    stored_rows,
)
from rapport.store.tasks import TaskStore, TaskWords


class Store(CustomerStore, ConsentStore, HistoryStore, RollupStore, TaskStore):
    """rapport's reads and writes on one session: every aggregate's part in one object.

    ``currency`` is the business currency: money rollups (lifetime value, trailing
    spend) add up purchases in that currency only, since rapport keeps no exchange rates.
    """


__all__ = [
    "CHUNK",
    "INSERT_BATCH",
    "RHYTHM_DAYS",
    "RHYTHM_ZONE_CHECKPOINT",
    "ROLLUP_BATCH",
    "TRAILING_DAYS",
    "TRAILING_SPEND_CHECKPOINT",
    "ConsentStore",
    "CustomerOrder",
    "CustomerStore",
    "HistoryStore",
    "RollupStore",
    "Store",
    "StoreBase",
    "TaskStore",
    "TaskWords",
    "WriteSummary",
    "chunked",
    "customer_out",
    "family_member_out",
    "important_date_out",
    "insert_rows",
    "insert_values",
    "owned_out",
    "stored_keys",
    "stored_rows",
    "trailing_spend_cutoff",
    "trailing_spend_refreshed_to",
]
