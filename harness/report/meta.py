"""Read and merge the ``harness-meta-*.json`` files that each pytest worker writes.

Every worker (and every CI shard) writes its own file so that no worker writes a
shared one; the report merges them: earliest start, latest finish, interrupted when
any part was, and the union of engines, shards, selected cells and known issues.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harness.report.model import CellKey, EngineInfo, RunMeta

META_KIND = "harness-run-meta"
META_SCHEMA = 1


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive times are taken as UTC)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def check_meta(data: Any) -> str | None:
    """Why a parsed meta file cannot be used, or None when it can."""
    if not isinstance(data, dict) or data.get("kind") != META_KIND:
        return f"not a {META_KIND} file"
    if data.get("schema") != META_SCHEMA:
        return f"unsupported schema {data.get('schema')!r} (this report reads 1)"
    if not isinstance(data.get("run_id"), str):
        return "run_id is missing or not a string"
    return None


def merge_meta(parts: list[dict[str, Any]]) -> RunMeta:
    """Merge the meta files of one run's workers and shards into one RunMeta."""
    meta = RunMeta(files=len(parts))
    if not parts:
        return meta
    meta.run_ids = sorted({str(p["run_id"]) for p in parts})
    meta.run_id = _earliest_run_id(parts)
    meta.harness_version = _first(parts, "harness_version")
    meta.started = _earliest(parts)
    meta.finished = _latest_finish(parts)
    meta.interrupted = any(bool(p.get("interrupted")) for p in parts)
    where = [p.get("where") or {} for p in parts]
    meta.hostname = ", ".join(
        sorted({str(w.get("hostname") or "") for w in where} - {""})
    )
    cis = sorted({shown_ci(w["ci"]) for w in where if w.get("ci")})
    meta.ci = ", ".join(cis) or None
    meta.shards = sorted({str(p["shard"]) for p in parts if p.get("shard")})
    meta.engines = _engines(parts)
    meta.selected = _cells(parts, "selected")
    meta.matrix_checks = _cells(parts, "matrix_checks")
    meta.deselected = _cells(parts, "deselected")
    meta.known_issues = _known_issues(parts)
    return meta


def shown_ci(value: object) -> str:
    """The CI system's name; a bare flag such as ``CI=true`` (what older metadata
    recorded) becomes the generic ``CI``."""
    text = str(value).strip()
    return "CI" if text.lower() in ("true", "1", "yes") else text


def _earliest_run_id(parts: list[dict[str, Any]]) -> str:
    """The run id of the part that started first (a part without a start time
    after every other; ids in order break ties): shards that chose their own ids
    are one run begun by the first of them."""
    latest = datetime.max.replace(tzinfo=UTC)

    def order(part: dict[str, Any]) -> tuple[datetime, str]:
        return parse_time(part.get("started")) or latest, str(part["run_id"])

    return str(min(parts, key=order)["run_id"])


def _first(parts: list[dict[str, Any]], name: str) -> str:
    values = sorted({str(p.get(name) or "") for p in parts} - {""})
    return values[0] if values else ""


def _earliest(parts: list[dict[str, Any]]) -> str:
    times = [(parse_time(p.get("started")), p.get("started")) for p in parts]
    known = [(moment, text) for moment, text in times if moment is not None]
    return str(min(known)[1]) if known else ""


def _latest_finish(parts: list[dict[str, Any]]) -> str | None:
    """The last finish time; None when any worker never finished (it was stopped)."""
    times = [(parse_time(p.get("finished")), p.get("finished")) for p in parts]
    if any(moment is None for moment, _ in times):
        return None
    return max(times)[1]


def _engines(parts: list[dict[str, Any]]) -> list[EngineInfo]:
    seen: dict[tuple[str, str, str, str], EngineInfo] = {}
    for part in parts:
        for item in part.get("engines") or []:
            if not isinstance(item, dict):
                continue
            info = EngineInfo(
                platform=str(item.get("platform", "")),
                engine=str(item.get("engine", "")),
                version=str(item.get("version") or ""),
                os_build=str(item.get("os_build") or ""),
                details=dict(item.get("details") or {}),
                target=str(item.get("target") or ""),
                host=str(item.get("host") or ""),
            )
            seen.setdefault(
                (info.platform, info.engine, info.version, info.os_build), info
            )
    return sorted(seen.values(), key=lambda e: (e.platform, e.engine, e.version))


def _cells(parts: list[dict[str, Any]], name: str) -> set[CellKey]:
    """The union of one list of cells, ``[platform, engine, service, check]``
    each, over every part."""
    cells: set[CellKey] = set()
    for part in parts:
        for item in part.get(name) or []:
            if isinstance(item, list) and len(item) == 4:
                cells.add(CellKey.of(str(value) for value in item))
    return cells


def _known_issues(parts: list[dict[str, Any]]) -> dict[CellKey, tuple[str, str]]:
    """Known issues by cell: (expected outcome, reason)."""
    issues: dict[CellKey, tuple[str, str]] = {}
    for part in parts:
        for item in part.get("known_issues") or []:
            if not isinstance(item, dict):
                continue
            names = ("platform", "engine", "service", "check")
            key = CellKey.of(str(item.get(name, "")) for name in names)
            issues[key] = (str(item.get("outcome", "")), str(item.get("reason", "")))
    return issues
