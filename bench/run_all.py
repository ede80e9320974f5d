"""Run every speed benchmark, one after the other, and print one summary table.

Run:  .venv/bin/python bench/run_all.py [--only probe,memory] [--markdown]

Each script prints its own figures and writes bench/results/<name>.json; this
reads the "rows" of those files afterwards.  The scripts run one at a time
because each one's figures would be disturbed by another's Wine processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import benchlib

SCRIPTS = [
    "container", "probe", "overhead", "service",
    "memory", "scale", "matrix", "parallel", "report",
]  # fmt: skip
COLUMNS = ("figure", "target", "measured", "baseline", "ratio", "met")


def run(name: str) -> int:
    script = benchlib.ROOT / "bench" / f"bench_{name}.py"
    print(f"\n=== bench_{name}.py", flush=True)
    began = time.perf_counter()
    code = subprocess.run([sys.executable, str(script)], cwd=benchlib.ROOT).returncode
    print(f"=== bench_{name}.py: exit {code} after {time.perf_counter() - began:.0f} s")
    return code


def rows(names: list[str]) -> list[dict[str, str]]:
    found = []
    for name in names:
        path = benchlib.RESULTS / f"bench_{name}.json"
        if path.exists():
            found += json.loads(path.read_text()).get("rows", [])
    return [{k: cell(r.get(k)) for k in (*COLUMNS, "command")} for r in found]


def cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def table(lines: list[dict[str, str]], markdown: bool) -> str:
    columns = (*COLUMNS, "command") if markdown else COLUMNS
    if markdown:
        head = "| " + " | ".join(columns) + " |"
        rule = "|" + "---|" * len(columns)
        body = ["| " + " | ".join(line[c] for c in columns) + " |" for line in lines]
        return "\n".join([head, rule, *body])
    widths = [max(len(c), *(len(line[c]) for line in lines)) for c in columns]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for line in lines:
        out.append(
            "  ".join(line[c].ljust(w) for c, w in zip(columns, widths, strict=True))
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names, e.g. probe,memory")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument(
        "--table-only", action="store_true", help="only print the recorded figures"
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else SCRIPTS
    failed = [] if args.table_only else [n for n in names if run(n) != 0]
    lines = rows(names)
    if lines:
        print("\n" + table(lines, args.markdown))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
