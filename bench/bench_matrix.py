"""The whole default local matrix: wall time of `harness run --no-report`, beside
the same run with HARNESS_POOL=0 HARNESS_AGENT=0 (no warm pool: every suite boots
its containers when it starts; no agent: every probe call is a new Wine process).

Run:  .venv/bin/python bench/bench_matrix.py [--repeat 3]

The two variants alternate (harness, baseline, harness, ...).  One pair takes
about three minutes on a 2-core machine; three pairs by default.
"""

from __future__ import annotations

import argparse

import benchlib

NAME = "bench_matrix"
VARIANTS = {
    "harness": {},
    "baseline": {"HARNESS_POOL": "0", "HARNESS_AGENT": "0"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = benchlib.machine()
    samples, outcomes = benchlib.alternate(
        {k: {"args": [], "env": env} for k, env in VARIANTS.items()}, args.repeat
    )
    print(benchlib.show("default matrix, harness", samples["harness"]))
    print(benchlib.show("baseline: HARNESS_POOL=0 HARNESS_AGENT=0",
                        samples["baseline"]))  # fmt: skip
    fast, slow = (benchlib.stats(samples[k]) for k in VARIANTS)
    ratio = slow["median"] / fast["median"]
    print(f"ratio (baseline median / harness median): {ratio:.2f}x")
    caveat = benchlib.broken_caveat(outcomes)
    rows = [
        benchlib.row(
            "whole default matrix (54 cells)",
            "≤ 60 s",
            f"median {fast['median']:.0f} s (n={fast['n']})",
            f"pool 0, agent 0: {slow['median']:.0f} s{caveat}",
            f"{ratio:.1f}x faster{caveat}",
            fast["median"] <= 60,
            ".venv/bin/harness run --no-report",
        )
    ]
    data = {"samples": samples, "outcomes": outcomes, "rows": rows}
    benchlib.write(NAME, before, data)


if __name__ == "__main__":
    main()
