"""The history store: every reported run's outcomes and verdicts in one SQLite file.

``<reports root>/history.sqlite`` holds three tables a user can query with the
``sqlite3`` shell (see docs/report.md): ``runs``, ``outcomes`` (one row per cell and
run) and ``verdicts`` (one row per service and run).  Reporting the same run id
again replaces that run's rows, so shards reported one by one never duplicate.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError
from harness.report.meta import parse_time
from harness.report.model import (
    CellKey,
    CellResult,
    Outcome,
    ServiceKey,
    ServiceVerdict,
)

log = logging.getLogger(__name__)

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL,
    started_epoch REAL NOT NULL,
    finished TEXT,
    interrupted INTEGER NOT NULL,
    harness_version TEXT NOT NULL,
    hostname TEXT NOT NULL,
    ci TEXT,
    reported TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    engine TEXT NOT NULL,
    service TEXT NOT NULL,
    check_name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    passed_after_retry INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, platform, engine, service, check_name)
);
CREATE TABLE IF NOT EXISTS verdicts (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    engine TEXT NOT NULL,
    service TEXT NOT NULL,
    verdict TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (run_id, platform, engine, service)
);
CREATE INDEX IF NOT EXISTS outcomes_by_cell
    ON outcomes (platform, engine, service, check_name);
"""
RUN_ORDER = "started_epoch, seq"


@dataclass(frozen=True)
class RunRow:
    """One run as the history knows it."""

    run_id: str
    started: str
    finished: str | None
    interrupted: bool
    harness_version: str
    hostname: str
    ci: str | None


@contextmanager
def open_store(reports_root: Path) -> Iterator[sqlite3.Connection]:
    """Open (creating when needed) the history store under the reports root."""
    reports_root.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(reports_root / HISTORY_FILE)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(SCHEMA)
        _check_version(connection)
        with connection:
            yield connection
    finally:
        connection.close()


def _check_version(connection: sqlite3.Connection) -> None:
    row = connection.execute("SELECT value FROM store WHERE key = 'schema'").fetchone()
    if row is None:
        connection.execute(
            "INSERT INTO store VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )
    elif row[0] != str(SCHEMA_VERSION):
        raise ConfigError(
            f"history store schema {row[0]} is not {SCHEMA_VERSION}; "
            "use a new reports root or convert the file"
        )


def record_run(
    connection: sqlite3.Connection,
    run: RunRow,
    cells: Mapping[CellKey, CellResult],
    verdicts: list[ServiceVerdict],
) -> None:
    """Store one run, replacing an earlier report of the same run id."""
    connection.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
    moment = parse_time(run.started) or datetime.now(UTC)
    connection.execute(
        "INSERT INTO runs (run_id, started, started_epoch, finished, interrupted,"
        " harness_version, hostname, ci, reported) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            run.run_id,
            run.started,
            moment.timestamp(),
            run.finished,
            int(run.interrupted),
            run.harness_version,
            run.hostname,
            run.ci,
            datetime.now(UTC).isoformat(),
        ),
    )
    connection.executemany(
        "INSERT INTO outcomes VALUES (?,?,?,?,?,?,?,?,?)",
        [(run.run_id, *key.as_list(), *_cell_row(cell)) for key, cell in cells.items()],
    )
    connection.executemany(
        "INSERT INTO verdicts VALUES (?,?,?,?,?,?)",
        [
            (run.run_id, v.key.platform, v.key.engine, v.key.service, v.verdict, v.note)
            for v in verdicts
        ],
    )
    log.info("history: recorded run %s with %d cells", run.run_id, len(cells))


def _cell_row(cell: CellResult) -> tuple[str, int, int, str]:
    return (
        cell.outcome.value,
        cell.attempts,
        int(cell.passed_after_retry),
        cell.message,
    )


def runs(connection: sqlite3.Connection) -> list[RunRow]:
    """Every run in history, oldest first."""
    rows = connection.execute(
        "SELECT run_id, started, finished, interrupted, harness_version, hostname, ci"
        f" FROM runs ORDER BY {RUN_ORDER}"
    ).fetchall()
    return [RunRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]


def find_run(connection: sqlite3.Connection, run_id: str) -> RunRow:
    """A run by id; ConfigError listing the known ids when there is none."""
    known = runs(connection)
    for run in known:
        if run.run_id == run_id:
            return run
    listing = ", ".join(repr(r.run_id) for r in known) or "none"
    raise ConfigError(f"unknown run id {run_id!r}; known run ids: {listing}")


def outcomes_of(connection: sqlite3.Connection, run_id: str) -> dict[CellKey, Outcome]:
    """The outcome of every cell recorded for one run."""
    rows = connection.execute(
        "SELECT platform, engine, service, check_name, outcome FROM outcomes"
        " WHERE run_id = ?",
        (run_id,),
    )
    return {CellKey(*row[:4]): Outcome(row[4]) for row in rows}


def outcome_series(
    connection: sqlite3.Connection, run_ids: list[str]
) -> dict[CellKey, dict[str, Outcome]]:
    """Per cell, its outcome in each of the given runs (absent when not recorded)."""
    series: dict[CellKey, dict[str, Outcome]] = {}
    marks = ",".join("?" * len(run_ids))
    rows = connection.execute(
        "SELECT run_id, platform, engine, service, check_name, outcome FROM outcomes"
        f" WHERE run_id IN ({marks})",
        run_ids,
    )
    for row in rows:
        series.setdefault(CellKey(*row[1:5]), {})[row[0]] = Outcome(row[5])
    return series


def verdict_since(connection: sqlite3.Connection, run_id: str) -> dict[ServiceKey, str]:
    """Per service of ``run_id``, the first run of the unbroken streak of runs (up
    to ``run_id``) that gave it the same verdict; runs without it do not break it.

    The verdict table is read once without a join or sort (plain tuples, ordered
    in Python by run position): with 1,000 runs of 100 services this is the
    cheapest of the ways tried.
    """
    position = {run.run_id: n for n, run in enumerate(runs(connection))}
    limit = position[run_id]
    streaks: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    rows = connection.execute(
        "SELECT platform, engine, service, verdict, run_id FROM verdicts"
    )
    for platform, engine, service, verdict, row_run in rows:
        n = position[row_run]
        if n <= limit:
            streaks.setdefault((platform, engine, service), []).append((n, verdict))
    order = list(position)
    return {
        ServiceKey(*key): order[_streak_start(entries)]
        for key, entries in streaks.items()
        if any(n == limit for n, _ in entries)
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


def verdict_counts(connection: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Per run id, how many services got each verdict."""
    counts: dict[str, dict[str, int]] = {}
    rows = connection.execute(
        "SELECT run_id, verdict, COUNT(*) FROM verdicts GROUP BY run_id, verdict"
    )
    for run_id, verdict, number in rows:
        counts.setdefault(run_id, {})[verdict] = number
    return counts
