"""History store, trends across runs and the comparison of two runs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.report import build_report
from harness.report.compare import (
    diff_html,
    diff_json,
    diff_runs,
    diff_text,
    engine_pairs,
)
from harness.report.history import HISTORY_FILE, open_store
from harness.report.model import CellKey, Outcome
from harness.report.trends import flip_rate

pytest_plugins = ["pytester"]

A = ("win2022", "wine", "rpcss", "starts")
B = ("win2022", "wine", "rpcss", "serves")
C = ("win2022", "wine", "spooler", "starts")


Runs = tuple[Path, list[Path]]


def started(hour: int) -> str:
    return f"2026-11-0{hour}T01:00:00+00:00"


@pytest.fixture
def three_runs(make_results: Callable[..., Path], tmp_path: Path) -> Runs:
    """Three nightly runs: B breaks in the second and is fixed in the third."""
    root = tmp_path / "reports"
    plan = [
        {A: "passed", B: "passed", C: "passed"},
        {A: "passed", B: "failed", C: "broken"},
        {A: "passed", B: "passed", C: "passed"},
    ]
    dirs = []
    for number, outcomes in enumerate(plan, start=1):
        results = make_results(f"n{number}", outcomes, started=started(number))
        dirs.append(build_report([results], root))
    return root, dirs


def matrix(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "matrix.json").read_text(encoding="utf-8"))


def cell_of(data: dict[str, Any], key: tuple[str, ...]) -> dict[str, Any]:
    names = ("platform", "engine", "service", "check")
    return next(c for c in data["cells"] if tuple(c[n] for n in names) == key)


def test_the_same_run_twice_is_stored_once(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    results = make_results("same", {A: "passed"})
    build_report([results], tmp_path / "reports")
    build_report([results], tmp_path / "reports")
    with sqlite3.connect(tmp_path / "reports" / HISTORY_FILE) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert connection.execute("SELECT COUNT(*) FROM outcomes").fetchone() == (1,)


def test_the_store_is_plain_sqlite_a_user_can_query(three_runs: Runs) -> None:
    root, _ = three_runs
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        rows = connection.execute(
            "SELECT r.run_id, o.outcome FROM outcomes o JOIN runs r USING (run_id)"
            " WHERE o.service = 'rpcss' AND o.check_name = 'serves'"
            " ORDER BY r.started_epoch"
        ).fetchall()
    assert rows == [("n1", "passed"), ("n2", "failed"), ("n3", "passed")]


def test_newly_failing_and_newly_fixed(three_runs: Runs) -> None:
    _, (first, second, third) = three_runs
    assert matrix(first)["changes"] == {
        "previous_run": None,
        "no_longer_reproduces": [],
        "newly_failing": [],
        "newly_fixed": [],
    }
    first_page = (first / "index.html").read_text(encoding="utf-8")
    assert "No earlier run to compare with" in first_page
    assert 'id="newly-failing"' not in first_page
    assert matrix(second)["changes"]["previous_run"] == "n1"
    failing = matrix(second)["changes"]["newly_failing"]
    assert [(c["service"], c["check"], c["after"]) for c in failing] == [
        ("rpcss", "serves", "failed"),
        ("spooler", "starts", "broken"),
    ]
    fixed = matrix(third)["changes"]["newly_fixed"]
    assert [(c["check"], c["before"], c["before_run"]) for c in fixed][0] == (
        "serves",
        "failed",
        "n2",
    )
    page = (second / "index.html").read_text(encoding="utf-8")
    assert page.index('id="newly-failing"') < page.index('class="engine"')


def test_recent_outcomes_flips_and_since(three_runs: Runs) -> None:
    _, (_, _, third) = three_runs
    data = matrix(third)
    serves = cell_of(data, B)
    assert [h["outcome"] for h in serves["history"]] == ["passed", "failed", "passed"]
    assert serves["flip_rate"] == 1.0 and serves["flaky"] is True
    assert cell_of(data, A)["flaky"] is False
    rpcss = next(v for v in data["verdicts"] if v["service"] == "rpcss")
    assert rpcss["since_run"] == "n3"
    assert data["history_runs"] == ["n1", "n2", "n3"]


def test_verdict_since_spans_the_unbroken_streak(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    for number, outcome in enumerate(["failed", "passed", "passed"], start=1):
        results = make_results(f"s{number}", {A: outcome}, started=started(number))
        run_dir = build_report([results], root)
    verdict = matrix(run_dir)["verdicts"][0]
    assert (verdict["verdict"], verdict["since_run"]) == ("supported", "s2")


def test_history_size_limits_recent_outcomes(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    for number in range(1, 4):
        results = make_results(f"h{number}", {A: "passed"}, started=started(number))
        run_dir = build_report([results], root, history_size=2)
    assert [h["run_id"] for h in cell_of(matrix(run_dir), A)["history"]] == [
        "h2",
        "h3",
    ]


def test_latest_follows_the_newest_run_by_start_time(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    late = make_results("late", {A: "passed"}, started=started(5))
    early = make_results("early", {A: "failed"}, started=started(1))
    build_report([late], root)
    build_report([early], root)
    assert (root / "latest").readlink() == Path("late")


def test_diff_lists_changed_cells_in_three_formats(three_runs: Runs) -> None:
    root, _ = three_runs
    with open_store(root) as connection:
        diff = diff_runs(connection, "n1", "n2")
    assert [(c.key.service, c.before, c.after) for c in diff.changes] == [
        ("rpcss", Outcome.PASSED, Outcome.FAILED),
        ("spooler", Outcome.PASSED, Outcome.BROKEN),
    ]
    text = diff_text(diff)
    assert "win2022 | wine | rpcss | serves: passed -> failed" in text
    assert "covered by only one" not in text
    data = json.loads(diff_json(diff))
    assert data["schema"] == 1 and len(data["changes"]) == 2
    assert (data["only_in_run_a"], data["only_in_run_b"]) == (0, 0)
    page = diff_html(diff)
    assert "rpcss" in page and "<script" not in page
    assert 'id="one-sided"' not in page


def test_cells_only_one_run_covered_are_no_changes(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    """A filtered run (as ``--check serves``) leaves cells out; a selected cell
    without a result is still a change."""
    root = tmp_path / "reports"
    full = {A: "passed", B: "passed", C: "passed"}
    build_report([make_results("d1", full)], root)
    matrix_checks = [list(A), list(B), list(C)]
    filtered = make_results("d2", {B: "passed"}, matrix_checks=matrix_checks)
    build_report([filtered], root)
    lost = make_results("d3", {B: "passed"}, selected=[list(B), list(C)])
    build_report([lost], root)  # C selected, no result: not run
    with open_store(root) as connection:
        narrowed = diff_runs(connection, "d1", "d2")
        widened = diff_runs(connection, "d2", "d1")
        interrupted = diff_runs(connection, "d1", "d3")
    assert narrowed.changes == [] and (narrowed.only_a, narrowed.only_b) == (2, 0)
    assert widened.changes == [] and (widened.only_a, widened.only_b) == (0, 2)
    text = diff_text(narrowed)
    assert text.splitlines()[0] == (
        "2 cell(s) covered by only one of the runs are left out (2 only by d1, "
        "0 only by d2): the other run did not select them"
    )
    assert "not run" not in text
    assert 'id="one-sided">2 cell(s) covered by only one' in diff_html(narrowed)
    (change,) = interrupted.changes
    assert change.key == CellKey(*C) and change.after is Outcome.NOT_RUN
    assert interrupted.only_a == 1  # A: d3 did not have it at all


def test_an_unknown_run_id_lists_the_known_ones(three_runs: Runs) -> None:
    root, _ = three_runs
    with open_store(root) as connection, pytest.raises(ConfigError) as raised:
        diff_runs(connection, "n1", "n9")
    assert "unknown run id 'n9'" in str(raised.value)
    assert "'n1', 'n2', 'n3'" in str(raised.value)


@pytest.mark.parametrize(
    ("outcomes", "rate"),
    [
        ([], 0.0),
        (["passed"], 0.0),
        (["passed", "passed", "passed"], 0.0),
        (["passed", "failed", "passed", "failed"], 1.0),
        (["passed", "skipped", "passed", "failed"], 0.5),
    ],
)
def test_flip_rate(outcomes: list[str], rate: float) -> None:
    assert flip_rate([Outcome(o) for o in outcomes]) == rate


def report_series(
    make_results: Callable[..., Path],
    root: Path,
    outcomes: list[str],
    key: tuple[str, ...] = A,
) -> dict[str, Any]:
    """Report one run per outcome of ``key``; matrix.json of the last run."""
    for number, outcome in enumerate(outcomes, start=1):
        results = make_results(f"r{number}", {key: outcome}, started=started(number))
        run_dir = build_report([results], root)
    return matrix(run_dir)


@pytest.mark.parametrize(
    ("outcomes", "flaky"),
    [
        (["passed", "passed", "failed"], False),  # a clean regression
        (["passed", "passed", "passed", "broken"], False),  # an infrastructure blip
        (["passed", "broken", "passed", "broken"], False),  # the lab, not the engine
        (["passed", "failed", "failed"], False),
        (["passed", "failed", "passed"], True),
        (["failed", "passed", "broken", "failed"], True),
    ],
)
def test_flaky_takes_two_flips_of_the_engine_s_own_answers(
    make_results: Callable[..., Path],
    tmp_path: Path,
    outcomes: list[str],
    flaky: bool,
) -> None:
    data = report_series(make_results, tmp_path / "reports", outcomes)
    assert cell_of(data, A)["flaky"] is flaky


def test_a_regression_is_newly_failing_and_not_flaky(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    data = report_series(
        make_results, tmp_path / "reports", ["passed", "passed", "failed"]
    )
    assert [c["check"] for c in data["changes"]["newly_failing"]] == ["starts"]
    assert cell_of(data, A)["flaky"] is False


def test_a_known_issue_that_no_longer_reproduces_has_its_own_list(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    data = report_series(
        make_results, tmp_path / "reports", ["expected_failure", "xpass"]
    )
    changes = data["changes"]
    assert changes["newly_failing"] == []
    assert [
        (c["check"], c["known_issue"]) for c in changes["no_longer_reproduces"]
    ] == [("starts", "Wine lacks the endpoint mapper")]
    page = (tmp_path / "reports" / "r2" / "index.html").read_text(encoding="utf-8")
    top = page.index('id="no-longer-reproduces"')
    assert top < page.index("Since the previous run")
    assert "remove them from matrix.yaml" in page
    note = data["verdicts"][0]["note"]
    assert note.startswith("known issue no longer reproduces, remove it from matrix")
    assert "starts (passed; known issue: Wine lacks the endpoint mapper)" in note


def test_a_late_shard_is_merged_into_its_run(
    make_results: Callable[..., Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = tmp_path / "reports"
    first = make_results("sA", {A: "passed", B: "failed"}, shard="1/3")
    second = make_results("sB", {C: "passed", B: "passed"}, shard="3/3")
    build_report([first], root, run_id="nightly")
    run_dir = build_report([second], root, run_id="nightly")
    data = matrix(run_dir)
    outcomes = {tuple(c[n] for n in NAMES): c["outcome"] for c in data["cells"]}
    assert outcomes == {A: "passed", B: "passed", C: "passed"}
    assert data["run"]["shards"] == {"reported": ["1/3", "3/3"], "missing": ["2/3"]}
    assert "shard(s) 2/3 not reported yet" in caplog.text
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="incomplete"' in page and "2/3" in page
    assert "Recorded by an earlier report of this run" in page
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        rows = connection.execute("SELECT COUNT(*) FROM outcomes").fetchone()
        runs = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
    assert rows == (3,) and runs == (1,)


def test_all_shards_reported_is_no_warning(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    build_report([make_results("x1", {A: "passed"}, shard="1/2")], root, run_id="n")
    run_dir = build_report(
        [make_results("x2", {B: "passed"}, shard="2/2")], root, run_id="n"
    )
    assert matrix(run_dir)["run"]["shards"]["missing"] == []
    assert 'id="incomplete"' not in (run_dir / "index.html").read_text()


NAMES = ("platform", "engine", "service", "check")


def engine(version: str, host: str) -> dict[str, Any]:
    return {
        "platform": "win2022",
        "engine": "wine",
        "version": version,
        "os_build": "",
        "target": "vagrant",
        "host": host,
        "details": {},
    }


def test_diff_shows_both_runs_engine_versions_and_links(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    for run_id, version, outcome in (("b1", "8.0", "failed"), ("b2", "9.0", "passed")):
        meta = {"engines": [engine(version, f"host-{run_id}")]}
        build_report([make_results(run_id, {A: outcome}, **meta)], root)
    with open_store(root) as connection:
        diff = diff_runs(connection, "b1", "b2")
        engines = engine_pairs(connection, "b1", "b2")
        stored = connection.execute(
            "SELECT run_id, version, os_build, target, host FROM engines"
            " ORDER BY run_id"
        ).fetchall()
    assert stored == [
        ("b1", "8.0", "", "vagrant", "host-b1"),
        ("b2", "9.0", "", "vagrant", "host-b2"),
    ]
    page = diff_html(diff, engines)
    assert 'href="../b1/index.html"' in page and 'href="../b2/index.html"' in page
    assert "8.0" in page and "9.0" in page and 'class="changed"' in page
    assert "engine wine on win2022: 8.0 -> 9.0" in diff_text(diff, engines)
    data = json.loads(diff_json(diff, engines))
    assert data["engines"][0]["run_b"]["version"] == "9.0"


def test_diff_says_when_only_one_run_had_an_engine(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    for run_id, engines in (("c1", [engine("8.0", "h")]), ("c2", [])):
        build_report([make_results(run_id, {A: "passed"}, engines=engines)], root)
    with open_store(root) as connection:
        text = diff_text(
            diff_runs(connection, "c1", "c2"), engine_pairs(connection, "c1", "c2")
        )
        back = diff_text(
            diff_runs(connection, "c2", "c1"), engine_pairs(connection, "c2", "c1")
        )
    assert "engine wine on win2022: only in c1 (8.0)" in text
    assert "engine wine on win2022: only in c1 (8.0)" in back
    assert "-> not run" not in text + back


SCHEMA_1 = """
CREATE TABLE store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO store VALUES ('schema', '1');
CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE,
    started TEXT NOT NULL, started_epoch REAL NOT NULL, finished TEXT,
    interrupted INTEGER NOT NULL, harness_version TEXT NOT NULL,
    hostname TEXT NOT NULL, ci TEXT, reported TEXT NOT NULL);
