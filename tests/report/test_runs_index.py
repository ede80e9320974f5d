"""The runs index: outcome counts per run and flags for the runs that need a look."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from harness.report import build_report

pytest_plugins = ["pytester"]

A = ("win2022", "wine", "rpcss", "starts")
B = ("win2022", "wine", "rpcss", "serves")


def rows(root: Path) -> dict[str, tuple[str, str, str]]:
    """run id -> (cells, verdicts, flags) as text, from the runs index."""
    page = (root / "index.html").read_text(encoding="utf-8")
    found = {}
    for run_id, body in re.findall(
        r'<tr data-run="([^"]*)"[^>]*>(.*?)</tr>', page, re.S
    ):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        text = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
        found[run_id] = (text[3], text[4], " ".join(text[5].split()))
    return found


def test_each_run_lists_its_outcomes_and_what_needs_a_look(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    plan = {
        "clean": ({A: "passed", B: "expected_failure"}, {}),
        "failing": ({A: "passed", B: "failed"}, {}),
        "broken": ({A: "broken", B: "passed"}, {}),
        "gone": ({A: "passed", B: "xpass"}, {}),
        "stopped": ({A: "passed"}, {"interrupted": True, "selected": [A, B]}),
        "sharded": ({A: "passed", B: "passed"}, {"shard": "1/2"}),
    }
    for run_id, (outcomes, meta) in plan.items():
        build_report([make_results(run_id, outcomes, **meta)], root)
    found = rows(root)
    assert found["clean"] == ("1 passed, 1 expected failure", "1 partial", "")
    assert found["failing"] == ("1 failed, 1 passed", "1 partial", "failed cells")
    assert found["broken"] == ("1 broken, 1 passed", "1 unknown", "broken cells")
    assert found["gone"][0] == (
        "1 failed (1 known issue no longer reproducing), 1 passed"
    )
    assert found["gone"][2] == "known issues to remove from matrix.yaml"
    assert found["stopped"] == ("1 passed, 1 not run", "1 unknown", "interrupted")
    assert found["sharded"][2] == "incomplete: shard(s) 2/2 missing"
    page = (root / "index.html").read_text(encoding="utf-8")
    assert page.count('class="flagged"') == 5


def test_a_filtered_run_counts_what_it_left_out_apart(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    matrix = [list(A), list(B)]
    results = make_results("serves", {B: "passed"}, matrix_checks=matrix)
    build_report([results], root)
    assert rows(root)["serves"] == ("1 passed; 1 not selected", "1 unknown", "")
