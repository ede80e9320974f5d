"""One probe round trip inside a container: through the resident agent, and as a
new Wine process per call (the HARNESS_AGENT=0 path), alternated in one container.

Run:  .venv/bin/python bench/bench_probe.py [--rounds 10]

Each round makes 40 calls through the agent, then 4 calls as new `wine probe.exe`
processes (container.run(), which is what guest() does without an agent), for two
subcommands: `scm query eventlog` (a round trip to the container's SCM, what the
checks do most) and `info` (no SCM call).  Times are taken around container.guest()
and container.run() on the controller side, so they include the harness's own
work (pipe, JSON, logging), not only the guest's.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import benchlib

NAME = "bench_probe"
COMMANDS = {"scm query eventlog": ["scm", "query", "eventlog"], "info": ["info"]}
AGENT_CALLS, PROCESS_CALLS = 40, 4


def through_agent(container: Any, argv: list[str]) -> float:
    began = time.perf_counter()
    container.guest("probe", *argv).check()
    return time.perf_counter() - began


def as_process(container: Any, argv: list[str]) -> float:
    began = time.perf_counter()
    container.run(["C:\\harness\\probe.exe", *argv]).check()
    return time.perf_counter() - began


def measure(rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    with benchlib.wine_engine("bench") as engine:
        container = engine.create_container("probe")
        benchlib.wait_running(container)
        for _ in range(rounds):
            for label, argv in COMMANDS.items():
                agent = samples.setdefault(f"agent {label}", [])
                agent += [through_agent(container, argv) for _ in range(AGENT_CALLS)]
                process = samples.setdefault(f"process {label}", [])
                process += [as_process(container, argv) for _ in range(PROCESS_CALLS)]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    before = benchlib.machine()
    samples = measure(args.rounds)
    s = {k: benchlib.stats(v) for k, v in samples.items()}
    rows = []
    for label in COMMANDS:
        agent, process = s[f"agent {label}"], s[f"process {label}"]
        ratio = process["median"] / agent["median"]
        print(benchlib.show(f"probe {label}, agent", samples[f"agent {label}"],
                            "ms", 1000))  # fmt: skip
        print(benchlib.show(f"baseline: probe {label}, new Wine process",
                            samples[f"process {label}"], "ms", 1000))  # fmt: skip
        print(f"ratio (process median / agent median): {ratio:.0f}x")
        rows.append(
            benchlib.row(
                f"probe round trip (`{label}`)",
                "median ≤ 10 ms",
                f"median {agent['median'] * 1000:.1f} ms, "
                f"p95 {agent['p95'] * 1000:.1f} ms",
                f"new process: median {process['median'] * 1000:.0f} ms",
                f"{ratio:.0f}x faster",
                agent["median"] <= 0.010,
                ".venv/bin/python bench/bench_probe.py",
            )
        )
    benchlib.write(NAME, before, {"samples": samples, "stats": s, "rows": rows})


if __name__ == "__main__":
    main()
