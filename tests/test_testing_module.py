"""rapport.testing: a ready database and builders for users' own tests, and the example
of docs/embedding.md that uses them, run as shown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rapport import Channel, ConsentState, Rapport, TaskStatus
from rapport.testing import (
    DEFAULT_NOW,
    FixedClock,
    add_customer,
    add_purchase,
    plan_day,
    rapport_for_tests,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def crm(fresh_url: str) -> Iterator[Rapport]:
    with rapport_for_tests(fresh_url) as crm:
        yield crm


def test_rapport_for_tests_gives_a_migrated_database_with_the_clock_fixed() -> None:
    with rapport_for_tests() as crm:
        crm.check_schema()
        assert crm.now() == DEFAULT_NOW
        assert crm.find_tasks() == []


def test_rapport_for_tests_removes_its_temporary_database_afterwards() -> None:
    with rapport_for_tests() as crm:
        folder = Path(str(crm._engine.url.database)).parent  # type: ignore[union-attr]
        assert folder.exists()
    assert not folder.exists()


def test_each_test_database_starts_empty() -> None:
    with rapport_for_tests() as first:
        add_customer(first, "C-1")
    with rapport_for_tests() as second:
        assert second.find_customers() == []


def test_add_customer_makes_a_customer_who_can_be_emailed(crm: Rapport) -> None:
    customer = add_customer(crm, "C-7", first_name="Aino")
    assert customer.first_name == "Aino"
    assert customer.email == "c-7@example.com"
    assert customer.consent[Channel.EMAIL].state is ConsentState.GRANTED


def test_add_purchase_records_a_purchase_before_now_with_an_id_of_its_own(
    crm: Rapport,
) -> None:
    add_customer(crm, "C-1")
    first = add_purchase(crm, "C-1", amount="10.00", days_ago=3)
    second = add_purchase(crm, "C-1", amount="10.00", days_ago=3)
    assert first.external_id != second.external_id
    assert first.occurred_at == DEFAULT_NOW - dt.timedelta(days=3)
    assert crm.get_profile("C-1").lifetime_value == Decimal("20.00")


def test_plan_day_returns_the_open_tasks_of_the_clocks_today(crm: Rapport) -> None:
    add_customer(crm, "C-1", birthday="1990-11-28")
    tasks = plan_day(crm)
    assert "birthday_card" in [task.rule for task in tasks]
    assert all(task.status is TaskStatus.PLANNED for task in tasks)
    assert all(task.due_on <= crm.today() for task in tasks)


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC))
    with rapport_for_tests(now=clock) as crm:
        assert crm.today() == dt.date(2026, 1, 1)
        clock.advance(days=2)
        assert crm.today() == dt.date(2026, 1, 3)


def test_a_fixed_clock_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(dt.datetime(2026, 1, 1, 9))


def test_the_testing_example_in_the_docs_passes() -> None:
    text = (ROOT / "docs" / "embedding.md").read_text()
    [example] = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        if "rapport.testing" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/embedding.md", "exec"), namespace)
    tests = [name for name in namespace if name.startswith("test_")]
    assert len(tests) == 3
    for name in tests:
        # What pytest would do: a fresh clock and database for each test.
        clock = namespace["clock"].__wrapped__()
        with rapport_for_tests(now=clock) as crm:
            arguments = {"crm": crm, "clock": clock}
            wanted = namespace[name].__code__.co_varnames[: namespace[name].__code__.co_argcount]
            namespace[name](*(arguments[argument] for argument in wanted))
