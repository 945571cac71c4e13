"""``Rapport.simulate`` and ``rapport simulate``: a period planned day by day on a
throwaway copy, on SQLite and PostgreSQL.

The database is checked unchanged after it (byte for byte on SQLite), and every day's
counts are checked against planning the same days for real and marking each task done.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from rapport import Rapport, TaskKind, TaskStatus, parse_settings
from rapport.database import sqlite_file
from rapport.demo import (
    demo_cases,
    demo_customers,
    demo_interactions,
    demo_promises,
    demo_purchases,
)
from rapport.models import metadata
from rapport.simulate import UNASSIGNED
from tests.conftest import FixedClock
from tests.test_cli import rapport_cli

START = dt.date(2026, 11, 23)
DAYS = 7
SEED = 11
BUSINESS = {"name": "Harbour Books", "timezone": "Europe/Helsinki", "country": "FI"}
STAFF = [
    {"name": "maria", "languages": ["fi", "sv"], "per_day": {"call": 2, "card": 4}},
    {"name": "lucia", "languages": ["es", "it", "en", "pl"], "per_day": {"call": 2}},
]


def shop(crm: Rapport, customers: int = 150) -> None:
    """The demo's customers, purchases, contacts, complaints and promises."""
    people = list(demo_customers(customers, seed=SEED, as_of=START))
    crm.upsert_customers(people)
    crm.record_purchases(demo_purchases(people, seed=SEED, as_of=START, currency="EUR"))
    ids = [person["external_id"] for person in people]
    crm.record_interactions(demo_interactions(ids, seed=SEED, as_of=START))
    for case, resolved_at in demo_cases(ids, seed=SEED, as_of=START):
        opened = crm.open_case(case)
        if resolved_at is not None:
            crm.resolve_case(opened.id, at=resolved_at, on_first_contact=True)
    for promise in demo_promises(ids, seed=SEED, as_of=START):
        crm.create_promise(promise)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for table in metadata.sorted_tables
        }


def file_digest(engine: Engine) -> str | None:
    """The SQLite file's bytes, hashed, once no connection holds it open (None: a server)."""
    file = sqlite_file(engine.url)
    if file is None:
        return None
    engine.dispose()  # closing the pool checkpoints the write-ahead log into the file
    return hashlib.sha256(file.read_bytes()).hexdigest()


def day_lists(crm: Rapport, clock: FixedClock, days: int) -> list[dict[str, Any]]:
    """Plan each day for real, as the morning job does, and mark each task on the day's
    list done at noon, as staff would: the day's counts, in ``simulate``'s form."""
    found = []
    for n in range(days):
        day = START + dt.timedelta(days=n)
        clock.now = dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC)  # 06:00 Helsinki
        crm.plan(day)
        listed = crm.find_tasks(status=[TaskStatus.PLANNED, TaskStatus.SNOOZED], due_by=day)
        waiting = crm.staff_load(day, 1).waiting
        found.append(
            {
                "day": day,
                "rules": dict(sorted(Counter(t.rule for t in listed).items())),
                "staff": dict(sorted(Counter(t.assigned_to or UNASSIGNED for t in listed).items())),
                "waiting": sum(waiting.values()),
            }
        )
        noon = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)  # 12:00 Helsinki
        for task in listed:
            crm.complete_task(task.id, at=noon)
    return found


