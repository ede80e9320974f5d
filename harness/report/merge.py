"""A run id reported again is merged with what history holds for it, cell by cell.

CI shards may be reported one at a time with the same ``--run-id``: the late
shard's results replace the results of the cells it ran, and every other cell of
the run keeps what the earlier reports recorded (without its evidence, which lives
in the earlier results folders).  Reporting the same folders again therefore gives
the same run.  A selected cell without a result ("not run") never replaces a
recorded result, and a check the new report did not select never replaces one an
earlier report selected.
"""

from __future__ import annotations

from dataclasses import replace

from harness.report.history import RunRow
from harness.report.meta import parse_time
from harness.report.model import CellKey, CellResult, EngineInfo, Outcome


def merge_cells(
    earlier: dict[CellKey, CellResult], new: dict[CellKey, CellResult]
) -> dict[CellKey, CellResult]:
    """The run's cells: ``new`` over ``earlier``; sorted by key."""
    merged = dict(earlier)
    for key, cell in new.items():
        if not _replaces(cell, earlier.get(key)):
            continue
        merged[key] = cell
    ran = {k.labels_only for k, c in merged.items() if c.outcome is not Outcome.NOT_RUN}
    return {
        key: cell
        for key, cell in sorted(merged.items())
        if cell.outcome is not Outcome.NOT_RUN or key.labels_only not in ran
    }


def _replaces(cell: CellResult, before: CellResult | None) -> bool:
    """Whether a new report's cell replaces what was recorded: a result always
    does; "not run" only replaces "not run", and a left-out check only another."""
    if before is None or cell.outcome is not Outcome.NOT_RUN:
        return True
    if before.outcome is not Outcome.NOT_RUN:
        return False
    return cell.selected or not before.selected


def merge_run(earlier: RunRow | None, new: RunRow) -> RunRow:
    """The run row after one more report of it: earliest start, latest finish
    (none while any report never finished), every host, CI, shard and folder."""
    if earlier is None:
        return new
    starts = [s for s in (earlier.started, new.started) if parse_time(s)]
    finishes = [earlier.finished, new.finished]
    return replace(
        new,
        started=min(starts, key=_moment) if starts else new.started,
        finished=None if None in finishes else max(finishes, key=_moment),
        interrupted=earlier.interrupted or new.interrupted,
        hostname=_union(earlier.hostname, new.hostname),
        ci=_union(earlier.ci or "", new.ci or "") or None,
        shards=tuple(sorted(set(earlier.shards) | set(new.shards))),
        results_dirs=tuple(dict.fromkeys(earlier.results_dirs + new.results_dirs)),
    )


def _moment(text: str | None) -> float:
    moment = parse_time(text)
    return moment.timestamp() if moment else 0.0


def _union(*joined: str) -> str:
    parts = {p.strip() for text in joined for p in text.split(",")} - {""}
    return ", ".join(sorted(parts))


def merge_engines(earlier: list[EngineInfo], new: list[EngineInfo]) -> list[EngineInfo]:
    """One entry per (platform, engine); the newer report's wins."""
    found = {(e.platform, e.engine): e for e in earlier}
    found.update({(e.platform, e.engine): e for e in new})
    return [found[pair] for pair in sorted(found)]


def missing_shards(shards: tuple[str, ...] | list[str]) -> list[str]:
    """The shards ``i/n`` not reported yet, for every ``n`` some shard names.

    >>> missing_shards(["2/4", "4/4"])
    ['1/4', '3/4']
    """
    seen: dict[int, set[int]] = {}
    for text in shards:
        index, _, count = text.partition("/")
        if index.isdigit() and count.isdigit():
            seen.setdefault(int(count), set()).add(int(index))
    return [
        f"{i}/{n}"
        for n, got in sorted(seen.items())
        for i in range(1, n + 1)
        if i not in got
    ]
