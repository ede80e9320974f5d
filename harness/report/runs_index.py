"""``<reports root>/index.html``: every reported run, what its cells did, and the
runs that need a look (failed or broken cells, interrupted, shards missing).

Verdict counts alone hide what went wrong: a run with a failed cell shows
"1 partial", a broken one "1 unknown".  So each run lists its outcome counts (of
the cells it selected) beside its verdicts, and flags say why it needs a look.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from harness.report import history, html
from harness.report.merge import missing_shards
from harness.report.model import Outcome, Verdict

INDEX = "index.html"
# The order outcomes are listed in: what needs a look first.
OUTCOME_ORDER = (
    Outcome.FAILED,
    Outcome.BROKEN,
    Outcome.PASSED,
    Outcome.EXPECTED_FAILURE,
    Outcome.SKIPPED,
    Outcome.NOT_RUN,
)


@dataclass
class RunSummary:
    """One row of the runs index."""

    run: history.RunRow
    outcomes: dict[Outcome, int] = field(default_factory=dict)  # selected cells
    no_longer_reproduces: int = 0  # of the failed cells: strict known issues
    not_selected: int = 0
    verdicts: dict[Verdict, int] = field(default_factory=dict)

    @property
    def missing_shards(self) -> list[str]:
        """The shards ``i/n`` of this run not reported yet."""
        return missing_shards(self.run.shards)

    @property
    def flags(self) -> list[tuple[str, str]]:
        """(kind, words) of every reason to look at this run, worst first."""
        found = []
        if self.outcomes.get(Outcome.FAILED, 0) > self.no_longer_reproduces:
            found.append(("failed", "failed cells"))
        if self.no_longer_reproduces:
            found.append(("gone", "known issues to remove from matrix.yaml"))
        if self.outcomes.get(Outcome.BROKEN):
            found.append(("broken", "broken cells"))
        if self.run.interrupted:
            found.append(("interrupted", "interrupted"))
        if self.missing_shards:
            missing = ", ".join(self.missing_shards)
            found.append(("incomplete", f"incomplete: shard(s) {missing} missing"))
        return found

    def outcome_list(self) -> list[tuple[Outcome, int]]:
        """The outcomes with a count, in OUTCOME_ORDER."""
        return [(o, self.outcomes[o]) for o in OUTCOME_ORDER if self.outcomes.get(o)]

    def verdict_list(self) -> list[tuple[Verdict, int]]:
        """The verdicts with a count, best first."""
        return [(v, self.verdicts[v]) for v in Verdict if self.verdicts.get(v)]


def summaries(connection: sqlite3.Connection) -> list[RunSummary]:
    """A summary of every run in history, oldest first (from ``runs.counts``)."""
    counts = history.run_counts(connection)
    verdicts = history.verdict_counts(connection)
    found = []
    for run in history.runs(connection):
        mine = counts.get(run.run_id, {})
        found.append(
            RunSummary(
                run,
                outcomes={o: mine[o.value] for o in Outcome if mine.get(o.value)},
                no_longer_reproduces=mine.get("no_longer_reproduces", 0),
                not_selected=mine.get("not_selected", 0),
                verdicts={
                    Verdict(v): n for v, n in verdicts.get(run.run_id, {}).items()
                },
            )
        )
    return found


def write_runs_index(reports_root: Path, runs: list[RunSummary]) -> Path:
    """Write the runs index, newest run first."""
    page = html.render_page("runs.html.j2", runs=list(reversed(runs)))
    target = reports_root / INDEX
    target.write_text(page, encoding="utf-8")
    return target
