"""The tables of the history store, and the conversion of older stores.

Schema 2 added the cell's parameters (part of its key), its note and known issue,
the shards and results folders of each run, and the engines table.  Schema 3 added
``outcomes.selected`` (0 for a check of the matrix the run left out),
``verdicts.complete`` (0 when some check of the service was not run) and
``runs.counts`` (the run's outcome counts, for the runs index).  An older
store is converted in place when it is opened: its cells get no parameters (from
schema 1), and its cells count as selected and its verdicts as complete, which
they were not always (a filtered run's verdicts covered only the checks it ran).
"""

from __future__ import annotations

import json
import logging
import sqlite3

from harness.errors import ConfigError
from harness.report.model import NO_LONGER_REPRODUCES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
RUNS = """
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
    reported TEXT NOT NULL,
    shards TEXT NOT NULL DEFAULT '[]',
    results_dirs TEXT NOT NULL DEFAULT '[]',
    counts TEXT NOT NULL DEFAULT '{}'
);
"""
OUTCOMES = """
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
    parameters TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    known_issue TEXT NOT NULL DEFAULT '',
    selected INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (run_id, platform, engine, service, check_name, parameters)
);
"""
REST = """
CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    engine TEXT NOT NULL,
    service TEXT NOT NULL,
    verdict TEXT NOT NULL,
    note TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (run_id, platform, engine, service)
);
CREATE TABLE IF NOT EXISTS engines (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    engine TEXT NOT NULL,
    version TEXT NOT NULL,
    os_build TEXT NOT NULL,
    target TEXT NOT NULL,
    host TEXT NOT NULL,
    PRIMARY KEY (run_id, platform, engine)
);
CREATE INDEX IF NOT EXISTS outcomes_by_cell
    ON outcomes (platform, engine, service, check_name);
"""
# Columns added by schema 3, with their declarations.
COLUMNS_3 = (
    ("runs", "counts", "TEXT NOT NULL DEFAULT '{}'"),
    ("outcomes", "selected", "INTEGER NOT NULL DEFAULT 1"),
    ("verdicts", "complete", "INTEGER NOT NULL DEFAULT 1"),
)
OLD_OUTCOME_COLUMNS = (
    "run_id, platform, engine, service, check_name, outcome, attempts,"
    " passed_after_retry, message"
)


def create(connection: sqlite3.Connection) -> None:
    """Create the tables that are missing and convert an older store."""
    connection.executescript(RUNS + OUTCOMES + REST)
    row = connection.execute("SELECT value FROM store WHERE key = 'schema'").fetchone()
    if row is None:
        connection.execute(
            "INSERT INTO store VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )
    elif row[0] in ("1", "2"):
        with connection:
            if row[0] == "1":
                _from_1(connection)
            _to_3(connection)
            connection.execute(
                "UPDATE store SET value = ? WHERE key = 'schema'",
                (str(SCHEMA_VERSION),),
            )
    elif row[0] != str(SCHEMA_VERSION):
        raise ConfigError(
            f"history store schema {row[0]} is not {SCHEMA_VERSION}; "
            "use a new reports root or convert the file"
        )


def _from_1(connection: sqlite3.Connection) -> None:
    """Schema 1 to 2: new columns on runs; outcomes rebuilt with parameters in
    its key (SQLite cannot change a primary key in place)."""
    log.info("history: converting the store from schema 1 to 2")
    for column in ("shards", "results_dirs"):
        connection.execute(
            f"ALTER TABLE runs ADD COLUMN {column} TEXT NOT NULL DEFAULT '[]'"
        )
    connection.execute("DROP INDEX IF EXISTS outcomes_by_cell")
    connection.execute("ALTER TABLE outcomes RENAME TO outcomes_1")
    connection.executescript(OUTCOMES + REST)
    connection.execute(
        f"INSERT INTO outcomes ({OLD_OUTCOME_COLUMNS})"
        f" SELECT {OLD_OUTCOME_COLUMNS} FROM outcomes_1"
    )
    connection.execute("DROP TABLE outcomes_1")


def _to_3(connection: sqlite3.Connection) -> None:
    """Schema 2 to 3: the columns of COLUMNS_3 (a store just converted from
    schema 1 already has those of the tables it rebuilt)."""
    log.info("history: converting the store to schema 3")
    for table, column, declaration in COLUMNS_3:
        names = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in names:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    _fill_counts(connection)


def _fill_counts(connection: sqlite3.Connection) -> None:
    """``runs.counts`` of the runs recorded before schema 3, from their outcomes
    (what ``history.cell_counts`` stores for a new run)."""
    counts: dict[str, dict[str, int]] = {}
    rows = connection.execute(
        "SELECT run_id, outcome, COUNT(*), SUM(note LIKE ?) FROM outcomes"
        " GROUP BY run_id, outcome",
        (NO_LONGER_REPRODUCES + "%",),
    )
    for run_id, outcome, number, gone in rows:
        found = counts.setdefault(run_id, {})
        found[outcome] = number
        if gone:
            found["no_longer_reproduces"] = found.get("no_longer_reproduces", 0) + gone
    connection.executemany(
        "UPDATE runs SET counts = ? WHERE run_id = ?",
        [(json.dumps(dict(sorted(c.items()))), r) for r, c in counts.items()],
    )
