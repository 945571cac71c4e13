"""A simulated period as a self-contained HTML page: one bar per day, its length the
day's tasks and its parts the rules, with what waits for staff beside it; a comparison's
days drawn under the same scale. A manager sees the busy days and the quiet ones at a
glance, before anything is planned for real.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from rapport.exports import RULE_LABELS
from rapport.exports._pages import page_environment
from rapport.exports.call_sheet import printed_at
from rapport.exports.staff_page import weekday_name
from rapport.simulate import SimulatedDay, Simulation

_ENV = page_environment()
#: The rules' colours, in the order of the rules in the legend (then round again).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bcb6",
    "#d37295",
    "#8cd17d",
    "#499894",
    "#f1ce63",
    "#a0cbe8",
)


@dataclass(frozen=True, slots=True)
class Part:
    """One rule's share of a day's bar."""

    rule: str
    count: int
    percent: float
    colour: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One day: its tasks, drawn as parts of the widest day's length."""

    day: SimulatedDay
    total: int
    parts: list[Part]


def bars(simulation: Simulation, colours: Mapping[str, str], widest: int) -> list[Bar]:
    """Each day's bar on a common scale (``widest`` tasks fill the width)."""
    drawn = []
    for day in simulation.days:
        total = sum(day.rules.values())
        parts = [
            Part(rule, count, 100 * count / widest, colours[rule])
            for rule, count in day.rules.items()
            if count
        ]
        drawn.append(Bar(day, total, parts))
    return drawn


def write_simulation_page(
    simulation: Simulation,
    out: TextIO,
    *,
    business: str,
    generated_at: dt.datetime,
    timezone: str = "UTC",
    labels: Mapping[str, str] = RULE_LABELS,
) -> None:
    """Write the page: the days as bars, then the totals per rule (and the comparison's)."""
    runs = [simulation] + ([simulation.other] if simulation.other else [])
    rules = sorted({rule for run in runs for rule in run.totals})
    colours = {rule: PALETTE[n % len(PALETTE)] for n, rule in enumerate(rules)}
    widest = max((sum(day.rules.values()) for run in runs for day in run.days), default=0) or 1
    for chunk in _ENV.get_template("simulation.html.j2").generate(
        simulation=simulation,
        runs=[(run, bars(run, colours, widest)) for run in runs],
        rules=rules,
        colours=colours,
        business=business,
        generated_at=printed_at(generated_at, timezone),
        labels=labels,
        weekday_name=weekday_name,
    ):
        out.write(chunk)
