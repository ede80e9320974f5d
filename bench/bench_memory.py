"""PSS of an idle container: its agent, wineserver, services.exe and the services
Wine starts by itself, nothing duplicated into it.

Run:  .venv/bin/python bench/bench_memory.py [--containers 4] [--samples 5]

Memory is PSS (Pss of /proc/<pid>/smaps_rollup) summed over the container's
processes: those whose environment has HARNESS_RUN=<run id> and WINEPREFIX=<its
prefix>.  PSS splits a shared page among the processes that map it, so the figure
per container falls as more containers share the golden prefix's files; here
`--containers` containers run beside the engine's host side and client.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import benchlib

NAME = "bench_memory"


def breakdown(pids: list[int]) -> dict[str, float]:
    """PSS in MiB by process name, for the report of one container."""
    names: dict[str, float] = {}
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        names[name] = names.get(name, 0) + benchlib.pss_mib([pid])
    return dict(sorted(names.items(), key=lambda item: -item[1]))


def measure(count: int, rounds: int) -> dict[str, Any]:
    per_container: list[float] = []
    processes: list[int] = []
    with benchlib.wine_engine("bench") as engine:
        made = engine.create_containers([f"m{n}" for n in range(count)])
        for container in made:
            benchlib.wait_running(container)
        time.sleep(3)  # let boot-time work finish: idle means idle
        for _ in range(rounds):
            groups = benchlib.processes_by_prefix(engine.run.id)
            for container in made:
                pids = groups.get(str(container.prefix), [])
                per_container.append(benchlib.pss_mib(pids))
                processes.append(len(pids))
            time.sleep(1)
        groups = benchlib.processes_by_prefix(engine.run.id)
        parts = breakdown(groups.get(str(made[0].prefix), []))
    return {"pss_mib": per_container, "processes": processes, "breakdown": parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=4)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    before = benchlib.machine()
    data = measure(args.containers, args.samples)
    s = benchlib.stats(data["pss_mib"])
    print(benchlib.PSS_NOTE)
    print(benchlib.show(f"PSS per idle container ({args.containers} running)",
                        data["pss_mib"], "MiB"))  # fmt: skip
    print(f"processes per container: {benchlib.stats(data['processes'])['median']:g}")
    print("one container by process: " + ", ".join(
        f"{k} {v:.1f}" for k, v in data["breakdown"].items()) + " (MiB)")  # fmt: skip
    data["stats"] = s
    data["rows"] = [
        benchlib.row(
            "PSS per idle container",
            "≤ 80 MiB",
            f"median {s['median']:.1f} MiB, p95 {s['p95']:.1f} MiB",
            met=s["median"] <= 80,
            command=".venv/bin/python bench/bench_memory.py",
        )
    ]
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
