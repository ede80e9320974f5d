"""The history store: every reported run's outcomes and verdicts in one SQLite file.

``<reports root>/history.sqlite`` holds four tables a user can query with the
``sqlite3`` shell (see docs/report.md): ``runs``, ``outcomes`` (one row per cell and
run), ``verdicts`` (one row per service and run) and ``engines`` (one row per
platform, engine and run).  Reporting the same run id again merges that run cell by
cell (merge.py), so shards reported one by one never duplicate or lose cells.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError, HarnessError
from harness.report import history_schema
from harness.report.meta import parse_time
from harness.report.model import (
    CellKey,
    CellResult,
    EngineInfo,
    Outcome,
    ServiceVerdict,
    parameters_from_json,
)

log = logging.getLogger(__name__)

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = history_schema.SCHEMA_VERSION
RUN_ORDER = "started_epoch, seq"
RUN_COLUMNS = (
    "run_id, started, finished, interrupted, harness_version, hostname, ci,"
    " shards, results_dirs"
)


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
    shards: tuple[str, ...] = ()
    results_dirs: tuple[str, ...] = ()


class HistoryError(HarnessError):
    """The history store cannot be read or written; the message names the file and
    says what to do.  Infrastructure trouble, not a mistake in the command."""


# SQLite's own codes for a file that is not (or no longer) a sound database.
DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


def store_error(path: Path, error: sqlite3.Error) -> HistoryError:
    """The HistoryError for an SQLite error on the store at ``path``."""
    if getattr(error, "sqlite_errorname", "") in DAMAGED:
        return HistoryError(
            f"the history store {path} is damaged ({error}): move it aside "
            f"(mv {path} {path}.damaged) to start a new history, or put back a good "
            "copy, then report again"
        )
    return HistoryError(
        f"the history store {path} cannot be used ({error}): check that the file "
        "and its folder can be read and written, then report again"
    )


@contextmanager
def open_store(reports_root: Path) -> Iterator[sqlite3.Connection]:
    """Open (creating or converting when needed) the history store under the
    reports root; every SQLite error on it becomes a HistoryError."""
    path = reports_root / HISTORY_FILE
    reports_root.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path)
    except sqlite3.Error as error:
        raise store_error(path, error) from error
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        history_schema.create(connection)
        with connection:
            yield connection
    except sqlite3.Error as error:
        raise store_error(path, error) from error
    finally:
        connection.close()


def record_run(
    connection: sqlite3.Connection,
    run: RunRow,
    cells: Mapping[CellKey, CellResult],
    verdicts: list[ServiceVerdict],
    engines: Sequence[EngineInfo] = (),
) -> None:
    """Store one run with all its cells, replacing what was stored for its id.

    A run reported before keeps its place in the run order (its ``seq``); the
    caller merges an earlier report's cells into ``cells`` first (see merge.py).
    """
    _put_run(connection, run)
    for table in ("outcomes", "verdicts", "engines"):
        connection.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.run_id,))
    connection.executemany(
        "INSERT INTO outcomes (run_id, platform, engine, service, check_name,"
        " outcome, attempts, passed_after_retry, message, parameters, note,"
        " known_issue, selected) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(run.run_id, *key.as_list(), *_cell_row(cell)) for key, cell in cells.items()],
    )
    connection.executemany(
        "INSERT INTO verdicts (run_id, platform, engine, service, verdict, note,"
        " complete) VALUES (?,?,?,?,?,?,?)",
        [
            (run.run_id, *vars(v.key).values(), v.verdict, v.note, int(v.complete))
            for v in verdicts
        ],
    )
    connection.executemany(
        "INSERT OR REPLACE INTO engines VALUES (?,?,?,?,?,?,?)",
        [
            (run.run_id, e.platform, e.engine, e.version, e.os_build, e.target, e.host)
            for e in engines
        ],
    )
    connection.execute(
        "UPDATE runs SET counts = ? WHERE run_id = ?",
        (json.dumps(cell_counts(cells.values())), run.run_id),
    )
    log.info("history: recorded run %s with %d cells", run.run_id, len(cells))


def cell_counts(cells: Iterable[CellResult]) -> dict[str, int]:
    """How many selected cells had each outcome, how many of the failed ones are
    known issues that no longer reproduce, and how many checks were left out.

    Stored as ``runs.counts``, so the runs index never scans every outcome.
    """
    counts: Counter[str] = Counter()
    for cell in cells:
        if not cell.selected:
            counts["not_selected"] += 1
            continue
        counts[cell.outcome.value] += 1
        if cell.no_longer_reproduces:
            counts["no_longer_reproduces"] += 1
    return dict(sorted(counts.items()))


def run_counts(connection: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """``runs.counts`` of every run, by run id."""
    rows = connection.execute("SELECT run_id, counts FROM runs")
    return {run_id: json.loads(text or "{}") for run_id, text in rows}


def _put_run(connection: sqlite3.Connection, run: RunRow) -> None:
    moment = parse_time(run.started) or datetime.now(UTC)
    values = (
        run.started,
        moment.timestamp(),
        run.finished,
        int(run.interrupted),
        run.harness_version,
        run.hostname,
        run.ci,
        datetime.now(UTC).isoformat(),
        json.dumps(list(run.shards)),
        json.dumps(list(run.results_dirs), ensure_ascii=False),
        run.run_id,
    )
    updated = connection.execute(
        "UPDATE runs SET started = ?, started_epoch = ?, finished = ?,"
        " interrupted = ?, harness_version = ?, hostname = ?, ci = ?, reported = ?,"
        " shards = ?, results_dirs = ? WHERE run_id = ?",
        values,
    )
    if updated.rowcount == 0:
        connection.execute(
            "INSERT INTO runs (started, started_epoch, finished, interrupted,"
            " harness_version, hostname, ci, reported, shards, results_dirs, run_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            values,
        )


def _cell_row(cell: CellResult) -> tuple[str, int, int, str, str, str, str, int]:
    return (
        cell.outcome.value,
        cell.attempts,
        int(cell.passed_after_retry),
        cell.message,
        cell.key.parameters_json,
        cell.note,
        cell.known_issue,
        int(cell.selected),
    )


def run_cells(connection: sqlite3.Connection, run_id: str) -> dict[CellKey, CellResult]:
    """The cells recorded for one run, without their evidence (history keeps none)."""
    rows = connection.execute(
        "SELECT platform, engine, service, check_name, parameters, outcome, attempts,"
        " passed_after_retry, message, note, known_issue, selected FROM outcomes"
        " WHERE run_id = ?",
        (run_id,),
    )
    cells = {}
    for row in rows:
        key = CellKey.of(row[:4], parameters_from_json(row[4]))
        cells[key] = CellResult(
            key=key,
            outcome=Outcome(row[5]),
            attempts=row[6],
            passed_after_retry=bool(row[7]),
            recorded_message=row[8],
            note=row[9],
            known_issue=row[10],
            from_history=True,
            selected=bool(row[11]),
        )
    return cells


def run_engines(connection: sqlite3.Connection, run_id: str) -> list[EngineInfo]:
    """What one run recorded about its engines, by platform and engine."""
    rows = connection.execute(
        "SELECT platform, engine, version, os_build, target, host FROM engines"
        " WHERE run_id = ? ORDER BY platform, engine",
        (run_id,),
    )
    return [
        EngineInfo(row[0], row[1], row[2], row[3], target=row[4], host=row[5])
        for row in rows
    ]


def get_run(connection: sqlite3.Connection, run_id: str) -> RunRow | None:
    """One run by id, or None when history has no such run."""
    row = connection.execute(
        f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
    ).fetchone()
    return _run_row(row) if row else None


def _run_row(row: tuple) -> RunRow:  # type: ignore[type-arg]
    return RunRow(
        row[0],
        row[1],
        row[2],
        bool(row[3]),
        row[4],
        row[5],
        row[6],
        tuple(json.loads(row[7] or "[]")),
        tuple(json.loads(row[8] or "[]")),
    )


def runs(connection: sqlite3.Connection) -> list[RunRow]:
    """Every run in history, oldest first."""
    rows = connection.execute(
        f"SELECT {RUN_COLUMNS} FROM runs ORDER BY {RUN_ORDER}"
    ).fetchall()
    return [_run_row(row) for row in rows]


def find_run(connection: sqlite3.Connection, run_id: str) -> RunRow:
    """A run by id; ConfigError listing the known ids when there is none."""
    known = runs(connection)
    for run in known:
        if run.run_id == run_id:
            return run
    listing = ", ".join(repr(r.run_id) for r in known) or "none"
    raise ConfigError(f"unknown run id {run_id!r}; known run ids: {listing}")


def outcomes_of(
    connection: sqlite3.Connection, run_id: str, selected_only: bool = False
) -> dict[CellKey, Outcome]:
    """The outcome of every cell recorded for one run; with ``selected_only``,
    of the cells the run selected (not those its filters or shard left out)."""
    rows = connection.execute(
        "SELECT platform, engine, service, check_name, parameters, outcome"
        " FROM outcomes WHERE run_id = ?" + (" AND selected" if selected_only else ""),
        (run_id,),
    )
    return {_key(row[:5]): Outcome(row[5]) for row in rows}


def outcome_series(
    connection: sqlite3.Connection, run_ids: list[str]
) -> dict[CellKey, dict[str, Outcome]]:
    """Per cell, its outcome in each of the given runs (absent when not recorded)."""
    series: dict[CellKey, dict[str, Outcome]] = {}
    marks = ",".join("?" * len(run_ids))
    rows = connection.execute(
        "SELECT run_id, platform, engine, service, check_name, parameters, outcome"
        f" FROM outcomes WHERE run_id IN ({marks})",
        run_ids,
    )
    for row in rows:
        series.setdefault(_key(row[1:6]), {})[row[0]] = Outcome(row[6])
    return series


def _key(row: tuple) -> CellKey:  # type: ignore[type-arg]
    """A cell key from (platform, engine, service, check_name, parameters)."""
    return CellKey.of(row[:4], parameters_from_json(row[4]))


def verdict_counts(connection: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Per run id, how many services got each verdict."""
    counts: dict[str, dict[str, int]] = {}
    rows = connection.execute(
        "SELECT run_id, verdict, COUNT(*) FROM verdicts GROUP BY run_id, verdict"
    )
    for run_id, verdict, number in rows:
        counts.setdefault(run_id, {})[verdict] = number
    return counts
