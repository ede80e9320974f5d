"""Build one run's report folder: read results, decide outcomes and verdicts, record
history, render every output and point ``reports/latest`` at the newest run.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError
from harness.report import history, html, merge, outputs, runs_index
from harness.report.allure_files import (
    ALLURE_CONFIG,
    build_allure_html,
    write_allure_files,
)
from harness.report.dashboard import Dashboard, build_dashboard
from harness.report.folders import make_folder
from harness.report.model import ReportWarning, RunMeta, RunResults
from harness.report.outcomes import collapse
from harness.report.reader import read_results
from harness.report.trends import compute_trends
from harness.report.verdicts import service_verdicts

log = logging.getLogger(__name__)

LATEST = "latest"
RESERVED = {LATEST, history.HISTORY_FILE, "index.html", "README.md", "diff"}
OUTPUT_FILES = ("index.html", "matrix.json", "matrix.md", "junit.xml", ALLURE_CONFIG)
OUTPUT_DIRS = ("badges", html.ATTACHMENTS, "allure")


def build_report(
    results_dirs: Iterable[Path],
    reports_root: Path,
    run_id: str | None = None,
    history_size: int = 10,
    allure: bool = False,
) -> Path:
    """Render ``reports_root/<run id>/`` from allure-results folders; returns it.

    Several folders (CI shards, pytest workers) are merged into one run.  The run
    id comes from ``run_id``, else from the harness-meta files, else from the time
    the earliest result started, so reporting the same folders twice gives the
    same run (and history never counts it twice).
    """
    if history_size < 1:
        raise ConfigError(f"history size must be at least 1, not {history_size}")
    results = read_results([Path(p) for p in results_dirs])
    run_id = check_run_id(named_run_id(run_id, results))
    make_folder(reports_root)
    run_dir = _run_folder(reports_root, run_id)
    # History first: when the store cannot be used, an earlier report of this run
    # is still there, untouched, and no empty run folder is left.
    dashboard = _dashboard(results, run_id, reports_root, history_size)
    make_folder(run_dir)
    _remove_outputs(run_dir)
    for problem in write_allure_files(dashboard):
        dashboard.warnings.append(ReportWarning("allure files", problem))
    _render(dashboard, run_dir)
    if allure:
        log.info("%s", allure_html(dashboard.results_dirs, run_dir, reports_root))
    _finish_root(reports_root)
    for line in notices(dashboard):
        log.warning("%s", line)
    log.info("report of run %s written to %s", run_id, run_dir)
    return run_dir


def notices(dashboard: Dashboard) -> list[str]:
    """What the person reporting must know about the run as a whole."""
    if not dashboard.missing_shards:
        return []
    return [
        f"run {dashboard.run_id} is incomplete: shard(s) "
        + ", ".join(dashboard.missing_shards)
        + " not reported yet"
    ]


def named_run_id(given: str | None, results: RunResults) -> str:
    """The run id: the one given, else the one the meta files name, else one made
    from the time of the earliest result.

    Shards that chose their own ids are merged into the given id without a word
    of warning (it is what ``--run-id`` is for); only without one do several ids
    deserve a warning, since the id of the shard that started first is then
    taken.
    """
    ids = results.meta.run_ids
    if given:
        if len(ids) > 1:
            log.info("the run ids %s of the results are merged into %s", ids, given)
        return given
    if len(ids) > 1:
        log.warning(
            "the results name several run ids %s; using %s, the one that started "
            "first (name the merged run with --run-id)",
            ids,
            results.meta.run_id,
        )
    if results.meta.run_id:
        return results.meta.run_id
    name = default_run_id(results)
    _say_why_unnamed(results, name)
    return name


def _say_why_unnamed(results: RunResults, name: str) -> None:
    """A damaged harness-meta file took the run id with it: say so in the file's
    warning and the log, with the id it seems to hold, since the run would
    otherwise silently start a history line of its own."""
    for warning in results.warnings:
        path = Path(warning.file)
        if not path.name.startswith("harness-meta-"):
            continue
        held = _run_id_in(path)
        again = f"--run-id {held}" if held else "--run-id with the run's id"
        warning.problem += (
            f"; no other harness-meta file names the run, so it is named {name} "
            f"after its earliest result: report again with {again}"
        )
        log.warning("%s: %s", path, warning.problem)


def _run_id_in(path: Path) -> str:
    """The run id a damaged harness-meta file still shows, or ``""``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found = re.search(r'"run_id"\s*:\s*"([^"\\]{1,200})"', text)
    return found.group(1) if found else ""


def allure_html(results_dirs: list[Path], run_dir: Path, reports_root: Path) -> str:
    """Build Allure's own HTML report into ``run_dir/allure`` when it can be."""
    name = f"Compatibility matrix {run_dir.name}"
    return build_allure_html(results_dirs, run_dir / "allure", [reports_root], name)


