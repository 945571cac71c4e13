"""Staff capacity as pure logic (rapport.capacity): working days, who speaks what, where
there is room, and who gets it first. No database here; see test_staff.py for the
planner on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport import ConfigError, StaffMember, parse_settings
from rapport.capacity import (
    ContactBudget,
    Load,
    Placed,
    Roster,
    Wanted,
    place_with_capacity,
    primary_language,
)
from rapport.dates import WorkingDays

D = dt.date
MONDAY = D(2026, 4, 6)


def roster(*people: dict[str, object], country: str | None = None) -> Roster:
    return Roster([StaffMember.model_validate(p) for p in people], WorkingDays(country))


def wanted(key: str, customer: int, **fields: object) -> Wanted:
    values: dict[str, object] = {
        "kind": "call",
        "earliest": MONDAY,
        "latest": MONDAY + dt.timedelta(days=14),
        "priority": 40,
        "value": Decimal(0),
        "language": None,
        "person": None,
    }
    values.update(fields)
    return Wanted(key=key, customer_id=customer, **values)  # type: ignore[arg-type]


def budgets(*customers: int, max_touches: int = 2, per_days: int = 7) -> dict[int, ContactBudget]:
    return {c: ContactBudget([], max_touches=max_touches, per_days=per_days) for c in customers}


# ---------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"name": "maria", "per_day": {"calls": 3}}, "unknown task kind 'calls'"),
        ({"name": "maria", "per_day": {"call": -1}}, "greater than or equal to 0"),
        ({"name": "maria", "days": ["mon", "mon"]}, "lists a day more than once"),
        ({"name": "maria", "days": ["monday"]}, "staff.0.days.0"),
        ({"name": "maria", "languages": ["klingon!"]}, "staff.0.languages.0"),
        ({"name": " maria"}, "has spaces at its start or end"),
        ({"name": "maria", "off": ["2026-02-30"]}, "staff.0.off.0"),
        ({"name": "maria", "shift": "morning"}, "staff.0.shift: unknown key"),
    ],
)
def test_a_bad_staff_entry_is_refused_when_the_settings_load(
    entry: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_settings({"staff": [entry]})


def test_a_person_listed_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="'maria' is listed twice"):
        parse_settings({"staff": [{"name": "maria"}, {"name": "maria"}]})


def test_staff_default_to_weekdays_with_no_limits() -> None:
    [maria] = parse_settings({"staff": [{"name": "maria"}]}).staff
    assert (maria.days, maria.per_day, maria.languages, maria.off) == (
        ["mon", "tue", "wed", "thu", "fri"],
        {},
        [],
        [],
    )


# ---------------------------------------------------------------------------- working days


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (D(2026, 12, 4), True),  # a Friday
        (D(2026, 12, 5), False),  # Saturday: not in her days
        (D(2026, 12, 6), False),  # Sunday, and Finland's independence day
        (D(2026, 12, 7), True),  # Monday
        (D(2026, 12, 8), False),  # her day off
        (D(2026, 12, 24), False),  # Christmas Eve: a public holiday in Finland
        (D(2026, 12, 28), True),
    ],
)
def test_a_person_works_their_days_but_not_days_off_or_holidays(day: dt.date, works: bool) -> None:
    staff = roster({"name": "maria", "off": ["2026-12-08"]}, country="FI")
    assert staff.works_on("maria", day) is works


def test_a_weekend_worker_works_weekends_but_not_holidays() -> None:
    staff = roster({"name": "ville", "days": ["sat", "sun"]}, country="FI")
    assert staff.works_on("ville", D(2026, 12, 5))  # Saturday
    assert not staff.works_on("ville", D(2026, 12, 6))  # Sunday, independence day
    assert not staff.works_on("ville", D(2026, 12, 7))  # Monday


@pytest.mark.parametrize(
    ("tag", "primary"), [("fi", "fi"), ("fi-FI", "fi"), ("sv_FI", "sv"), ("EN-gb", "en")]
)
def test_a_language_is_matched_on_its_primary_subtag(tag: str, primary: str) -> None:
    assert primary_language(tag) == primary


@pytest.mark.parametrize(
    ("language", "speakers"),
    [
        ("fi-FI", ("aino", "eero")),
        ("sv", ("eero",)),
        ("de", ("aino", "eero", "olli")),  # nobody speaks German: anyone
        (None, ("aino", "eero", "olli")),
    ],
)
def test_speakers_are_those_who_speak_the_language_else_everyone(
    language: str | None, speakers: tuple[str, ...]
) -> None:
    staff = roster(
        {"name": "eero", "languages": ["fi", "sv"]},
        {"name": "aino", "languages": ["fi"]},
        {"name": "olli", "languages": ["en"]},
    )
    assert staff.speakers(language) == speakers


# ---------------------------------------------------------------------------- room


def test_the_next_day_with_room_skips_full_days_and_days_off() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 2}, "off": ["2026-04-07"]})
    load = Load(staff, MONDAY, MONDAY + dt.timedelta(days=13), {("maria", "call", MONDAY): 2})
    end = MONDAY + dt.timedelta(days=13)
    assert load.next_day_with_room("maria", "call", MONDAY, end) == D(2026, 4, 8)
    load.take("maria", "call", D(2026, 4, 8))
    load.take("maria", "call", D(2026, 4, 8))
    assert load.next_day_with_room("maria", "call", MONDAY, end) == D(2026, 4, 9)
    assert load.next_day_with_room("maria", "call", D(2026, 4, 11), end) == D(2026, 4, 13)
    assert load.next_day_with_room("maria", "call", MONDAY, D(2026, 4, 8)) is None
    assert load.room("maria", "card", MONDAY) is None  # cards are unlimited


def test_a_day_already_over_capacity_has_no_room() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 2}})
    load = Load(staff, MONDAY, MONDAY, {("maria", "call", MONDAY): 5})
    assert load.room("maria", "call", MONDAY) == 0
    assert not load.take("maria", "call", MONDAY)


# ---------------------------------------------------------------------------- placing


def test_priority_then_value_then_window_end_decide_who_gets_the_room() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 1}})
    load = Load(staff, MONDAY, MONDAY)
    items = [
        wanted("low-priority-rich", 1, priority=10, value=Decimal(9000)),
        wanted("poor", 2, value=Decimal(10)),
        wanted("rich-late-window", 3, value=Decimal(500)),
        wanted("rich-early-window", 4, value=Decimal(500), latest=MONDAY + dt.timedelta(days=3)),
    ]
    for item in items:
        object.__setattr__(item, "person", "maria")
    placed = place_with_capacity(items, budgets=budgets(1, 2, 3, 4), load=load, chosen={})
    assert placed == {
        "rich-early-window": Placed(MONDAY, "maria"),
        "rich-late-window": "waiting",
        "poor": "waiting",
        "low-priority-rich": "waiting",
    }


def test_an_occasion_the_contact_budget_cannot_fit_is_capped_not_waiting() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 5}})
    load = Load(staff, MONDAY, MONDAY + dt.timedelta(days=6))
    full = {1: ContactBudget([MONDAY, D(2026, 4, 7)], max_touches=2, per_days=7)}
    placed = place_with_capacity(
        [wanted("a", 1, person="maria", latest=D(2026, 4, 9))], budgets=full, load=load, chosen={}
    )
    assert placed == {"a": "capped"}


def test_an_unlimited_kind_is_placed_by_the_budget_alone_even_past_the_plan() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 0}})
    load = Load(staff, MONDAY, MONDAY)
    budget = {1: ContactBudget([MONDAY, MONDAY], max_touches=2, per_days=7)}
    placed = place_with_capacity(
        [wanted("card", 1, kind="card", person="maria")], budgets=budget, load=load, chosen={}
    )
    assert placed == {"card": Placed(D(2026, 4, 13), "maria")}


def test_a_customer_sticks_to_the_person_of_their_first_task() -> None:
    staff = roster(
        {"name": "aino", "per_day": {"call": 5, "card": 5}},
        {"name": "eero", "per_day": {"call": 5, "card": 5}},
    )
    load = Load(staff, MONDAY, MONDAY + dt.timedelta(days=6))
    chosen = {7: "eero"}
    items = [wanted("call", 7), wanted("card", 7, kind="card", priority=60)]
    placed = place_with_capacity(items, budgets=budgets(7), load=load, chosen=chosen)
    assert {key: outcome.person for key, outcome in placed.items()} == {  # type: ignore[union-attr]
        "call": "eero",
        "card": "eero",
    }


def test_new_customers_are_spread_over_the_speakers() -> None:
    staff = roster(
        {"name": "aino", "languages": ["fi"], "per_day": {"call": 3}},
        {"name": "eero", "languages": ["fi"], "per_day": {"call": 3}},
        {"name": "sven", "languages": ["sv"], "per_day": {"call": 3}},
    )
    load = Load(staff, MONDAY, MONDAY)
    items = [wanted(f"c{n}", n, language="fi") for n in range(6)]
    placed = place_with_capacity(items, budgets=budgets(*range(6)), load=load, chosen={})
    people = Counter(outcome.person for outcome in placed.values())  # type: ignore[union-attr]
    assert people == {"aino": 3, "eero": 3}


# ---------------------------------------------------------------------------- invariants

PEOPLE = ("aino", "eero", "olli")
LANGUAGES = ("fi", "sv", "en", "de")


Case = tuple[Roster, Load, list[Wanted], dict[int, ContactBudget], dict[int, str]]


@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[Roster, Load, list[Wanted], dict[int, ContactBudget], dict[int, str]]:
    people: list[dict[str, Any]] = [
        {
            "name": name,
            "languages": draw(st.lists(st.sampled_from(LANGUAGES[:3]), max_size=2, unique=True)),
            "per_day": draw(
                st.dictionaries(st.sampled_from(("call", "card")), st.integers(0, 3), max_size=2)
            ),
            "days": draw(
                st.lists(
                    st.sampled_from(("mon", "tue", "wed", "thu", "fri", "sat")),
                    min_size=1,
                    max_size=6,
                    unique=True,
                )
            ),
        }
        for name in PEOPLE[: draw(st.integers(1, 3))]
    ]
    staff = roster(*people)
    last = MONDAY + dt.timedelta(days=draw(st.integers(0, 9)))
    existing = {
        (name, kind, MONDAY + dt.timedelta(days=offset)): count
        for name, kind, offset, count in draw(
            st.lists(
                st.tuples(
                    st.sampled_from([p["name"] for p in people]),
                    st.sampled_from(("call", "card")),
                    st.integers(0, 9),
                    st.integers(1, 2),
                ),
                max_size=5,
            )
        )
    }
    load = Load(staff, MONDAY, last, existing)
    customers = draw(st.integers(1, 6))
    items = []
    for n in range(draw(st.integers(1, 14))):
        customer = draw(st.integers(0, customers - 1))
        earliest = MONDAY + dt.timedelta(days=draw(st.integers(-3, 8)))
        items.append(
            wanted(
                f"o{n}",
                customer,
                kind=draw(st.sampled_from(("call", "card"))),
                earliest=earliest,
                latest=earliest + dt.timedelta(days=draw(st.integers(0, 8))),
                priority=draw(st.sampled_from((10, 40, 90))),
                value=Decimal(draw(st.integers(0, 5)) * 100),
                language=draw(st.sampled_from((*LANGUAGES, None))),
                person=draw(st.sampled_from((None, None, *(p["name"] for p in people)))),
            )
        )
    chosen = dict(
        draw(
            st.dictionaries(
                st.integers(0, customers - 1), st.sampled_from([p["name"] for p in people])
            )
        ).items()
    )
    return staff, load, items, budgets(*range(customers), max_touches=2, per_days=3), chosen


@settings(max_examples=300, deadline=None)
@given(cases())
def test_placing_never_exceeds_capacity_or_budgets_and_waits_only_when_there_is_no_room(
    case: Case,
) -> None:
    staff, load, items, customer_budgets, chosen = case
    sticky_before = dict(chosen)
    existing = Counter(load.counts)
    placed = place_with_capacity(items, budgets=customer_budgets, load=load, chosen=chosen)
    counts: Counter[tuple[str, str, dt.date]] = Counter(existing)
    days_of: dict[int, list[dt.date]] = {}
    first_person: dict[int, str] = dict(sticky_before)
    for item in sorted(items, key=Wanted.rank):
        outcome = placed[item.key]
        if not isinstance(outcome, Placed):
            continue
        counts[outcome.person, item.kind, outcome.day] += 1
        days_of.setdefault(item.customer_id, []).append(outcome.day)
        person = item.person or first_person.get(item.customer_id)
        if person is None:  # a new customer: someone who speaks their language
            assert outcome.person in staff.speakers(item.language)
            person = outcome.person
        assert outcome.person == person  # the owner, or the customer's one person
        first_person.setdefault(item.customer_id, outcome.person)
        limit = staff.limit(outcome.person, item.kind)
        if limit is None:
            assert item.earliest <= outcome.day <= item.latest
        else:
            assert max(item.earliest, load.first) <= outcome.day <= min(item.latest, load.last)
            assert staff.works_on(outcome.person, outcome.day)
            assert counts[outcome.person, item.kind, outcome.day] <= max(
                limit, existing[outcome.person, item.kind, outcome.day]
            )
    for days in days_of.values():  # the contact budget: at most 2 in any 3 days
        for day in days:
            assert sum(1 for other in days if day <= other < day + dt.timedelta(days=3)) <= 2
    # Waiting means: nobody it could go to has room on a day its budget allows.
    for item in items:
        if placed[item.key] != "waiting":
            continue
        earlier = [
            other
            for other in sorted(items, key=Wanted.rank)
            if other.customer_id == item.customer_id
            and Wanted.rank(other) < Wanted.rank(item)
            and isinstance(placed[other.key], Placed)
        ]
        if item.person:
            candidates: tuple[str, ...] = (item.person,)
        elif item.customer_id in sticky_before:
            candidates = (sticky_before[item.customer_id],)
        elif earlier:
            candidates = (placed[earlier[0].key].person,)  # type: ignore[union-attr]
        else:
            candidates = staff.speakers(item.language)
        budget = customer_budgets[item.customer_id]
        day = max(item.earliest, load.first)
        while day <= min(item.latest, load.last):
            for name in candidates:
                if load.room(name, item.kind, day) and budget.fits(day):
                    pytest.fail(f"{item.key} waits though {name} has room on {day}")
            day += dt.timedelta(days=1)


def test_a_late_occasion_whose_budget_has_no_day_left_is_capped_not_waiting() -> None:
    staff = roster({"name": "maria", "per_day": {"call": 0}})
    load = Load(staff, MONDAY, MONDAY + dt.timedelta(days=6))
    # Two contacts on Monday and Tuesday fill the budget (2 in 7) to the window's end;
    # the days before today, when the budget had room, are gone.
    budget = {1: ContactBudget([MONDAY, D(2026, 4, 7)], max_touches=2, per_days=7)}
    late = wanted("late", 1, person="maria", earliest=D(2026, 3, 27), latest=D(2026, 4, 9))
    assert place_with_capacity([late], budgets=budget, load=load, chosen={}) == {"late": "capped"}
