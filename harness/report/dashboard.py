"""The view of one run that every output is rendered from (HTML, JSON, Markdown,
JUnit, badges): cells, verdicts and trends arranged per engine as a grid of
platforms by services.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.report.model import (
    CellKey,
    CellResult,
    Outcome,
    ReportWarning,
    RunMeta,
    ServiceKey,
    ServiceVerdict,
    Verdict,
)
from harness.report.trends import CellTrend, Trends

SERVICE_ORDER = ("rpcss", "dcom", "iis", "spooler", "eventlog", "schedule", "wmi")
CHECK_ORDER = ("starts", "serves", "isolated")


def ordered(values: set[str], known: tuple[str, ...] = ()) -> list[str]:
    """Known names in catalogue order first, then the others alphabetically."""
    first = [value for value in known if value in values]
    return first + sorted(values - set(first))


def service_order(values: set[str]) -> list[str]:
    """Services in catalogue order; ``ordinary`` (any other program) goes last."""
    names = ordered(values, SERVICE_ORDER)
    return [n for n in names if n != "ordinary"] + (
        ["ordinary"] * ("ordinary" in names)
    )


@dataclass
class ServiceView:
    """One square of the grid: a verdict and the checks behind it."""

    verdict: ServiceVerdict
    since: str
    checks: list[CellResult]


@dataclass
class EngineGrid:
    """The platforms-by-services table of one engine."""

    engine: str
    platforms: list[str]
    services: list[str]
    squares: dict[tuple[str, str], ServiceView]


@dataclass
class Dashboard:
    """Everything a renderer needs for one run; built once, rendered many ways."""

    run_id: str
    meta: RunMeta
    cells: dict[CellKey, CellResult]
    verdicts: list[ServiceVerdict]
    trends: Trends
    warnings: list[ReportWarning]
    results_dirs: list[Path]
    generated: str
    grids: list[EngineGrid] = field(default_factory=list)
    earlier_dirs: list[str] = field(default_factory=list)  # earlier reports' folders
    missing_shards: list[str] = field(default_factory=list)  # "i/n" not reported
    shared_labels: set[CellKey] = field(default_factory=set)  # of several cells

    @property
    def platforms(self) -> list[str]:
        """Every platform with a cell, alphabetically."""
        return ordered({key.platform for key in self.cells})

    @property
    def engines(self) -> list[str]:
        """Every engine with a cell, alphabetically."""
        return ordered({key.engine for key in self.cells})

    @property
    def services(self) -> list[str]:
        """Every service with a cell, in catalogue order."""
        return service_order({key.service for key in self.cells})

    def outcome_counts(self) -> dict[str, int]:
        """How many of the cells the run selected had each outcome (every token
        present); the checks it left out are counted by ``not_selected``."""
        counts = Counter(c.outcome.value for c in self.cells.values() if c.selected)
        return {o.value: counts.get(o.value, 0) for o in Outcome}

    @property
    def not_selected(self) -> int:
        """How many checks of the services shown the run did not select."""
        return sum(1 for cell in self.cells.values() if not cell.selected)

    def verdict_counts(self) -> dict[str, int]:
        """How many services got each verdict (every token present)."""
        counts = Counter(v.verdict.value for v in self.verdicts)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    def trend(self, key: CellKey) -> CellTrend:
        """The recent past of one cell."""
        return self.trends.cells[key]

    @property
    def flaky(self) -> list[CellResult]:
        """Cells marked flaky, in cell order."""
        return [self.cells[key] for key in self.trends.flaky]

    def check_label(self, key: CellKey) -> str:
        """The check's name, with the parameters only where several cells share
        the four labels: those that are not the placement (which repeats the
        labels), or all of them when only the placement tells the cells apart."""
        if key.parameters and key.labels_only in self.shared_labels:
            return f"{key.check} [{key.shown_text or key.parameters_text}]"
        return key.check


def build_dashboard(dashboard: Dashboard) -> Dashboard:
    """Fill in the per-engine grids from cells and verdicts."""
    checks: dict[ServiceKey, list[CellResult]] = {}
    labels = Counter(key.labels_only for key in dashboard.cells)
    dashboard.shared_labels = {key for key, n in labels.items() if n > 1}
    for key, cell in dashboard.cells.items():
        checks.setdefault(key.service_key, []).append(cell)
    for engine in dashboard.engines:
        dashboard.grids.append(_grid(dashboard, engine, checks))
    return dashboard


def _grid(
    dashboard: Dashboard, engine: str, checks: dict[ServiceKey, list[CellResult]]
) -> EngineGrid:
    squares: dict[tuple[str, str], ServiceView] = {}
    for verdict in dashboard.verdicts:
        key = verdict.key
        if key.engine != engine:
            continue
        rank = {name: i for i, name in enumerate(CHECK_ORDER)}
        cells = sorted(checks[key], key=lambda c: (rank.get(c.key.check, 99), c.key))
        since = dashboard.trends.since.get(key, dashboard.run_id)
        squares[(key.platform, key.service)] = ServiceView(verdict, since, cells)
    return EngineGrid(
        engine=engine,
        platforms=ordered({platform for platform, _ in squares}),
        services=service_order({service for _, service in squares}),
        squares=squares,
    )
