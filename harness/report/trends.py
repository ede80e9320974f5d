"""What the history says about the current run: recent outcomes per cell, how long
each verdict has held, what newly fails or was newly fixed, and which cells flip.

All of it looks at the last ``history_size`` runs up to the current one (the
window), except "since", which follows a verdict back through the whole history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.report import history
from harness.report.model import CellKey, CellResult, Outcome, ServiceKey

FAILING = {Outcome.FAILED, Outcome.BROKEN}
FIXABLE = FAILING | {Outcome.EXPECTED_FAILURE}
# Outcomes that count when measuring flips: a skip or a missing run says nothing.
DECIDED = {Outcome.PASSED, Outcome.FAILED, Outcome.BROKEN, Outcome.EXPECTED_FAILURE}
FLAKY_FLIP_RATE = 0.3
FLAKY_MIN_RUNS = 3


@dataclass
class CellTrend:
    """A cell's recent past: oldest first, ``None`` where it was not recorded."""

    recent: list[tuple[str, Outcome | None]]
    flip_rate: float
    flaky: bool


@dataclass
class Change:
    """A cell whose outcome moved between two runs."""

    key: CellKey
    before: Outcome
    after: Outcome
    before_run: str = ""


@dataclass
class Trends:
    """Everything from history that the dashboard shows for one run."""

    run_ids: list[str]
    cells: dict[CellKey, CellTrend] = field(default_factory=dict)
    since: dict[ServiceKey, str] = field(default_factory=dict)
    newly_failing: list[Change] = field(default_factory=list)
    newly_fixed: list[Change] = field(default_factory=list)

    @property
    def flaky(self) -> list[CellKey]:
        """Cells marked flaky, in cell order."""
        return [key for key, trend in self.cells.items() if trend.flaky]


def compute_trends(
    connection: sqlite3.Connection,
    run_id: str,
    cells: Mapping[CellKey, CellResult],
    size: int,
) -> Trends:
    """Trends of ``run_id`` (already recorded) over its last ``size`` runs."""
    ordered = [r.run_id for r in history.runs(connection)]
    window = ordered[: ordered.index(run_id) + 1][-size:]
    series = history.outcome_series(connection, window)
    trends = Trends(run_ids=window)
    for key, cell in cells.items():
        trends.cells[key] = cell_trend(series.get(key, {}), window, cell)
    trends.since = history.verdict_since(connection, run_id)
    _changes(trends, cells, previous_outcomes(series, window[:-1]))
    return trends


def cell_trend(
    outcomes: Mapping[str, Outcome], window: list[str], cell: CellResult
) -> CellTrend:
    """Recent outcomes, flip rate and flakiness of one cell."""
    recent = [(run_id, outcomes.get(run_id)) for run_id in window]
    rate = flip_rate([o for _, o in recent if o is not None])
    decided = sum(1 for _, o in recent if o in DECIDED)
    flaky = cell.passed_after_retry or (
        decided >= FLAKY_MIN_RUNS and rate >= FLAKY_FLIP_RATE
    )
    return CellTrend(recent=recent, flip_rate=rate, flaky=flaky)


def flip_rate(outcomes: list[Outcome]) -> float:
    """Share of consecutive decided outcomes that differ (0.0 with fewer than two).

    >>> flip_rate([Outcome.PASSED, Outcome.FAILED, Outcome.PASSED])
    1.0
    """
    decided = [o for o in outcomes if o in DECIDED]
    if len(decided) < 2:
        return 0.0
    flips = sum(1 for a, b in zip(decided, decided[1:], strict=False) if a != b)
    return flips / (len(decided) - 1)


def previous_outcomes(
    series: Mapping[CellKey, Mapping[str, Outcome]], earlier: list[str]
) -> dict[CellKey, tuple[str, Outcome]]:
    """Per cell, (run id, outcome) of the latest earlier run in the window in which
    it ran.  A cell last run before the window is not compared: the window bounds
    the work, and such a cell is not "new" news."""
    previous: dict[CellKey, tuple[str, Outcome]] = {}
    for key, outcomes in series.items():
        for run_id in reversed(earlier):
            outcome = outcomes.get(run_id)
            if outcome is not None and outcome is not Outcome.NOT_RUN:
                previous[key] = (run_id, outcome)
                break
    return previous


def _changes(
    trends: Trends,
    cells: Mapping[CellKey, CellResult],
    previous: Mapping[CellKey, tuple[str, Outcome]],
) -> None:
    for key, cell in cells.items():
        if key not in previous:
            continue
        before_run, before = previous[key]
        change = Change(key, before, cell.outcome, before_run)
        if cell.outcome in FAILING and before not in FAILING:
            trends.newly_failing.append(change)
        elif cell.outcome is Outcome.PASSED and before in FIXABLE:
            trends.newly_fixed.append(change)
