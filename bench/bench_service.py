"""One service's cases end to end: wall time of `harness run --service ordinary`
and of `harness run --service spooler`, alternated.

Run:  .venv/bin/python bench/bench_service.py [--runs 3]

The wall time is taken around the whole command, as a user sees it: interpreter
and pytest start, matrix load, guest-tool make check, both engines prepared (host
side and client of each), two suites (wine and wine-shared, three checks each),
teardown, and the dashboard (over an empty history).  Each service is also run
with --no-report beside it, which shows what rendering the dashboard costs.
"""

from __future__ import annotations

import argparse

import benchlib

NAME = "bench_service"
SERVICES = ("ordinary", "spooler")


def key(service: str, report: bool) -> str:
    return f"harness run --service {service}" + ("" if report else " --no-report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    variants = [(s, r) for s in SERVICES for r in (True, False)]
    samples, outcomes = benchlib.alternate(
        {key(*v): {"args": ["--service", v[0]], "report": v[1]} for v in variants},
        args.runs,
    )
    rows = []
    for service in SERVICES:
        s, bare = (benchlib.stats(samples[key(service, r)]) for r in (True, False))
        for report in (True, False):
            print(benchlib.show(key(service, report), samples[key(service, report)]))
        rows.append(
            benchlib.row(
                f"one service's cases ({service}, 2 engines x 3 checks, dashboard)",
                "≤ 10 s",
                f"median {s['median']:.1f} s, p95 {s['p95']:.1f} s (n={s['n']})",
                f"--no-report: {bare['median']:.1f} s",
                f"dashboard {s['median'] - bare['median']:+.1f} s",
                met=s["median"] <= 10,
                command=f".venv/bin/harness run --service {service}",
            )
        )
    data = {"samples": samples, "outcomes": outcomes, "rows": rows}
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
