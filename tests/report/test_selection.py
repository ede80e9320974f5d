"""Verdicts cover every check of the matrix for a service, whatever a run selected.

A run filtered by ``--check``, a shard or ``-k`` leaves checks out: they are not run,
the service's verdict is unknown, and such a run neither starts nor breaks the run
since which a verdict holds.
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.report import build_report

pytest_plugins = ["pytester"]

CHECKS = ("starts", "serves", "isolated")
SERVICES = ("rpcss", "schedule")


def key(service: str, check: str) -> tuple[str, str, str, str]:
    return ("wine-8", "wine", service, check)


MATRIX = [list(key(s, c)) for s in SERVICES for c in CHECKS]
ALL_PASS = {key(s, c): "passed" for s in SERVICES for c in CHECKS}
# What `--check serves` ran: rpcss serves is a known issue, schedule serves passes.
SERVES_ONLY = {
    key("rpcss", "serves"): "expected_failure",
    key("schedule", "serves"): "passed",
}


def report(
    make_results: Callable[..., Path],
    root: Path,
    run_id: str,
    outcomes: dict[tuple[str, ...], str],
    hour: int,
    **meta: Any,
) -> dict[str, Any]:
    meta.setdefault("matrix_checks", MATRIX)
    started = f"2026-11-0{hour}T01:00:00+00:00"
    results = make_results(run_id, outcomes, started=started, **meta)
    run_dir = build_report([results], root, run_id=meta.get("run_id_option"))
    return json.loads((run_dir / "matrix.json").read_text(encoding="utf-8"))


def verdicts(data: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        v["service"]: (v["verdict"], v["since_run"], v["note"])
        for v in data["verdicts"]
    }


def test_a_run_of_one_check_gives_unknown_verdicts_naming_what_ran(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    data = report(make_results, tmp_path / "r", "serves", SERVES_ONLY, 1)
    found = verdicts(data)
    assert found["rpcss"][0] == found["schedule"][0] == "unknown"
    assert found["schedule"][2] == (
        "only serves ran (isolated, starts not selected in this run); passed: serves"
    )
    assert found["rpcss"][2].startswith("only serves ran (isolated, starts not")
    rpcss = next(v for v in data["verdicts"] if v["service"] == "rpcss")
    assert rpcss["checks"] == {
        "isolated": "not_run",
        "serves": "expected_failure",
        "starts": "not_run",
    }
    left_out = [c for c in data["cells"] if not c["selected"]]
    assert {(c["service"], c["check"], c["outcome"]) for c in left_out} == {
        (s, c, "not_run") for s in SERVICES for c in ("starts", "isolated")
    }
    assert data["summary"]["outcomes"]["not_run"] == 0
    assert data["summary"]["not_selected"] == 4


def test_the_history_marks_what_a_run_left_out(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    report(make_results, root, "serves", SERVES_ONLY, 1)
    with sqlite3.connect(root / "history.sqlite") as connection:
        verdict_rows = connection.execute(
            "SELECT service, verdict, complete FROM verdicts ORDER BY service"
        ).fetchall()
        left_out = connection.execute(
            "SELECT count(*) FROM outcomes WHERE selected = 0 AND outcome = 'not_run'"
        ).fetchone()
    assert verdict_rows == [("rpcss", "unknown", 0), ("schedule", "unknown", 0)]
    assert left_out == (4,)
    junit = ET.parse(root / "serves" / "junit.xml").getroot()
    assert junit.get("tests") == "2"  # what the run selected


def test_a_filtered_run_neither_starts_nor_breaks_a_since(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    first = report(make_results, root, "full-1", ALL_PASS, 1)
    assert verdicts(first)["schedule"][:2] == ("supported", "full-1")
    middle = report(make_results, root, "serves", SERVES_ONLY, 2)
    assert verdicts(middle)["schedule"][:2] == ("unknown", "serves")
    last = report(make_results, root, "full-2", ALL_PASS, 3)
    assert verdicts(last)["schedule"][:2] == ("supported", "full-1")
    assert verdicts(last)["rpcss"][:2] == ("supported", "full-1")
    page = (root / "full-2" / "index.html").read_text(encoding="utf-8")
    assert 'since <span class="run-id" title="full-1">full-1</span>' in page


def test_a_check_that_vanished_is_not_run_unlike_one_left_out(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    ran = {k: v for k, v in ALL_PASS.items() if k[3] != "isolated"}
    selected = [list(k) for k in ALL_PASS]  # isolated selected, but no result
    data = report(make_results, tmp_path / "r", "gone", ran, 1, selected=selected)
    schedule = verdicts(data)["schedule"]
    assert schedule[0] == "unknown"
    assert schedule[2] == (
        "passed: serves, starts; not run: isolated (selected but no result)"
    )
    assert data["summary"]["outcomes"]["not_run"] == 2
    assert data["summary"]["not_selected"] == 0


def test_checks_deselected_by_k_are_left_out_and_say_so(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    deselected = [list(key("schedule", c)) for c in ("starts", "isolated")]
    ran = {key("schedule", "serves"): "passed"}
    selected = [list(key("schedule", c)) for c in CHECKS]
    data = report(
        make_results,
        tmp_path / "r",
        "k",
        ran,
        1,
        selected=selected,
        deselected=deselected,
    )
    cells = {c["check"]: c for c in data["cells"]}
    assert cells["starts"]["note"] == (
        "not selected in this run (deselected by a pytest option)"
    )
    assert not cells["starts"]["selected"] and cells["serves"]["selected"]
    assert [v["service"] for v in data["verdicts"]] == ["schedule"]
    assert data["verdicts"][0]["verdict"] == "unknown"


@pytest.mark.parametrize("late", ["starts", "isolated"])
def test_reports_of_one_run_together_decide_its_verdict(
    make_results: Callable[..., Path], tmp_path: Path, late: str
) -> None:
    root = tmp_path / "r"
    first = {k: v for k, v in ALL_PASS.items() if k[3] != late}
    selected = [list(k) for k in first]
    report(make_results, root, "part-1", first, 1, selected=selected)
    rest = {k: v for k, v in ALL_PASS.items() if k[3] == late}
    results = make_results(
        "part-2", rest, selected=[list(k) for k in rest], matrix_checks=MATRIX
    )
    run_dir = build_report([results], root, run_id="part-1")
    data = json.loads((run_dir / "matrix.json").read_text(encoding="utf-8"))
    assert {v["verdict"] for v in data["verdicts"]} == {"supported"}
    assert all(c["selected"] for c in data["cells"]) and len(data["cells"]) == 6
