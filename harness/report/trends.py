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
# Outcomes that count when measuring flips: the engine's own answers.  A skip or a
# missing run says nothing, and broken is the harness's or the infrastructure's
# trouble, so a one-off blip of the lab never makes a cell flaky.
DECIDED = {Outcome.PASSED, Outcome.FAILED, Outcome.EXPECTED_FAILURE}
# One change (a clean regression, a fix) is news, not flakiness: it takes two.
FLAKY_MIN_FLIPS = 2


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
    no_longer_reproduces: list[CellKey] = field(default_factory=list)

    @property
    def first_run(self) -> bool:
        """No earlier run in the window: nothing to compare with."""
        return len(self.run_ids) < 2

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
    trends.since = verdict_since(connection, run_id)
    _changes(trends, cells, previous_outcomes(series, window[:-1]))
    return trends


def cell_trend(
    outcomes: Mapping[str, Outcome], window: list[str], cell: CellResult
) -> CellTrend:
    """Recent outcomes, flip rate and flakiness of one cell.

    Flaky: it passed after a retry in this run, or its decided outcomes over the
    window changed at least twice (P,F,P is flaky; P,P,F is a regression; P,P,P,
    broken is an infrastructure blip).
    """
    recent = [(run_id, outcomes.get(run_id)) for run_id in window]
    known = [o for _, o in recent if o is not None]
    rate = flip_rate(known)
    flaky = cell.passed_after_retry or flips(known) >= FLAKY_MIN_FLIPS
    return CellTrend(recent=recent, flip_rate=rate, flaky=flaky)


def flips(outcomes: list[Outcome]) -> int:
    """How often consecutive decided outcomes differ.

    >>> flips([Outcome.PASSED, Outcome.BROKEN, Outcome.FAILED, Outcome.PASSED])
    2
    """
    decided = [o for o in outcomes if o in DECIDED]
    return sum(1 for a, b in zip(decided, decided[1:], strict=False) if a != b)


def flip_rate(outcomes: list[Outcome]) -> float:
    """Share of consecutive decided outcomes that differ (0.0 with fewer than two).

    >>> flip_rate([Outcome.PASSED, Outcome.FAILED, Outcome.PASSED])
    1.0
    """
    decided = [o for o in outcomes if o in DECIDED]
    if len(decided) < 2:
        return 0.0
    return flips(decided) / (len(decided) - 1)


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
        if cell.no_longer_reproduces:
            trends.no_longer_reproduces.append(key)
            continue
        if key not in previous:
            continue
        before_run, before = previous[key]
        change = Change(key, before, cell.outcome, before_run)
        if cell.outcome in FAILING and before not in FAILING:
            trends.newly_failing.append(change)
        elif cell.outcome is Outcome.PASSED and before in FIXABLE:
            trends.newly_fixed.append(change)


def verdict_since(connection: sqlite3.Connection, run_id: str) -> dict[ServiceKey, str]:
    """Per service of ``run_id``, the first run of the unbroken streak of runs (up
    to ``run_id``) that gave it the same verdict.  Runs without it, or whose
    verdict is not complete (some check not run: a filtered, sharded or
    interrupted run), neither break nor start a streak; such a verdict of
    ``run_id`` itself holds since ``run_id``.

    The verdict table is read once without a join or sort (plain tuples, ordered
    in Python by run position): with 1,000 runs of 100 services this is the
    cheapest of the ways tried.
    """
    position = {run.run_id: n for n, run in enumerate(history.runs(connection))}
    limit = position[run_id]
    streaks: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    current: dict[tuple[str, str, str], bool] = {}
    rows = connection.execute(
        "SELECT platform, engine, service, verdict, run_id, complete FROM verdicts"
    )
    for platform, engine, service, verdict, row_run, complete in rows:
        n, key = position[row_run], (platform, engine, service)
        if n == limit:
            current[key] = bool(complete)
        if n <= limit and complete:
            streaks.setdefault(key, []).append((n, verdict))
    order = list(position)
    return {
        ServiceKey(*key): order[_streak_start(streaks[key])] if complete else run_id
        for key, complete in current.items()
    }


def _streak_start(entries: list[tuple[int, str]]) -> int:
    """Position of the oldest entry in the newest run of equal verdicts."""
    entries.sort(reverse=True)
    current, start = entries[0][1], entries[0][0]
    for n, verdict in entries[1:]:
        if verdict != current:
            break
        start = n
    return start
