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
from harness.report.compare import diff_html, diff_json, diff_runs, diff_text
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
    assert matrix(first)["changes"] == {"newly_failing": [], "newly_fixed": []}
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
        changes = diff_runs(connection, "n1", "n2")
    assert [(c.key.service, c.before, c.after) for c in changes] == [
        ("rpcss", Outcome.PASSED, Outcome.FAILED),
        ("spooler", Outcome.PASSED, Outcome.BROKEN),
    ]
    text = diff_text("n1", "n2", changes)
    assert "win2022 | wine | rpcss | serves: passed -> failed" in text
    data = json.loads(diff_json("n1", "n2", changes))
    assert data["schema"] == 1 and len(data["changes"]) == 2
    page = diff_html("n1", "n2", changes)
    assert "rpcss" in page and "<script" not in page


def test_a_cell_missing_from_one_run_counts_as_not_run(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    build_report([make_results("d1", {A: "passed", B: "passed"})], root)
    build_report([make_results("d2", {A: "passed"})], root)
    with open_store(root) as connection:
        (change,) = diff_runs(connection, "d1", "d2")
    assert change.key == CellKey(*B) and change.after is Outcome.NOT_RUN


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