@pytest.mark.parametrize("with_staff", [False, True], ids=["no staff", "staff"])
def test_simulate_writes_nothing_and_counts_what_planning_for_real_does(
    engine: Engine, clock: FixedClock, rapport: Rapport, with_staff: bool
) -> None:
    settings = parse_settings(
        {"business": BUSINESS, "staff": STAFF if with_staff else [], "rules": {}}
    )
    clock.now = dt.datetime.combine(START, dt.time(4), tzinfo=dt.UTC)
    crm = Rapport(engine, settings=settings, clock=clock)
    shop(crm)
    before, before_file = dump(engine), file_digest(engine)
    simulated = crm.simulate(START, START + dt.timedelta(days=DAYS - 1))
    assert dump(engine) == before
    assert file_digest(engine) == before_file
    assert [day.day for day in simulated.days] == [
        START + dt.timedelta(days=n) for n in range(DAYS)
    ]
    assert sum(simulated.totals.values()) > DAYS  # the demo's week has work every day
    assert simulated.totals == dict(
        sorted(sum((Counter(day.rules) for day in simulated.days), Counter()).items())
    )
    real = day_lists(crm, clock, DAYS)
    assert [day.model_dump() for day in simulated.days] == real
    if with_staff:
        assert any(day.waiting for day in simulated.days)  # two people cannot call them all


def test_other_settings_side_by_side(engine: Engine, clock: FixedClock, rapport: Rapport) -> None:
    clock.now = dt.datetime.combine(START, dt.time(4), tzinfo=dt.UTC)
    crm = Rapport(engine, settings=parse_settings({"business": BUSINESS}), clock=clock)
    shop(crm)
    cheaper = parse_settings(
        {"business": BUSINESS, "rules": {"thank_you_note": {"min_amount": 50}}}
    )
    result = crm.simulate(
        START, START + dt.timedelta(days=2), compare=cheaper, compare_name="cheaper.toml"
    )
    assert result.config == "cheaper.toml"
    assert result.other is not None
    assert [day.day for day in result.other.days] == [day.day for day in result.days]
    # A lower threshold thanks more purchases; the other rules are the same.
    assert result.other.totals["thank_you_note"] > result.totals.get("thank_you_note", 0)
    mine = {rule: n for rule, n in result.totals.items() if rule != "thank_you_note"}
    theirs = {rule: n for rule, n in result.other.totals.items() if rule != "thank_you_note"}
    assert set(mine) <= set(theirs)


def test_nothing_done_keeps_the_tasks_on_the_list(
    engine: Engine, clock: FixedClock, rapport: Rapport
) -> None:
    clock.now = dt.datetime.combine(START, dt.time(4), tzinfo=dt.UTC)
    crm = Rapport(engine, settings=parse_settings({"business": BUSINESS}), clock=clock)
    shop(crm, customers=60)
    done = crm.simulate(START, START + dt.timedelta(days=2))
    open_ = crm.simulate(START, START + dt.timedelta(days=2), done_on_due_day=False)
    assert not open_.done_on_due_day
    assert open_.days[0].rules == done.days[0].rules  # the same first morning

    def total(day: Any) -> int:
        return sum(day.rules.values())

    # Nothing done: each day's list still holds the earlier days' open tasks.
    for left_open, all_done in zip(open_.days, done.days, strict=True):
        assert total(left_open) >= total(all_done)
    assert total(open_.days[1]) > total(done.days[1])
    # The totals count each task once, however many days it stayed on the list.
    assert sum(open_.totals.values()) < sum(total(day) for day in open_.days)
    assert sum(open_.totals.values()) >= total(open_.days[-1])


def test_a_database_path_with_uri_characters_is_copied_read_only(tmp_path: Path) -> None:
    """A folder named with a # is still opened read-only for the copy (in a URI written
    by hand, # would end the path), and nothing appears beside it."""
    folder = tmp_path / "shop #1"
    folder.mkdir()
    clock = FixedClock(dt.datetime.combine(START, dt.time(4), tzinfo=dt.UTC))
    settings = parse_settings({"business": BUSINESS})
    with Rapport.from_url(f"sqlite:///{folder / 'shop.db'}", settings=settings, clock=clock) as crm:
        crm.migrate()
        shop(crm, customers=30)
    before = hashlib.sha256((folder / "shop.db").read_bytes()).hexdigest()
    listing = sorted(path.name for path in tmp_path.iterdir())
    with Rapport.from_url(f"sqlite:///{folder / 'shop.db'}", settings=settings, clock=clock) as crm:
        result = crm.simulate(START, START + dt.timedelta(days=1))
    assert sum(result.totals.values()) > 0
    assert sorted(path.name for path in tmp_path.iterdir()) == listing
    assert hashlib.sha256((folder / "shop.db").read_bytes()).hexdigest() == before


