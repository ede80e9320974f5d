"""Compare two recorded runs: the cells whose outcome changed, as text, JSON or HTML,
beside the engine versions and OS builds each run recorded (two builds of an
engine on the same platforms are the usual pair).

A cell present in only one of the runs counts as ``not_run`` in the other, so a
cell that stopped being run shows up too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from harness.report import history
from harness.report.html import render_page
from harness.report.model import EngineInfo, Outcome
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


def diff_text(
    run_a: str, run_b: str, changes: list[Change], engines: Sequence[EnginePair] = ()
) -> str:
    """One line per changed cell: ``platform | engine | service | check: a -> b``,
    after one line per engine whose version or OS build changed."""
    lines = [
        f"engine {p.engine} on {p.platform}: {_version(p.a)} -> {_version(p.b)}"
        for p in engines
        if p.changed
    ]
    if not changes:
        return (
            "\n".join([*lines, f"no cell changed its outcome from {run_a} to {run_b}"])
            + "\n"
        )
    lines.append(f"{len(changes)} cell(s) changed from {run_a} to {run_b}:")
    for change in changes:
        name = " | ".join(change.key.as_list())
        if change.key.parameters:
            name += f" [{change.key.parameters_text}]"
        lines.append(f"  {name}: {change.before.label} -> {change.after.label}")
    return "\n".join(lines) + "\n"


def _version(info: EngineInfo | None) -> str:
    if info is None:
        return "not run"
    build = f" on {info.os_build}" if info.os_build else ""
    return (info.version or "version not recorded") + build


def diff_json(
    run_a: str, run_b: str, changes: list[Change], engines: Sequence[EnginePair] = ()
) -> str:
    """The changes as ``{"schema": 1, "kind": "harness-diff", ...}``."""
    document = {
        "schema": DIFF_SCHEMA,
        "kind": "harness-diff",
        "run_a": run_a,
        "run_b": run_b,
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
            for c in changes
        ],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def diff_html(
    run_a: str, run_b: str, changes: list[Change], engines: Sequence[EnginePair] = ()
) -> str:
    """A self-contained HTML page listing the changes, for ``<root>/diff/``: it
    links both runs' dashboards relatively (``../<run>/index.html``)."""
    return render_page(
        "diff.html.j2",
        run_a=run_a,
        run_b=run_b,
        changes=changes,
        engines=engines,
        href_a=f"../{quote(run_a)}/index.html",
        href_b=f"../{quote(run_b)}/index.html",
    )