def check_run_id(run_id: str) -> str:
    """A run id becomes a folder name, so it must be one plain path component."""
    bad = (
        not run_id.strip()
        or run_id in (".", "..")
        or run_id in RESERVED
        or run_id.startswith(".")
        or any(ch in run_id for ch in "/\\")
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in run_id)
        or len(run_id.encode("utf-8")) > 200
    )
    if bad:
        raise ConfigError(
            f"run id {run_id!r} cannot name a report folder: use letters, digits, "
            "'-', '_' or '.', no '/', not starting with '.', not one of "
            + ", ".join(sorted(RESERVED))
        )
    return run_id


def default_run_id(results: RunResults) -> str:
    """``run-<UTC time of the earliest result>``: stable for the same results."""
    starts = [a.start for a in results.attempts if a.start is not None]
    moment = datetime.fromtimestamp(min(starts) / 1000, UTC) if starts else None
    return "run-" + (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _started(results: RunResults) -> str:
    if results.meta.started:
        return results.meta.started
    starts = [a.start for a in results.attempts if a.start is not None]
    moment = datetime.fromtimestamp(min(starts) / 1000, UTC) if starts else None
    return (moment or datetime.now(UTC)).isoformat()


def _dashboard(
    results: RunResults, run_id: str, reports_root: Path, size: int
) -> Dashboard:
    meta = results.meta
    meta.started = _started(results)
    new_cells = collapse(results.attempts, meta)
    row = history.RunRow(
        run_id,
        meta.started,
        meta.finished,
        meta.interrupted,
        meta.harness_version,
        meta.hostname,
        meta.ci,
        tuple(meta.shards),
        tuple(str(p.resolve()) for p in results.results_dirs),
    )
    with history.open_store(reports_root) as connection:
        earlier = history.get_run(connection, run_id)
        cells = new_cells
        if earlier is not None:
            cells = merge.merge_cells(history.run_cells(connection, run_id), cells)
            meta.engines = merge.merge_engines(
                history.run_engines(connection, run_id), meta.engines
            )
        row = merge.merge_run(earlier, row)
        verdicts = service_verdicts(cells)
        history.record_run(connection, row, cells, verdicts, meta.engines)
        trends = compute_trends(connection, run_id, cells, size)
    _merged_meta(meta, row)
    return build_dashboard(
        Dashboard(
            run_id=run_id,
            meta=meta,
            cells=cells,
            verdicts=verdicts,
            trends=trends,
            warnings=list(results.warnings),
            results_dirs=results.results_dirs,
            generated=datetime.now(UTC).isoformat(timespec="seconds"),
            earlier_dirs=[
                d
                for d in row.results_dirs
                if Path(d) not in {p.resolve() for p in results.results_dirs}
            ],
            missing_shards=merge.missing_shards(row.shards),
        )
    )


def _merged_meta(meta: RunMeta, row: history.RunRow) -> None:
    """The run facts the dashboard shows are those of every report of the run."""
    meta.started, meta.finished = row.started, row.finished
    meta.interrupted, meta.hostname, meta.ci = row.interrupted, row.hostname, row.ci
    meta.shards = list(row.shards)


def _run_folder(reports_root: Path, run_id: str) -> Path:
    """Where the run's report goes; ConfigError when the name is taken by
    something else."""
    run_dir = reports_root / run_id
    if run_dir.is_symlink() or (run_dir.exists() and not run_dir.is_dir()):
        raise ConfigError(f"{run_dir} exists and is not a report folder")
    return run_dir


def _remove_outputs(run_dir: Path) -> None:
    """Remove what an earlier report of this run wrote into its folder.

    ``harness run`` keeps the run's own files there too (allure-results, logs), so
    only what the report writes is ever removed.
    """
    ours = (run_dir / "matrix.json").is_file()
    for name in OUTPUT_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for name in OUTPUT_DIRS:
        if ours and (run_dir / name).is_dir() and not (run_dir / name).is_symlink():
            shutil.rmtree(run_dir / name)


def _render(dashboard: Dashboard, run_dir: Path) -> None:
    outputs.write_json(dashboard, run_dir)
    outputs.write_markdown(dashboard, run_dir)
    outputs.write_junit(dashboard, run_dir)
    outputs.write_badges(dashboard, run_dir)
    html.write_index(dashboard, run_dir)


def _finish_root(reports_root: Path) -> None:
    """Point ``latest`` at the newest run that has a folder and list all runs."""
    with history.open_store(reports_root) as connection:
        known = runs_index.summaries(connection)
    present = [
        s for s in known if (reports_root / s.run.run_id / "index.html").is_file()
    ]
    if present:
        update_latest(reports_root, present[-1].run.run_id)
    runs_index.write_runs_index(reports_root, present)


def update_latest(reports_root: Path, run_id: str) -> None:
    """Swap the ``latest`` symlink atomically (a relative link, so the folder can
    be moved or published as it is)."""
    link = reports_root / LATEST
    if link.exists() and not link.is_symlink():
        log.warning("%s is not a symlink; left as it is", link)
        return
    temporary = reports_root / f".{LATEST}.tmp"
    try:
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
        os.symlink(run_id, temporary, target_is_directory=True)
        os.replace(temporary, link)
    except OSError as error:
        log.warning("could not point %s at %s: %s", link, run_id, error)