CREATE TABLE outcomes (run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL, engine TEXT NOT NULL, service TEXT NOT NULL,
    check_name TEXT NOT NULL, outcome TEXT NOT NULL, attempts INTEGER NOT NULL,
    passed_after_retry INTEGER NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (run_id, platform, engine, service, check_name));
CREATE TABLE verdicts (run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    platform TEXT NOT NULL, engine TEXT NOT NULL, service TEXT NOT NULL,
    verdict TEXT NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (run_id, platform, engine, service));
INSERT INTO runs VALUES (1, 'old', '2026-10-01T01:00:00+00:00', 1790000000, NULL, 0,
    '0.1.0', 'vm', NULL, '2026-10-01T02:00:00+00:00');
INSERT INTO outcomes VALUES ('old', 'win2022', 'wine', 'rpcss', 'starts', 'failed',
    1, 0, 'boom');
"""


def test_a_schema_1_store_is_converted_and_keeps_its_runs(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    root.mkdir()
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        connection.executescript(SCHEMA_1)
    run_dir = build_report([make_results("new", {A: "passed"})], root)
    data = matrix(run_dir)
    assert [h["outcome"] for h in cell_of(data, A)["history"]] == ["failed", "passed"]
    assert [c["before_run"] for c in data["changes"]["newly_fixed"]] == ["old"]
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        schema = connection.execute("SELECT value FROM store").fetchone()
        complete = connection.execute("SELECT complete FROM verdicts").fetchall()
    assert schema == ("3",) and complete == [(1,)]


def test_a_schema_2_store_gets_the_columns_of_schema_3(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    build_report([make_results("two", {A: "failed"})], root)
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        connection.execute("ALTER TABLE outcomes DROP COLUMN selected")
        connection.execute("ALTER TABLE verdicts DROP COLUMN complete")
        connection.execute("ALTER TABLE runs DROP COLUMN counts")
        connection.execute("UPDATE store SET value = '2'")
    run_dir = build_report([make_results("three", {A: "passed"})], root)
    assert [h["outcome"] for h in cell_of(matrix(run_dir), A)["history"]] == [
        "failed",
        "passed",
    ]
    with sqlite3.connect(root / HISTORY_FILE) as connection:
        rows = connection.execute(
            "SELECT run_id, o.selected, v.complete FROM outcomes o"
            " JOIN verdicts v USING (run_id) ORDER BY run_id"
        ).fetchall()
        schema = connection.execute("SELECT value FROM store").fetchone()
        counts = connection.execute(
            "SELECT run_id, counts FROM runs ORDER BY run_id"
        ).fetchall()
    assert rows == [("three", 1, 1), ("two", 1, 1)] and schema == ("3",)
    assert counts == [("three", '{"passed": 1}'), ("two", '{"failed": 1}')]
