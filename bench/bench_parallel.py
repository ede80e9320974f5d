"""`harness run -n 2` against a serial run of the default matrix, alternated.

Run:  .venv/bin/python bench/bench_parallel.py [--repeat 3]

With -n 2 pytest-xdist runs two workers and --dist loadgroup keeps each
platform/engine placement on one worker, so the wine and wine-shared cells run
side by side.  On a 2-core machine the speed-up is bounded by the cores both
workers' Wine processes share (and by anything else the machine runs).
"""

from __future__ import annotations

import argparse

import benchlib

NAME = "bench_parallel"
VARIANTS = {"serial": [], "-n 2": ["-n", "2"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    samples, outcomes = benchlib.alternate(
        {k: {"args": extra} for k, extra in VARIANTS.items()}, args.repeat
    )
    for variant in VARIANTS:
        print(benchlib.show(f"default matrix, {variant}", samples[variant]))
    serial, parallel = (benchlib.stats(samples[k]) for k in VARIANTS)
    speedup = serial["median"] / parallel["median"]
    print(f"speed-up (serial median / -n 2 median): {speedup:.2f}x")
    caveat = benchlib.broken_caveat(outcomes)
    rows = [
        benchlib.row(
            "harness run -n 2 vs serial (default matrix)",
            "≥ 1.6x",
            f"-n 2: median {parallel['median']:.0f} s (n={parallel['n']})",
            f"serial: {serial['median']:.0f} s",
            f"{speedup:.2f}x{caveat}",
            speedup >= 1.6 and not caveat,
            ".venv/bin/harness run -n 2 --no-report",
        )
    ]
    data = {"samples": samples, "outcomes": outcomes, "rows": rows}
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
