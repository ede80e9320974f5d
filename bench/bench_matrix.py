"""The whole default local matrix: wall time of `harness run --no-report`, beside
the same run with HARNESS_POOL=0 HARNESS_AGENT=0 (no warm pool: every suite boots
its containers when it starts; no agent: every probe call is a new Wine process).

Run:  .venv/bin/python bench/bench_matrix.py [--repeat 3]

The two variants alternate (harness, baseline, harness, ...).  One pair takes
about four minutes on a loaded 2-core machine, hence one pair by default.
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
    samples: dict[str, list[float]] = {k: [] for k in VARIANTS}
    outcomes: dict[str, list[str]] = {k: [] for k in VARIANTS}
    for number in range(args.repeat):
        for variant, env in VARIANTS.items():
            result = benchlib.harness_run([], env)
            samples[variant].append(result["wall"])
            outcomes[variant].append(benchlib.describe(result))
            print(f"run {number + 1} {variant}: {result['wall']:.1f} s, "
                  f"{benchlib.describe(result)}")  # fmt: skip
    print(benchlib.show("default matrix, harness", samples["harness"]))
    print(benchlib.show("baseline: HARNESS_POOL=0 HARNESS_AGENT=0",
                        samples["baseline"]))  # fmt: skip
    fast, slow = (benchlib.stats(samples[k]) for k in VARIANTS)
    ratio = slow["median"] / fast["median"]
    print(f"ratio (baseline median / harness median): {ratio:.2f}x")
    # A run with broken cells waited on timeouts instead of doing the work: its
    # wall time is not the cost of the variant, so the ratio is flagged.
    caveat = (
        "; broken cells, not comparable"
        if any("broken" in line for lines in outcomes.values() for line in lines)
        else ""
    )
    if caveat:
        print("warning: a run had broken cells, so its wall time is not comparable")
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
