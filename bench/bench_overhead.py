"""Harness overhead per cell: the time of a cell not spent in guest calls, read from
the allure results of real `harness run --service ordinary` runs.

Run:  .venv/bin/python bench/bench_overhead.py [--runs 3]

For every cell (allure result): its wall time (stop - start of the test call)
minus the sum of the durations of its guest calls (the "duration:" line of each
"command" attachment, which the harness measures around the call).  What is left
is the harness: pytest, allure steps and attachments, JSON parsing, the checks'
own logic.  The module-scoped suite fixture (containers acquired, service
duplicated) runs before the first cell and is reported beside it, split the same
way; container boots are not guest calls, so they count as overhead there.
Allure times are whole milliseconds, so a single figure is good to about 1 ms.

Shortcoming of the measure: a guest call that a case makes without an allure step
(test_isolated calls engine.duplicate() on the peer directly, two SCM calls) is
not seen, so its time counts as overhead; that inflates the p95, not the median.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import benchlib

NAME = "bench_overhead"
DURATION = re.compile(r"^duration: ([0-9.]+) s$", re.MULTILINE)


def guest_seconds(node: dict[str, Any], folder: Path) -> tuple[float, int]:
    """Sum and count of the guest-call durations in a result, step or fixture."""
    total, count = 0.0, 0
    for attachment in node.get("attachments", []):
        if attachment.get("name") == "command":
            text = (folder / attachment["source"]).read_text(errors="replace")
            found = DURATION.search(text)
            if found:
                total, count = total + float(found.group(1)), count + 1
    for step in node.get("steps", []):
        more, n = guest_seconds(step, folder)
        total, count = total + more, count + n
    return total, count


def split(node: dict[str, Any], folder: Path) -> dict[str, Any]:
    wall = (node["stop"] - node["start"]) / 1000
    guest, calls = guest_seconds(node, folder)
    return {
        "name": node.get("fullName") or node.get("name"),
        "params": [p.get("value") for p in node.get("parameters", [])],
        "wall": wall,
        "guest": guest,
        "calls": calls,
        "overhead": wall - guest,
    }


def read_cells(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Per cell and per suite fixture: wall, guest time, calls and overhead."""
    folder = run_dir / "allure-results"
    found: dict[str, list[dict[str, Any]]] = {"cells": [], "setups": []}
    for path in folder.glob("*-result.json"):
        result = json.loads(path.read_text())
        if any(label.get("name") == "check" for label in result.get("labels", [])):
            found["cells"].append(split(result, folder))
    for path in folder.glob("*-container.json"):
        for before in json.loads(path.read_text()).get("befores", []):
            if before.get("name") == "suite" and "stop" in before:
                found["setups"].append(split(before, folder))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    cells: list[dict[str, Any]] = []
    setups: list[dict[str, Any]] = []
    for number in range(args.runs):
        result = benchlib.harness_run(["--service", "ordinary"], inspect=read_cells)
        print(f"run {number + 1}: {result['wall']:.1f} s, {benchlib.describe(result)}")
        cells += result["seen"]["cells"]
        setups += result["seen"]["setups"]
    overhead = [c["overhead"] for c in cells]
    s = benchlib.stats(overhead)
    print(benchlib.show("harness overhead per cell", overhead, "ms", 1000))
    print(benchlib.show("  cell wall time", [c["wall"] for c in cells], "ms", 1000))
    print(benchlib.show("  guest calls per cell", [c["calls"] for c in cells], ""))
    if setups:
        print(benchlib.show("suite setup, overhead (containers, pool)",
                            [x["overhead"] for x in setups], "ms", 1000))  # fmt: skip
    rows = [
        benchlib.row(
            "harness overhead per cell (ordinary)",
            "median ≤ 30 ms",
            f"median {s['median'] * 1000:.1f} ms, p95 {s['p95'] * 1000:.1f} ms",
            met=s["median"] <= 0.030,
            command=".venv/bin/python bench/bench_overhead.py",
        )
    ]
    data = {"cells": cells, "setups": setups, "stats": s, "rows": rows}
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
