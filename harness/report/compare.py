"""Compare two recorded runs: the cells whose outcome changed, as text, JSON or HTML.

A cell present in only one of the runs counts as ``not_run`` in the other, so a
cell that stopped being run shows up too.
"""

from __future__ import annotations

import json
import sqlite3

from harness.report import history
from harness.report.html import render_page
from harness.report.model import Outcome
from harness.report.trends import Change

DIFF_SCHEMA = 1


def diff_runs(connection: sqlite3.Connection, run_a: str, run_b: str) -> list[Change]:
    """Changed cells from ``run_a`` to ``run_b``; ConfigError for an unknown id."""
    history.find_run(connection, run_a)
    history.find_run(connection, run_b)
    before = history.outcomes_of(connection, run_a)
    after = history.outcomes_of(connection, run_b)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old = before.get(key, Outcome.NOT_RUN)
        new = after.get(key, Outcome.NOT_RUN)
        if old != new:
            changes.append(Change(key, old, new, run_a))
    return changes


def diff_text(run_a: str, run_b: str, changes: list[Change]) -> str:
    """One line per changed cell: ``platform | engine | service | check: a -> b``."""
    if not changes:
        return f"no cell changed its outcome from {run_a} to {run_b}\n"
    lines = [f"{len(changes)} cell(s) changed from {run_a} to {run_b}:"]
    for change in changes:
        name = " | ".join(change.key.as_list())
        lines.append(f"  {name}: {change.before.label} -> {change.after.label}")
    return "\n".join(lines) + "\n"


def diff_json(run_a: str, run_b: str, changes: list[Change]) -> str:
    """The changes as ``{"schema": 1, "kind": "harness-diff", ...}``."""
    document = {
        "schema": DIFF_SCHEMA,
        "kind": "harness-diff",
        "run_a": run_a,
        "run_b": run_b,
        "changes": [
            {**vars(c.key), "before": c.before.value, "after": c.after.value}
            for c in changes
        ],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def diff_html(run_a: str, run_b: str, changes: list[Change]) -> str:
    """A self-contained HTML page listing the changes."""
    return render_page("diff.html.j2", run_a=run_a, run_b=run_b, changes=changes)
