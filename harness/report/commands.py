"""The ``harness report`` and ``harness diff`` commands as plain functions.

The CLI registers them with ``app.command("report")(report)`` and
``app.command("diff")(diff)``; the annotations carry Typer's options.  A bad
folder, run id or option ends the command with exit code 2 and one clear line; a
history store or reports folder that cannot be used, with exit code 3.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from harness.errors import ConfigError, HarnessError, exit_code_for
from harness.report import compare, history
from harness.report.build import allure_html, build_report
from harness.report.folders import ReportsFolderError
from harness.report.model import stable_hash

# The same default as `harness run`: the reports folder of this checkout, wherever
# the command is started from.
REPORTS = Path(__file__).resolve().parents[2] / "reports"

log = logging.getLogger(__name__)


class DiffFormat(enum.StrEnum):
    """How ``harness diff`` prints the changed cells."""

    text = "text"
    json = "json"
    html = "html"


def _fail(error: HarnessError | OSError, out: Path | None = None) -> typer.Exit:
    """One line on stderr; exit 2 for a bad argument, 3 for a history store or
    reports folder that cannot be used (harness.errors.exit_code_for)."""
    log.debug("%s", error)  # said once, below; the log keeps it for --debug runs
    typer.echo(f"error: {_said(error, out)}", err=True)
    return typer.Exit(code=int(exit_code_for(error)))


def _said(error: HarnessError | OSError, out: Path | None) -> str:
    """The error in words: the reports folder named as the --out option it came
    from, an OSError as its file and reason rather than ``[Errno N]``."""
    if isinstance(error, ReportsFolderError) and error.folder == out:
        return f"cannot write the reports folder {out} (--out): {error.reason}"
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def report(
    results: Annotated[
        list[Path],
        typer.Argument(help="One or more allure-results folders (CI shards merge)."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Reports root (history lives here).")
    ] = REPORTS,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Run id; default: from the run's metadata."),
    ] = None,
    allure: Annotated[
        bool,
        typer.Option("--allure", help="Also build Allure's HTML report (needs npm)."),
    ] = False,
    history_size: Annotated[
        int,
        typer.Option("--history-size", min=1, help="Past runs shown per cell."),
    ] = 10,
) -> None:
    """Render reports/<run id>/ (dashboard, matrix.json, matrix.md, junit.xml,
    badges) from allure results and append the run to the history store."""
    try:
        run_dir = build_report(results, out, run_id=run_id, history_size=history_size)
    except (HarnessError, OSError) as error:
        raise _fail(error, out) from error
    if allure:
        typer.echo(allure_html(list(results), run_dir, out))
    typer.echo(str(run_dir / "index.html"))


def diff(
    run_a: Annotated[str, typer.Argument(help="The earlier run id.")],
    run_b: Annotated[str, typer.Argument(help="The later run id.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Reports root holding the history.")
    ] = REPORTS,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="text, json or html.")
    ] = DiffFormat.text,
) -> None:
    """List the cells whose outcome changed between two recorded runs.

    html writes ``<out>/diff/<run a>..<run b>.html`` and prints its path.
    """
    try:
        if not (out / history.HISTORY_FILE).is_file():
            raise ConfigError(f"no history store at {out / history.HISTORY_FILE}")
        with history.open_store(out) as connection:
            changes = compare.diff_runs(connection, run_a, run_b)
            engines = compare.engine_pairs(connection, run_a, run_b)
    except HarnessError as error:
        raise _fail(error) from error
    if format is DiffFormat.json:
        typer.echo(compare.diff_json(changes, engines), nl=False)
    elif format is DiffFormat.html:
        typer.echo(str(write_diff_page(out, changes, engines)))
    else:
        typer.echo(compare.diff_text(changes, engines), nl=False)


def write_diff_page(
    out: Path, diff: compare.RunDiff, engines: Sequence[compare.EnginePair] = ()
) -> Path:
    """Write the HTML diff page under ``<out>/diff/`` and return its path."""
    name = f"{diff.run_a}..{diff.run_b}.html"
    if len(name.encode("utf-8")) > 240:
        name = f"diff-{stable_hash([diff.run_a, diff.run_b])}.html"
    target = out / "diff" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    page = compare.diff_html(diff, list(engines))
    target.write_text(page, encoding="utf-8")
    return target
