"""Shared parts of the speed benchmarks: statistics, PSS, the engine, harness runs.

Every bench script measures its figure and its naive baseline in the same run,
alternating the variants, because the machine is shared and noisy: the ratio of
two figures taken side by side means more than either absolute number.  Each
script writes bench/results/<name>.json with its samples, its summary rows (read
by bench/run_all.py) and the load of the machine before and after.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HARNESS = Path(sys.executable).parent / "harness"
PSS_NOTE = (
    "memory is PSS (Pss of /proc/<pid>/smaps_rollup) summed over the container's "
    "processes: those whose environment has HARNESS_RUN=<run id> and "
    "WINEPREFIX=<its prefix>"
)


def stats(samples: list[float]) -> dict[str, float]:
    """Median, p95 (nearest rank), min and max of the samples, and their count."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p95": ordered[rank - 1],
        "min": ordered[0],
        "max": ordered[-1],
    }


def show(label: str, samples: list[float], unit: str = "s", scale: float = 1) -> str:
    """One printable line: 'label: median 0.41 s, p95 0.52 s (n=8)'."""
    s = stats(samples)
    return (
        f"{label}: median {s['median'] * scale:.3g} {unit}, "
        f"p95 {s['p95'] * scale:.3g} {unit} (n={s['n']})"
    )


def row(
    figure: str,
    target: str,
    measured: str,
    baseline: str = "—",
    ratio: str = "—",
    met: bool | None = None,
    command: str = "",
) -> dict[str, Any]:
    """One line of the summary table that run_all.py and docs/speed.md show."""
    return {
        "figure": figure,
        "target": target,
        "measured": measured,
        "baseline": baseline,
        "ratio": ratio,
        "met": met,
        "command": command,
    }


def machine() -> dict[str, Any]:
    """The load and memory of the machine now (other work runs beside us)."""
    return {
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "mem_used_mib": round(system_used_mib()),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write(name: str, before: dict[str, Any], data: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json with the machine's state around the run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"bench": name, "machine_before": before, "machine_after": machine()}
    path.write_text(json.dumps({**record, **data}, indent=1) + "\n")
    print(
        f"load average: {before['loadavg_1m']} before, "
        f"{record['machine_after']['loadavg_1m']} after, on {before['cpus']} cores"
    )
    print(f"written: {path.relative_to(ROOT)}")
    return path


def system_used_mib() -> float:
    """MemTotal minus MemAvailable, in MiB: memory the whole system uses."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def processes_by_prefix(run_id: str) -> dict[str, list[int]]:
    """Pids of a run grouped by their WINEPREFIX (read from /proc/<pid>/environ)."""
    marker = f"HARNESS_RUN={run_id}".encode()
    groups: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker not in environ:
            continue
        for item in environ:
            if item.startswith(b"WINEPREFIX="):
                prefix = item.partition(b"=")[2].decode(errors="replace")
                groups.setdefault(prefix, []).append(int(entry.name))
    return groups


def pss_mib(pids: list[int]) -> float:
    """Sum of the PSS of these processes in MiB (gone processes count 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
    return total / 1024


@contextlib.contextmanager
def wine_engine(name: str = "bench", network: str = "isolated") -> Iterator[Any]:
    """A prepared WineEngine on a private HARNESS_STATE, removed without trace.

    Built the way tests/test_wine_engine.py builds it; close() runs in a finally,
    then the run's leftovers (if any) are released like a crashed run's.
    """
    from harness import cleanup
    from harness.engines.wine import WineEngine
    from harness.matrix import Engine as EngineConfig
    from harness.run import Run
    from harness.targets.local import LocalTarget

    state = Path(tempfile.mkdtemp(prefix="bench-state-"))
    os.environ["HARNESS_STATE"] = str(state)
    run = Run.create()
    config = EngineConfig(
        kind="wine", platforms=["wine-8"], options={"network": network}
    )
    host = LocalTarget("wine-8", None, run).up()  # type: ignore[arg-type]
    engine = WineEngine(host, name, config, run)
    try:
        engine.prepare()
        yield engine
    finally:
        try:
            engine.close()
        finally:
            for problem in cleanup.release(run.state):
                print(f"cleanup: {problem}", file=sys.stderr)
            shutil.rmtree(state, ignore_errors=True)


def wait_running(container: Any, service: str = "eventlog", timeout: float = 30) -> int:
    """Poll `probe scm query <service>` until RUNNING; returns how many queries."""
    deadline = time.monotonic() + timeout
    queries = 0
    while True:
        queries += 1
        answer = json.loads(container.guest("probe", "scm", "query", service).stdout)
        if answer.get("state") == "RUNNING":
            return queries
        if time.monotonic() > deadline:
            raise TimeoutError(f"{container.name}: {service} not RUNNING: {answer}")
        time.sleep(0.01)


def harness_run(
    args: list[str],
    env: dict[str, str] | None = None,
    inspect: Callable[[Path], Any] | None = None,
    report: bool = False,
) -> dict[str, Any]:
    """Run `harness run ARGS` into a throwaway reports folder (with --no-report
    unless `report`: then the dashboard is rendered too, over an empty history).

    Returns the wall time, exit code, outcome counts and, when `inspect` is given,
    what it returned for the run's folder (read before the folder is removed).
    """
    reports = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    argv = [str(HARNESS), "run", *([] if report else ["--no-report"]),
            "--no-progress", "--reports", str(reports), *args]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True
    )
    wall = time.perf_counter() - began
    try:
        run_dir = next(p for p in reports.iterdir() if p.is_dir())
        summary = json.loads((run_dir / "summary.json").read_text())
        counts: dict[str, int] = {}
        for cell in summary.get("cells", {}).values():
            counts[cell["outcome"]] = counts.get(cell["outcome"], 0) + 1
        seen = inspect(run_dir) if inspect else None
    except (StopIteration, OSError, ValueError):
        counts, seen = {}, None
    finally:
        shutil.rmtree(reports, ignore_errors=True)
    return {"wall": wall, "exit": done.returncode, "outcomes": counts, "seen": seen}


def describe(result: dict[str, Any]) -> str:
    """'41 passed, 13 expected failure (exit 0)' for a harness_run() result."""
    counts = ", ".join(f"{n} {k}" for k, n in sorted(result["outcomes"].items()))
    return f"{counts or 'no cells'} (exit {result['exit']})"


def alternate(
    variants: dict[str, dict[str, Any]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Run every variant once per round, in turn; wall times and outcome lines.

    Each variant is the keyword arguments of one harness_run() call, so a noisy
    spell of the machine falls on all variants alike.
    """
    samples: dict[str, list[float]] = {k: [] for k in variants}
    outcomes: dict[str, list[str]] = {k: [] for k in variants}
    for number in range(rounds):
        for variant, how in variants.items():
            result = harness_run(**how)
            samples[variant].append(result["wall"])
            outcomes[variant].append(describe(result))
            print(f"run {number + 1} {variant}: {result['wall']:.1f} s, "
                  f"{describe(result)}", flush=True)  # fmt: skip
    return samples, outcomes


def broken_caveat(outcomes: dict[str, list[str]]) -> str:
    """A note for the ratio when a run had broken cells, else "".

    A run with broken cells waited on timeouts or skipped work instead of doing
    it: its wall time is not the cost of its variant.
    """
    if not any("broken" in line for lines in outcomes.values() for line in lines):
        return ""
    print("warning: a run had broken cells, so its wall time is not comparable")
    return "; broken cells, not comparable"
