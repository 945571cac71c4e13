"""Helpers for your own tests: a ready rapport database, and customers, purchases and a
day's plan built in one line each.

```python
import datetime as dt
import pytest
from rapport.testing import add_customer, add_purchase, plan_day, rapport_for_tests

@pytest.fixture
def crm():
    with rapport_for_tests(now=dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC)) as crm:
        yield crm

def test_a_big_first_purchase_gets_a_thank_you(crm):
    add_customer(crm, "C-1")
    add_purchase(crm, "C-1", amount="900.00")
    assert "thank_you_note" in [task.rule for task in plan_day(crm)]
```

Nothing here needs pytest; the helpers go through the public API only, so what your
tests see is what your app gets.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rapport._api import Rapport
from rapport.config import Settings
from rapport.database import create_engine, migrate
from rapport.models.enums import OPEN_TASK_STATUSES
from rapport.models.schemas import CustomerOut, PurchaseOut, TaskOut
from rapport.rules import Rule

__all__ = [
    "DEFAULT_NOW",
    "FixedClock",
    "add_customer",
    "add_purchase",
    "plan_day",
    "rapport_for_tests",
]

#: The moment a test database's clock shows unless you give ``now``: a Sunday morning,
#: fixed so that a test's plan does not change with the day it runs.
DEFAULT_NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)

# Purchases made by the helpers get their own external ids, so recording them is never
# mistaken for a repeat of an earlier one (rapport ignores a purchase id it has seen).
_purchase_numbers = itertools.count(1)


class FixedClock:
    """A clock that stands still until the test moves it, so "now" is the same on every
    run: pass it as ``Rapport(..., clock=FixedClock(...))``."""

    def __init__(self, now: dt.datetime = DEFAULT_NOW) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime, e.g. tzinfo=dt.UTC")
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock on by ``datetime.timedelta(**delta)`` (``days=1``, ``hours=3``)."""
        self.now += dt.timedelta(**delta)


@contextmanager
def rapport_for_tests(
    url: str | None = None,
    *,
    now: dt.datetime | FixedClock = DEFAULT_NOW,
    settings: Settings | None = None,
    rules: Sequence[type[Rule]] = (),
    currency: str | None = "EUR",
) -> Iterator[Rapport]:
    """A migrated rapport database for one test, removed afterwards.

    Without ``url`` the database is a SQLite file in a temporary folder (a file, not
    ``:memory:``, so that threads such as a web framework's test client see the same
    data). With ``url`` (say, your PostgreSQL test database) rapport's tables are created
    or upgraded there and left for you to drop. The clock stands at ``now``; to move it,
    pass a :class:`FixedClock` you keep and call its ``advance(days=1)``.
    """
    clock = now if isinstance(now, FixedClock) else FixedClock(now)
    with tempfile.TemporaryDirectory(prefix="rapport-test-") as folder:
        engine = create_engine(url or f"sqlite:///{Path(folder) / 'rapport.db'}")
        try:
            migrate(engine)
            yield Rapport(engine, settings=settings, rules=rules, currency=currency, clock=clock)
        finally:
            engine.dispose()


def add_customer(crm: Rapport, external_id: str = "C-1", **fields: Any) -> CustomerOut:
    """Create (or update) a customer who can be reached: a name, an email address with
    consent to write to it, English, and the business's timezone. ``fields`` override
    any of these or add others, exactly as :meth:`Rapport.upsert_customer` takes them."""
    customer: dict[str, Any] = {
        "external_id": external_id,
        "first_name": "Test",
        "last_name": external_id,
        "email": f"{external_id.lower().replace(' ', '-')}@example.com",
        "language": "en",
        "timezone": crm.settings.business.timezone,
        "consent_email": "granted",
        "consent_source": "rapport.testing",
    }
    customer.update(fields)
    return crm.upsert_customer(customer)


def add_purchase(
    crm: Rapport,
    customer_id: str = "C-1",
    *,
    amount: str = "100.00",
    days_ago: float = 1,
    **fields: Any,
) -> PurchaseOut:
    """Record a purchase ``days_ago`` days before the clock's now (``occurred_at`` in
    ``fields`` wins), with an external id of its own unless ``fields`` names one."""
    purchase: dict[str, Any] = {
        "customer_id": customer_id,
        "external_id": f"test-purchase-{next(_purchase_numbers)}",
        "occurred_at": crm.now() - dt.timedelta(days=days_ago),
        "amount": amount,
        "description": "Test purchase",
    }
    purchase.update(fields)
    return crm.record_purchase(purchase)


def plan_day(crm: Rapport, as_of: dt.date | None = None) -> list[TaskOut]:
    """Plan ``as_of`` (default: the clock's today in the business timezone) and return
    the tasks open on that day, soonest first, as staff would see them."""
    day = as_of if as_of is not None else crm.today()
    crm.plan(day)
    return crm.find_tasks(status=OPEN_TASK_STATUSES, due_by=day)
