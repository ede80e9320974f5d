"""Benchmark of the report step: a history of 1,000 runs x 300 cells, then one run.

Run:  .venv/bin/python bench/bench_report.py [--runs 1000] [--keep DIR]

1. Fills a history store with ``--runs`` runs of 300 cells (5 platforms x 2 engines
   x 10 services x 3 checks, seeded random outcomes) and reports how long that took.
2. Writes one real allure-results folder for those 300 cells by running pytest with
   allure-pytest on a generated module (steps and a text attachment per cell).
3. Builds the report of that run on top of the full history three times, each in
   a fresh child process, and prints the median wall time of build_report and
   the peak RSS of those processes (the resident-set high-water mark from
   getrusage, so it includes the interpreter and its imports; not PSS).
4. Beside each build, times ``allure generate`` on the same results folder when
   Node.js and the npm ``allure`` or ``allure-commandline`` package are present;
   says "allure not available" otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import benchlib

from harness.report import history
from harness.report.allure_files import allure_generate_argv, find_allure
from harness.report.model import CellKey, CellResult, Outcome
from harness.report.verdicts import service_verdicts

PLATFORMS = ["win2016", "win2019", "win2022", "win11", "wine-8"]
ENGINES = ["wine", "windows-containers"]
SERVICES = [
    "rpcss", "dcom", "iis", "spooler", "eventlog",
    "schedule", "wmi", "ordinary", "mysql", "apache",
]  # fmt: skip
CHECKS = ["starts", "serves", "isolated"]
BUILDS = 3
WEIGHTS = {
    Outcome.PASSED: 80,
    Outcome.FAILED: 8,
    Outcome.BROKEN: 4,
    Outcome.EXPECTED_FAILURE: 6,
    Outcome.SKIPPED: 2,
}


def all_cells() -> list[CellKey]:
    return [
        CellKey(p, e, s, c)
        for p in PLATFORMS
        for e in ENGINES
        for s in SERVICES
        for c in CHECKS
    ]


def fill_history(root: Path, runs: int) -> float:
    """Record ``runs`` synthetic runs; returns the seconds it took."""
    rng = random.Random(7)
    keys = all_cells()
    began = time.perf_counter()
    with history.open_store(root) as connection:
        for number in range(runs):
            outcomes = rng.choices(list(WEIGHTS), list(WEIGHTS.values()), k=len(keys))
            pairs = zip(keys, outcomes, strict=True)
            cells = {k: CellResult(k, o, attempts=1) for k, o in pairs}
            day = time.gmtime(1_700_000_000 + number * 86_400)
            row = history.RunRow(
                f"nightly-{number:04d}",
                time.strftime("%Y-%m-%dT%H:%M:%S+00:00", day),
                None, False, "0.1.0", "bench", None,
            )  # fmt: skip
            history.record_run(connection, row, cells, service_verdicts(cells))
    return time.perf_counter() - began


CASES = """
import allure
import pytest

CELLS = {cells}


@pytest.mark.parametrize("cell", CELLS, ids=["-".join(c) for c in CELLS])
def test_cell(cell):
    for name, value in zip(("platform", "engine", "service", "check"), cell):
        allure.dynamic.label(name, value)
    with allure.step("run probe.exe " + cell[3]):
        allure.attach("argv: probe.exe\\nexit code: 0\\nstdout: {{}}", name="command",
                      attachment_type=allure.attachment_type.TEXT)
    assert hash(cell) % 10 != 0, "the engine answered wrongly"
"""


def write_results(work: Path) -> Path:
    """One real allure-results folder for the 300 cells (pytest + allure-pytest)."""
    module = work / "test_bench_cells.py"
    cells = [key.as_list() for key in all_cells()]
    module.write_text(textwrap.dedent(CASES.format(cells=json.dumps(cells))))
    results = work / "allure-results"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "allure_pytest", f"--alluredir={results}", str(module)],
        cwd=work, capture_output=True, check=False,
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    meta = {
        "kind": "harness-run-meta", "schema": 1, "run_id": "bench-run",
        "harness_version": "0.1.0", "started": "2030-01-01T00:00:00+00:00",
        "finished": "2030-01-01T01:00:00+00:00", "interrupted": False,
        "where": {"hostname": "bench", "ci": None}, "engines": [], "selected": cells,
        "known_issues": [],
    }  # fmt: skip
    (results / "harness-meta-bench.json").write_text(json.dumps(meta))
    return results


CHILD = """
import resource, sys, time
from pathlib import Path
from harness.report import build_report
began = time.perf_counter()
build_report([Path(sys.argv[1])], Path(sys.argv[2]), history_size=10)
seconds = time.perf_counter() - began
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def time_build(results: Path, root: Path) -> tuple[float, float]:
    """Seconds for build_report, and the peak RSS in MiB of the process that ran
    it (a fresh interpreter, so nothing else inflates the figure)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(results), str(root)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, peak_kib = done.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 1024


def time_allure(results: Path, out: Path) -> float | str:
    """Seconds of ``allure generate`` on the same results, or why it could not run."""
    command = find_allure()
    if command is None:
        return "allure not available"
    argv = allure_generate_argv(command, [results], out)
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        return f"allure generate failed (exit {done.returncode})"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    root = work / "reports"
    before = benchlib.machine()

    filled = fill_history(root, args.runs)
    size = (root / history.HISTORY_FILE).stat().st_size >> 20
    print(
        f"history: {args.runs} runs x {len(all_cells())} cells recorded in "
        f"{filled:.2f} s ({size} MiB of SQLite)"
    )

    results = write_results(work)
    builds, allure = [], []
    for _ in range(BUILDS):  # alternated, so both see the same machine
        builds.append(time_build(results, root))
        allure.append(time_allure(results, work / "allure-report"))
    times = [seconds for seconds, _ in builds]
    peak = max(r for _, r in builds)
    print(benchlib.show(f"build_report of one run ({len(all_cells())} cells) over "
                        "that history", times))  # fmt: skip
    print(f"peak RSS of the reporting process {peak:.0f} MiB")
    index = root / "bench-run" / "index.html"
    print(f"index.html: {index.stat().st_size >> 10} KiB")
    timed = [a for a in allure if isinstance(a, float)]
    ours = benchlib.stats(times)
    if timed:
        print(benchlib.show("allure generate on the same results", timed))
        theirs = benchlib.stats(timed)
        baseline = f"allure generate: {theirs['median']:.2f} s"
        ratio = f"{theirs['median'] / ours['median']:.1f}x faster"
    else:
        baseline, ratio = str(allure[0]), "—"
        print(baseline)
    rows = [
        benchlib.row(
            f"harness report over {args.runs} runs x {len(all_cells())} cells",
            "—",
            f"median {ours['median']:.2f} s (n={ours['n']}), peak RSS {peak:.0f} MiB",
            baseline,
            ratio,
            command=".venv/bin/python bench/bench_report.py",
        )
    ]
    data = {"samples": {"build": times, "allure": allure}, "rows": rows}
    benchlib.write("bench_report", before, data)


if __name__ == "__main__":
    main()