def test_a_bad_period_is_refused(rapport: Rapport) -> None:
    from rapport import ConfigError

    with pytest.raises(ConfigError, match=r"ends .* before it starts"):
        rapport.simulate(START, START - dt.timedelta(days=1))
    with pytest.raises(ConfigError, match="at most 366 days"):
        rapport.simulate(START, START + dt.timedelta(days=400))


def test_a_staff_reminder_is_done_without_a_contact(
    engine: Engine, clock: FixedClock, rapport: Rapport
) -> None:
    """Marking a promise reminder (for staff) done records no interaction: nobody was
    contacted. (It used to fail: no interaction kind matched a reminder.)"""
    clock.now = dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)
    crm = Rapport(engine, settings=parse_settings({"business": BUSINESS}), clock=clock)
    crm.upsert_customer({"external_id": "anna", "first_name": "Anna"})
    crm.create_promise(
        {
            "customer_id": "anna",
            "what": "Call back about the order",
            "due_at": dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC),
        }
    )
    crm.plan(START)
    [reminder] = crm.find_tasks(rule="promise_reminder")
    assert reminder.kind == TaskKind.REMINDER
    done = crm.complete_task(reminder.id, outcome="called back")
    assert done.status == TaskStatus.DONE
    assert crm.get_profile("anna").last_contact_at is None


def test_the_command_prints_a_table_json_and_html(tmp_path: Path) -> None:
    """The installed console script on a SQLite file (the command is the same on both)."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    (tmp_path / "rapport.toml").write_text(
        f'database = "{url}"\n[business]\nname = "Harbour Books"\n'
        'timezone = "Europe/Helsinki"\ncountry = "FI"\n'
    )
    (tmp_path / "cheaper.toml").write_text(
        '[business]\nname = "Harbour Books"\ntimezone = "Europe/Helsinki"\ncountry = "FI"\n'
        "[rules.thank_you_note]\nmin_amount = 50\n"
    )
    clock = FixedClock(dt.datetime.combine(START, dt.time(4), tzinfo=dt.UTC))
    settings = parse_settings({"business": BUSINESS})
    with Rapport.from_url(url, settings=settings, clock=clock) as crm:
        crm.migrate()
        shop(crm, customers=80)
    before = hashlib.sha256((tmp_path / "shop.db").read_bytes()).hexdigest()
    period = ("--from", "2026-11-23", "--to", "2026-11-25")
    table = rapport_cli("simulate", *period, "--compare", "cheaper.toml", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "simulated 2026-11-23 to 2026-11-25 (each task done on its due day)"
    assert lines[1].split()[0] == "day"
    assert [line.split()[0] for line in lines[2:6]] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "total",
    ]
    assert lines[-1] == "a/b: these settings / cheaper.toml"
    as_json = rapport_cli("simulate", *period, "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert [day["day"] for day in result["days"]] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert set(result["days"][0]) >= {"day", "rules", "staff", "waiting"}
    assert result["totals"] == dict(
        sorted(sum((Counter(day["rules"]) for day in result["days"]), Counter()).items())
    )
    page = tmp_path / "load.html"
    html = rapport_cli("simulate", *period, "--format", "html", "-o", str(page), cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    text = page.read_text()
    for day in result["days"]:
        total = sum(day["rules"].values())
        assert f'data-day="{day["day"]}" data-tasks="{total}"' in text
    backwards = rapport_cli("simulate", "--from", "2026-11-25", "--to", "2026-11-23", cwd=tmp_path)
    assert backwards.returncode == 1
    assert "before it starts" in backwards.stderr
    assert hashlib.sha256((tmp_path / "shop.db").read_bytes()).hexdigest() == before
