"""Compare two recorded runs: the cells whose outcome changed, as text, JSON or HTML,
beside the engine versions and OS builds each run recorded (two builds of an
engine on the same platforms are the usual pair).

Only the cells both runs covered (selected) are compared: a cell that one run's
filters or shard left out, or that one run does not have at all, is no change;
how many such cells there were is said once, at the top.  A cell both runs
selected that has no result in one of them (an interrupted run) is ``not_run``
there, and that is a change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from harness.report import history
from harness.report.html import render_page
from harness.report.model import EngineInfo
from harness.report.trends import Change

DIFF_SCHEMA = 1


@dataclass
class EnginePair:
    """One (platform, engine) as each of the two runs recorded it (None: absent)."""

    platform: str
    engine: str
    a: EngineInfo | None
    b: EngineInfo | None

    @property
    def changed(self) -> bool:
        """Whether the engine version or OS build differs between the runs."""
        fields = [(e.version, e.os_build) if e else None for e in (self.a, self.b)]
        return fields[0] != fields[1]


def engine_pairs(
    connection: sqlite3.Connection, run_a: str, run_b: str
) -> list[EnginePair]:
    """Every (platform, engine) either run recorded, with both runs' facts."""
    a = {(e.platform, e.engine): e for e in history.run_engines(connection, run_a)}
    b = {(e.platform, e.engine): e for e in history.run_engines(connection, run_b)}
    return [EnginePair(*pair, a.get(pair), b.get(pair)) for pair in sorted(a | b)]


@dataclass
class RunDiff:
    """The changed cells from run a to run b, among the cells both covered."""

    run_a: str
    run_b: str
    changes: list[Change]
    only_a: int = 0  # cells run a selected that run b did not
    only_b: int = 0  # cells run b selected that run a did not

    @property
    def coverage_line(self) -> str:
        """How many cells only one run covered (left out), or ``""``."""
        if not self.only_a + self.only_b:
            return ""
        return (
            f"{self.only_a + self.only_b} cell(s) covered by only one of the runs "
            f"are left out ({self.only_a} only by {self.run_a}, {self.only_b} only "
            f"by {self.run_b}): the other run did not select them"
        )


def diff_runs(connection: sqlite3.Connection, run_a: str, run_b: str) -> RunDiff:
    """Changed cells from ``run_a`` to ``run_b``; ConfigError for an unknown id."""
    history.find_run(connection, run_a)
    history.find_run(connection, run_b)
    before = history.outcomes_of(connection, run_a, selected_only=True)
    after = history.outcomes_of(connection, run_b, selected_only=True)
    changes = [
        Change(key, before[key], after[key], run_a)
        for key in sorted(before.keys() & after.keys())
        if before[key] != after[key]
    ]
    only_a, only_b = (
        len(before.keys() - after.keys()),
        len(after.keys() - before.keys()),
    )
    return RunDiff(run_a, run_b, changes, only_a, only_b)


def diff_text(diff: RunDiff, engines: Sequence[EnginePair] = ()) -> str:
    """One line per changed cell: ``platform | engine | service | check: a -> b``,
    after a line on the cells only one run covered and one line per engine whose
    version or OS build changed."""
    lines = [diff.coverage_line] if diff.coverage_line else []
    lines += [_engine_line(p, diff) for p in engines if p.changed]
    if not diff.changes:
        lines.append(f"no cell changed its outcome from {diff.run_a} to {diff.run_b}")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{len(diff.changes)} cell(s) changed from {diff.run_a} to {diff.run_b}:"
    )
    for change in diff.changes:
        name = change.key.title(" | ")
        lines.append(f"  {name}: {change.before.label} -> {change.after.label}")
    return "\n".join(lines) + "\n"


def _engine_line(pair: EnginePair, diff: RunDiff) -> str:
    """How an engine differs: its version, or that only one run had it."""
    where = f"engine {pair.engine} on {pair.platform}"
    if pair.a is None:
        return f"{where}: only in {diff.run_b} ({_version(pair.b)})"
    if pair.b is None:
        return f"{where}: only in {diff.run_a} ({_version(pair.a)})"
    return f"{where}: {_version(pair.a)} -> {_version(pair.b)}"


def _version(info: EngineInfo | None) -> str:
    if info is None:
        return "not run"
    build = f" on {info.os_build}" if info.os_build else ""
    return (info.version or "version not recorded") + build


def diff_json(diff: RunDiff, engines: Sequence[EnginePair] = ()) -> str:
    """The changes as ``{"schema": 1, "kind": "harness-diff", ...}``."""
    document = {
        "schema": DIFF_SCHEMA,
        "kind": "harness-diff",
        "run_a": diff.run_a,
        "run_b": diff.run_b,
        "only_in_run_a": diff.only_a,
        "only_in_run_b": diff.only_b,
        "engines": [
            {
                "platform": p.platform,
                "engine": p.engine,
                "run_a": vars(p.a) if p.a else None,
                "run_b": vars(p.b) if p.b else None,
            }
            for p in engines
        ],
        "changes": [
            {**c.key.as_dict(), "before": c.before.value, "after": c.after.value}
            for c in diff.changes
        ],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def diff_html(diff: RunDiff, engines: Sequence[EnginePair] = ()) -> str:
    """A self-contained HTML page listing the changes, for ``<root>/diff/``: it
    links both runs' dashboards relatively (``../<run>/index.html``)."""
    return render_page(
        "diff.html.j2",
        diff=diff,
        run_a=diff.run_a,
        run_b=diff.run_b,
        changes=diff.changes,
        engines=engines,
        href_a=f"../{quote(diff.run_a)}/index.html",
        href_b=f"../{quote(diff.run_b)}/index.html",
    )
