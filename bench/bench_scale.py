"""32 containers at once: how long until all are ready, their total PSS, and the
system memory they take.

Run:  .venv/bin/python bench/bench_scale.py [--containers 32] [--repeat 3]

Ready means what bench_container.py means: created, agent answering, and
`probe scm query eventlog` RUNNING, for every one of them; they are made with
engine.create_containers() (all side by side).  Memory is PSS (Pss of
/proc/<pid>/smaps_rollup) summed over the containers' processes: those whose
environment has HARNESS_RUN=<run id> and WINEPREFIX=<a container's prefix>.  The
system memory used is MemTotal - MemAvailable after minus before; other work on
the machine moves that figure, PSS it does not.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import benchlib

NAME = "bench_scale"
GIB = 1024


def once(count: int) -> dict[str, float]:
    with benchlib.wine_engine("bench") as engine:
        time.sleep(1)
        used_before = benchlib.system_used_mib()
        began = time.perf_counter()
        made = engine.create_containers([f"s{n}" for n in range(count)])
        for container in made:
            benchlib.wait_running(container)
        ready = time.perf_counter() - began
        time.sleep(3)  # idle, as in bench_memory.py
        groups = benchlib.processes_by_prefix(engine.run.id)
        prefixes = {str(c.prefix) for c in made}
        pids = [p for prefix, ps in groups.items() if prefix in prefixes for p in ps]
        pss = benchlib.pss_mib(pids)
        system = benchlib.system_used_mib() - used_before
    return {"ready_s": ready, "pss_mib": pss, "system_mib": system, "pids": len(pids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    runs: list[dict[str, Any]] = []
    for number in range(args.repeat):
        runs.append(once(args.containers))
        r = runs[-1]
        print(f"run {number + 1}: all {args.containers} ready in {r['ready_s']:.1f} s; "
              f"PSS {r['pss_mib']:.0f} MiB ({r['pss_mib'] / args.containers:.1f} "
              f"MiB each, {r['pids']} processes); system memory used "
              f"+{r['system_mib']:.0f} MiB")  # fmt: skip
    print(benchlib.PSS_NOTE)
    ready = benchlib.stats([r["ready_s"] for r in runs])
    pss = benchlib.stats([r["pss_mib"] for r in runs])
    system = benchlib.stats([r["system_mib"] for r in runs])
    rows = [
        benchlib.row(
            f"{args.containers} containers: all ready",
            "≤ 10 s",
            f"median {ready['median']:.1f} s (n={ready['n']})",
            met=ready["median"] <= 10,
            command=".venv/bin/python bench/bench_scale.py",
        ),
        benchlib.row(
            f"{args.containers} containers: total PSS / system memory used",
            "fit in 4 GiB",
            f"PSS {pss['median'] / GIB:.2f} GiB, "
            f"system +{system['median'] / GIB:.2f} GiB",
            met=max(pss["median"], system["median"]) <= 4 * GIB,
            command=".venv/bin/python bench/bench_scale.py",
        ),
    ]
    benchlib.write(NAME, before, {"runs": runs, "rows": rows})


if __name__ == "__main__":
    main()
