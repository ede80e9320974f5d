"""Machine-readable and wiki outputs of a run: matrix.json (schema 1, documented in
docs/report.md), matrix.md, junit.xml and one SVG badge per engine and platform.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from harness.report.dashboard import Dashboard, EngineGrid, ServiceView
from harness.report.html import render_page, shown
from harness.report.model import (
    CellResult,
    Outcome,
    ServiceVerdict,
    Verdict,
    stable_hash,
)
from harness.report.trends import Change

MATRIX_SCHEMA = 1
# Characters XML 1.0 cannot carry at all; JUnit consumers choke on them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
BADGE_COLOURS = {
    Verdict.SUPPORTED: "#2e7d32",
    Verdict.PARTIAL: "#dfb317",
    Verdict.UNSUPPORTED: "#c62828",
    Verdict.UNKNOWN: "#9f9f9f",
}


def matrix_json(d: Dashboard) -> dict[str, Any]:
    """The whole run as plain data; the layout is schema 1 of docs/report.md."""
    return {
        "schema": MATRIX_SCHEMA,
        "kind": "harness-matrix",
        "run": _run(d),
        "engines": [vars(e) for e in d.meta.engines],
        "summary": {
            "outcomes": d.outcome_counts(),
            "not_selected": d.not_selected,
            "verdicts": d.verdict_counts(),
        },
        "verdicts": [_verdict(d, v) for v in d.verdicts],
        "cells": [_cell(d, cell) for cell in d.cells.values()],
        "changes": {
            "previous_run": None if d.trends.first_run else d.trends.run_ids[-2],
            "no_longer_reproduces": [
                {**key.as_dict(), "known_issue": d.cells[key].known_issue}
                for key in d.trends.no_longer_reproduces
            ],
            "newly_failing": [_change(c) for c in d.trends.newly_failing],
            "newly_fixed": [_change(c) for c in d.trends.newly_fixed],
        },
        "history_runs": d.trends.run_ids,
        "warnings": [vars(w) for w in d.warnings],
    }


def _run(d: Dashboard) -> dict[str, Any]:
    meta = d.meta
    return {
        "run_id": d.run_id,
        "harness_version": meta.harness_version,
        "started": meta.started,
        "finished": meta.finished,
        "interrupted": meta.interrupted,
        "where": {"hostname": meta.hostname, "ci": meta.ci},
        "shards": {"reported": meta.shards, "missing": d.missing_shards},
        "results_dirs": [str(p) for p in d.results_dirs],
        "generated": d.generated,
    }


def _verdict(d: Dashboard, v: ServiceVerdict) -> dict[str, Any]:
    return {
        **vars(v.key),
        "verdict": v.verdict.value,
        "note": v.note,
        "since_run": d.trends.since.get(v.key, d.run_id),
        "checks": {name: outcome.value for name, outcome in v.checks.items()},
    }


def _cell(d: Dashboard, cell: CellResult) -> dict[str, Any]:
    trend = d.trend(cell.key)
    return {
        **cell.key.as_dict(),
        "outcome": cell.outcome.value,
        "selected": cell.selected,
        "note": cell.note,
        "known_issue": cell.known_issue or None,
        "message": cell.message,
        "attempts": cell.attempts,
        "passed_after_retry": cell.passed_after_retry,
        "duration_ms": cell.duration_ms,
        "history": [
            {"run_id": run_id, "outcome": o.value if o else None}
            for run_id, o in trend.recent
        ],
        "flip_rate": round(trend.flip_rate, 3),
        "flaky": trend.flaky,
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        **change.key.as_dict(),
        "before": change.before.value,
        "before_run": change.before_run,
        "after": change.after.value,
    }


def write_json(d: Dashboard, run_dir: Path) -> Path:
    """Write matrix.json into the run folder."""
    target = run_dir / "matrix.json"
    text = json.dumps(matrix_json(d), indent=1, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def md_cell(text: str) -> str:
    """Text safe inside one Markdown table cell (no pipes, newlines or raw HTML)."""
    text = " ".join(text.split())
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(raw, safe)
    return text


def matrix_markdown(d: Dashboard) -> str:
    """One table per engine, platforms down and services across, for wikis."""
    lines = [f"# Compatibility matrix — run {md_cell(d.run_id)}", ""]
    if d.meta.interrupted:
        lines += ["**Interrupted run:** cells without a result count as not run.", ""]
    for grid in d.grids:
        lines += _markdown_grid(grid)
    return "\n".join(lines)


def _markdown_grid(grid: EngineGrid) -> list[str]:
    header = ["platform", *map(shown, grid.services)]
    lines = [f"## Engine {md_cell(shown(grid.engine))}", ""]
    lines.append("| " + " | ".join(md_cell(h) for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    for platform in grid.platforms:
        row = [md_cell(shown(platform))]
        for service in grid.services:
            square = grid.squares.get((platform, service))
            row.append(_markdown_square(square) if square else "—")
        lines.append("| " + " | ".join(row) + " |")
    notes = [
        f"- {md_cell(shown(p))} / {md_cell(shown(s))}: {sq.verdict.verdict.value} — "
        + md_cell(sq.verdict.note)
        for (p, s), sq in sorted(grid.squares.items())
        if sq.verdict.verdict.value != "supported"
    ]
    return [*lines, "", *notes, *([""] if notes else [])]


def _markdown_square(square: ServiceView) -> str:
    checks = ", ".join(f"{md_cell(c.key.check)} {c.shown[1]}" for c in square.checks)
    return f"**{square.verdict.verdict.value}** ({checks})"


def write_markdown(d: Dashboard, run_dir: Path) -> Path:
    """Write matrix.md into the run folder."""
    target = run_dir / "matrix.md"
    target.write_text(matrix_markdown(d), encoding="utf-8")
    return target


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry replaced by U+FFFD."""
    return XML_INVALID.sub("\ufffd", text)


