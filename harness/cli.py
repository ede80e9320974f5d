"""`harness`: run the matrix, list its cells, publish and compare reports.

    harness list --service ordinary
    harness run --platform wine-8 --service ordinary -- -x
    harness report reports/<run>/allure-results
    harness diff RUN_A RUN_B

Exit codes of `harness run` (one place: harness.errors.ExitCode): 0 all as expected,
1 product failures, 2 usage or configuration error, 3 infrastructure errors only,
4 interrupted, 5 no cell selected.  The README lists those of the other commands.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harness import matrix as matrixlib
from harness import settings
from harness.doctor import doctor
from harness.errors import ConfigError, ExitCode, HarnessError, exit_code_for
from harness.helptext import terminal_help
from harness.run import new_run_id
from harness.runner import exit_code, record_exit_code, run_pytest
from harness.secrets import preflight
from harness.watch import LOG_FILE_FORMAT, Forwarder, say

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Compatibility matrix of duplicated Windows services.",
)


def command(name: str | None = None, **options: Any) -> Callable[[Any], Any]:
    """Register a command whose --help is its docstring, reflowed for a terminal
    (harness/helptext.py)."""

    def register(function: Any) -> Any:
        help_text = terminal_help(function.__doc__ or "")
        app.command(name, help=help_text, **options)(function)
        return function

    return register


ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"

MatrixOpt = Annotated[
    Path,
    typer.Option(
        "--matrix",
        envvar="HARNESS_MATRIX",
        help="matrix file",
        show_default="harness's matrix.yaml",
    ),
]


def _filter_option(name: str, example: str) -> Any:
    return typer.Option(
        help=f"only these {name}s (repeat or comma-separate), e.g. {example}",
        metavar="NAME",
    )


PlatformOpt = Annotated[list[str] | None, _filter_option("platform", "wine-8")]
EngineOpt = Annotated[list[str] | None, _filter_option("engine", "wine-shared")]
ServiceOpt = Annotated[list[str] | None, _filter_option("service", "ordinary")]
CheckOpt = Annotated[list[str] | None, _filter_option("check", "starts,serves")]
ShardOpt = Annotated[
    str | None,
    typer.Option(
        help="only share I of N of the cells, e.g. 2/4: stable and disjoint "
        "shares for CI jobs",
        metavar="I/N",
    ),
]


def _filters(
    platform: list[str] | None,
    engine: list[str] | None,
    service: list[str] | None,
    check: list[str] | None,
    shard: str | None = None,
) -> matrixlib.Filters:
    def split(values: list[str] | None) -> list[str]:
        # An empty value (--service "$UNSET") stays, so it is refused by name
        # instead of selecting everything.
        return [v.strip() for item in values or [] for v in item.split(",")]

    return matrixlib.Filters(
        split(platform),
        split(engine),
        split(service),
        split(check),
        # "" is refused with the allowed form, like an empty filter value
        matrixlib.parse_shard(shard) if shard is not None else None,
    )


def _fail(error: BaseException) -> typer.Exit:
    say(f"error: {error}", "red")
    return typer.Exit(int(exit_code_for(error)))


@command("list")
def list_cells(
    matrix: MatrixOpt = ROOT / "matrix.yaml",
    platform: PlatformOpt = None,
    engine: EngineOpt = None,
    service: ServiceOpt = None,
    check: CheckOpt = None,
    shard: ShardOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print the cells a run would cover, in their stable order.

    Exit codes: 0 cells listed, 2 bad option, filter or matrix.yaml, 5 no cell
    selected.
    """
    try:
        filters = _filters(platform, engine, service, check, shard)
        m = matrixlib.load(matrix)
        cells = matrixlib.select(m, filters)
    except ConfigError as error:
        raise _fail(error) from None
    rows = []
    for cell in cells:
        issue = matrixlib.known_issue(m, cell)
        rows.append(
            {
                "platform": cell.platform,
                "engine": cell.engine,
                "service": cell.service,
                "check": cell.check,
                "known_issue": issue.reason if issue else None,
                "expected": issue.outcome if issue else "passed",
            }
        )
    if as_json:
        print(json.dumps(rows, indent=1))
    else:
        table = Table(
            "platform",
            "engine",
            "service",
            "check",
            "expected",
            title=f"{len(rows)} cells",
        )
        for row in rows:
            table.add_row(
                row["platform"],
                row["engine"],
                row["service"],
                row["check"],
                row["expected"],
            )
        Console().print(table)
    if not rows:
        say(_no_cells_message(m, filters))
        raise typer.Exit(int(ExitCode.NO_CELLS))


