"""One service's cases end to end: wall time of `harness run --service ordinary`
and of `harness run --service spooler`, alternated.

Run:  .venv/bin/python bench/bench_service.py [--runs 3]

The wall time is taken around the whole command, as a user sees it: interpreter
and pytest start, matrix load, guest-tool make check, both engines prepared (host
side and client of each), two suites (wine and wine-shared, three checks each),
teardown.  The dashboard is not rendered (--no-report).
"""

from __future__ import annotations

import argparse

import benchlib

NAME = "bench_service"
SERVICES = ("ordinary", "spooler")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    samples: dict[str, list[float]] = {s: [] for s in SERVICES}
    outcomes: dict[str, list[str]] = {s: [] for s in SERVICES}
    for number in range(args.runs):
        for service in SERVICES:
            result = benchlib.harness_run(["--service", service])
            samples[service].append(result["wall"])
            outcomes[service].append(benchlib.describe(result))
            print(f"run {number + 1} {service}: {result['wall']:.1f} s, "
                  f"{benchlib.describe(result)}")  # fmt: skip
    rows = []
    for service in SERVICES:
        print(benchlib.show(f"harness run --service {service}", samples[service]))
        s = benchlib.stats(samples[service])
        rows.append(
            benchlib.row(
                f"one service's cases ({service}, 2 engines x 3 checks)",
                "≤ 10 s",
                f"median {s['median']:.1f} s, p95 {s['p95']:.1f} s",
                met=s["median"] <= 10,
                command=f".venv/bin/harness run --service {service} --no-report",
            )
        )
    data = {"samples": samples, "outcomes": outcomes, "rows": rows}
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