def junit_xml(d: Dashboard) -> ET.ElementTree:
    """One testsuite per platform/engine and one testcase per cell the run
    selected (what it left out is no test case of this run)."""
    root = ET.Element("testsuites", name=xml_text(f"harness run {d.run_id}"))
    suites: dict[tuple[str, str], ET.Element] = {}
    for key, cell in d.cells.items():
        if not cell.selected:
            continue
        pair = (key.platform, key.engine)
        if pair not in suites:
            name = xml_text(f"{key.platform} / {key.engine}")
            suites[pair] = ET.SubElement(root, "testsuite", name=name)
        _testcase(suites[pair], cell)
    for suite in suites.values():
        _count(suite)
    _count(root)
    return ET.ElementTree(root)


def _testcase(suite: ET.Element, cell: CellResult) -> None:
    key = cell.key
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(f"{key.platform}.{key.engine}.{key.service}"),
        name=xml_text(key.check),
        time=f"{(cell.duration_ms or 0) / 1000:.3f}",
    )
    tag = {
        Outcome.FAILED: "failure",
        Outcome.BROKEN: "error",
        Outcome.SKIPPED: "skipped",
        Outcome.EXPECTED_FAILURE: "skipped",
        Outcome.NOT_RUN: "skipped",
    }.get(cell.outcome)
    if tag is None:
        return
    message = _junit_message(cell)
    child = ET.SubElement(case, tag, message=xml_text(message))
    if cell.attempt and tag in ("failure", "error"):
        child.text = xml_text(cell.attempt.trace or cell.message)


def _junit_message(cell: CellResult) -> str:
    if cell.outcome is Outcome.EXPECTED_FAILURE:
        return f"expected failure: {cell.known_issue or cell.first_line}"
    if cell.outcome is Outcome.NOT_RUN:
        return "not run"
    return "; ".join(part for part in (cell.first_line, cell.note) if part)


def _count(element: ET.Element) -> None:
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    for tag, attribute in (("failure", "failures"), ("error", "errors")):
        element.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


def write_junit(d: Dashboard, run_dir: Path) -> Path:
    """Write junit.xml into the run folder."""
    target = run_dir / "junit.xml"
    junit_xml(d).write(target, encoding="utf-8", xml_declaration=True)
    return target


def badge_names(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``<engine>-<platform>.svg`` per pair.  Odd characters become ``_``; a name
    that changed that way, or that two pairs would share (``a-b`` + ``c`` and
    ``a`` + ``b-c``), gets a short hash of the real names so files never clash."""
    plain = {pair: f"{pair[0]}-{pair[1]}" for pair in pairs}
    uses = Counter(plain.values())
    names = {}
    for pair, name in plain.items():
        safe = SAFE_NAME.sub("_", name)
        if safe != name or uses[name] > 1 or not name.strip("-"):
            safe = f"{safe}-{stable_hash(list(pair))[:8]}"
        names[pair] = f"{safe}.svg"
    return names


def write_badges(d: Dashboard, run_dir: Path) -> list[Path]:
    """One SVG per (engine, platform): how many of its services are supported."""
    folder = run_dir / "badges"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[tuple[str, str], list[Verdict]] = {}
    for v in d.verdicts:
        found.setdefault((v.key.engine, v.key.platform), []).append(v.verdict)
    written = []
    for (engine, platform), name in badge_names(sorted(found)).items():
        badge = _badge(f"{engine} {platform}", found[(engine, platform)])
        (folder / name).write_text(badge, encoding="utf-8")
        written.append(folder / name)
    return written


def _badge(label: str, verdicts: list[Verdict]) -> str:
    supported = verdicts.count(Verdict.SUPPORTED)
    value = f"{supported}/{len(verdicts)} supported"
    worst = next(
        (
            v
            for v in (Verdict.UNSUPPORTED, Verdict.PARTIAL, Verdict.UNKNOWN)
            if v in verdicts
        ),
        Verdict.SUPPORTED,
    )
    left, right = 7 * len(label) + 12, 7 * len(value) + 12
    return render_page(
        "badge.svg.j2",
        label=label,
        value=value,
        colour=BADGE_COLOURS[worst],
        left=left,
        right=right,
    )