class Destroy(enum.StrEnum):
    never = "never"
    passing = "passing"
    always = "always"


@command(context_settings={"allow_extra_args": True})
def run(
    ctx: typer.Context,
    matrix: MatrixOpt = ROOT / "matrix.yaml",
    platform: PlatformOpt = None,
    engine: EngineOpt = None,
    service: ServiceOpt = None,
    check: CheckOpt = None,
    shard: ShardOpt = None,
    reports: Annotated[
        Path, typer.Option(help="reports folder", show_default="harness's reports/")
    ] = ROOT / "reports",
    workers: Annotated[
        int,
        typer.Option(
            "-n",
            "--workers",
            min=0,
            help="parallel pytest workers, one platform/engine each (0: none; "
            "at most one per placement selected)",
        ),
    ] = 0,
    report: Annotated[bool, typer.Option(help="render the dashboard")] = True,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    cases: Annotated[
        Path,
        typer.Option(
            help="folder of case modules",
            exists=True,
            file_okay=False,
            show_default="harness's cases/",
        ),
    ] = CASES,
    destroy: Annotated[
        Destroy,
        typer.Option(
            help="Vagrant machines at the end: kept (never), destroyed when all "
            "their cells passed (passing), destroyed (always)"
        ),
    ] = Destroy.never,
) -> None:
    """Run the selected cells and render the dashboard.

    Arguments after `--` go to pytest: `harness run --service ordinary -- -x`.

    Exit codes: 0 every cell as expected, 1 some cell failed, 2 usage or
    configuration error, 3 some cell broken (no failure), 4 interrupted by a
    signal, 5 no cell selected.
    """
    try:
        filters = _filters(platform, engine, service, check, shard)
        m = matrixlib.load(matrix)
        cells = matrixlib.select(m, filters)
    except ConfigError as error:
        raise _fail(error) from None
    if not cells:
        say(_no_cells_message(m, filters))
        raise typer.Exit(int(ExitCode.NO_CELLS))
    try:
        settings.check_environment()
        # credentials of the inventory hosts the run will reach, before any cell
        preflight(m.platforms, {cell.platform for cell in cells})
    except ConfigError as error:
        raise _fail(error) from None
    placements = len({(cell.platform, cell.engine) for cell in cells})
    if workers > placements:
        # One worker owns one platform/engine placement; more would only start
        # idle pytest processes that compete with Wine for the cores.
        say(
            f"-n {workers}: the selection has {placements} platform/engine "
            f"placement{'s' if placements != 1 else ''}, so {placements} "
            f"worker{'s' if placements != 1 else ''}"
        )
        workers = placements
    run_id = new_run_id()
    reports = reports.resolve()
    run_dir = reports / run_id
    results = run_dir / "allure-results"
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(ConfigError(f"--reports {reports}: {error.strerror}")) from None
    argv = _pytest_argv(
        matrix,
        filters,
        run_id,
        run_dir,
        results,
        workers,
        [str(cases.resolve()), "--destroy", destroy.value, *ctx.args],
    )
    # From here until the end, a signal stops the run once (harness/watch.py).
    with Forwarder() as signals:
        summary = run_pytest(argv, ROOT, run_dir, len(cells), progress, signals)
        code = exit_code(summary, run_dir)
        if code is ExitCode.USAGE:
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing ran: keep no husk
            raise typer.Exit(int(code))
        record_exit_code(run_dir / "summary.json", run_id, code, summary)
        if not summary.get("cells"):
            say(f"no cell ran, so there is no dashboard; the log: {run_dir}/pytest.log")
        elif report:
            _render(results, reports, run_id)
        else:
            print(f"results: {results}")
    raise typer.Exit(int(code))


command()(doctor)


def _no_cells_message(m: matrixlib.Matrix, filters: matrixlib.Filters) -> str:
    if filters.shard:
        index, count = filters.shard
        unsharded = dataclasses.replace(filters, shard=None)
        groups = matrixlib.groups(matrixlib.select(m, unsharded))
        return (
            f"--shard {index}/{count} holds no cell: the selection has {groups} "
            f"(platform, engine, service) groups to share out; use at most {groups} "
            "shards"
        )
    lines = ["no cell selected by these filters; valid values:"]
    lines.append(
        f"  --platform {', '.join(sorted(m.platforms))} (default: "
        f"{', '.join(n for n, p in m.platforms.items() if p.default)})"
    )
    lines.append(f"  --engine   {', '.join(sorted(m.engines))}")
    lines.append(f"  --service  {', '.join(m.services)}")
    lines.append(f"  --check    {', '.join(m.checks)}")
    lines.append("(an engine runs only on the platforms it lists in matrix.yaml)")
    return "\n".join(lines)


def _pytest_argv(
    matrix: Path,
    filters: matrixlib.Filters,
    run_id: str,
    run_dir: Path,
    results: Path,
    workers: int,
    extra: list[str],
) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--matrix",
        str(matrix.resolve()),
        "--run-id",
        run_id,
        "--alluredir",
        str(results),
        "--clean-alluredir",
        "--harness-summary",
        str(run_dir / "summary.json"),
        "--cells-only",
        "--harness-progress",
        str(run_dir / "progress.jsonl"),
        "-q",
        "-rfE",
        "--tb=short",
        # Every remote command, with host, argv, exit code and duration.
        "-o",
        f"log_file={run_dir / 'harness.log'}",
        "-o",
        f"log_file_level={logging.getLevelName(min(settings.log_level(), 20))}",
        "-o",
        f"log_file_format={LOG_FILE_FORMAT}",
    ]
    for option, values in (
        ("--platform", filters.platforms),
        ("--engine", filters.engines),
        ("--service", filters.services),
        ("--check", filters.checks),
    ):
        for value in values:
            argv += [option, value]
    if filters.shard:
        argv += ["--shard", f"{filters.shard[0]}/{filters.shard[1]}"]
    if workers:
        argv += ["-n", str(workers), "--dist", "loadgroup"]
    return argv + extra


def _render(results: Path, reports: Path, run_id: str) -> None:
    """Render the run's dashboard.  A report that cannot be made is said, with the
    command that makes it later; the run's exit code still tells about its cells."""
    try:
        from harness.report import build_report
    except ImportError as error:
        say(f"no dashboard: {error}", "yellow")
        return
    try:
        run_folder = build_report([results], reports, run_id=run_id)
    except (HarnessError, OSError) as error:
        say(f"the dashboard could not be rendered: {error}", "red")
        say(
            f"the run's results are kept in {results}; render them later with: "
            f"harness report {results} --run-id {run_id} --out {reports}"
        )
        return
    print(f"dashboard: {run_folder / 'index.html'}")


def _register_optional() -> None:
    """Commands whose modules may need optional packages are added when importable."""
    try:
        from harness.report.commands import diff, report

        command("report")(report)
        command("diff")(diff)
    except ImportError as error:
        logging.getLogger(__name__).debug("report commands unavailable: %s", error)
    try:
        from harness.targets.commands import down, status, up

        command("up")(up)
        command("status")(status)
        command("down")(down)
    except ImportError as error:
        logging.getLogger(__name__).debug("target commands unavailable: %s", error)


def main() -> None:
    try:
        level = settings.log_level()
    except ConfigError as error:
        say(f"error: {error}", "red")
        sys.exit(int(ExitCode.USAGE))
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # python-vagrant warns at import when vagrant is not on PATH; a command that
    # needs vagrant says so itself, with what to do, so the console hears it once.
    logging.getLogger("vagrant").setLevel(logging.ERROR)
    _register_optional()
    try:
        app(prog_name="harness")
    except HarnessError as error:
        say(f"error: {error}", "red")
        sys.exit(int(exit_code_for(error)))
