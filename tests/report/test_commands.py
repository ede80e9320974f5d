"""The report and diff commands as the CLI registers them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.report import build_report
from harness.report.commands import diff, report

pytest_plugins = ["pytester"]

A = ("win2022", "wine", "rpcss", "starts")


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("report")(report)
    app.command("diff")(diff)
    return app


def invoke(app: typer.Typer, *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_report_prints_the_index_path(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path
) -> None:
    results = make_results("c1", {A: "passed"})
    code, out, _ = invoke(cli, "report", results, "--out", tmp_path / "r")
    assert code == 0
    assert out.strip().splitlines()[-1] == str(tmp_path / "r" / "c1" / "index.html")


def test_report_merges_several_folders(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path
) -> None:
    first = make_results("shard-a", {A: "passed"})
    second = make_results("shard-b", {("win2022", "wine", "dcom", "starts"): "failed"})
    args = ("report", first, second, "--out", tmp_path / "r", "--run-id", "merged")
    code, _, _ = invoke(cli, *args)
    assert code == 0
    data = json.loads((tmp_path / "r" / "merged" / "matrix.json").read_text())
    assert len(data["cells"]) == 2


def test_report_of_a_missing_folder_exits_2_naming_it(
    cli: typer.Typer, tmp_path: Path
) -> None:
    code, _, err = invoke(cli, "report", tmp_path / "no-such-results")
    assert code == 2
    assert "no-such-results" in err and "does not exist" in err


def test_report_of_a_folder_without_harness_results_exits_2(
    cli: typer.Typer, tmp_path: Path
) -> None:
    (tmp_path / "empty-results").mkdir()
    code, _, err = invoke(cli, "report", tmp_path / "empty-results")
    assert code == 2 and "empty-results holds no harness result" in err


def test_report_says_when_allure_cannot_be_built(
    cli: typer.Typer,
    make_results: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("HARNESS_ALLURE", raising=False)
    results = make_results("c2", {A: "passed"})
    code, out, _ = invoke(cli, "report", results, "-o", tmp_path / "r", "--allure")
    assert code == 0
    assert "Allure HTML report not built" in out


def test_diff_in_every_format(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    invoke(cli, "report", make_results("d1", {A: "passed"}), "-o", root)
    invoke(cli, "report", make_results("d2", {A: "failed"}), "-o", root)
    code, out, _ = invoke(cli, "diff", "d1", "d2", "-o", root)
    assert code == 0 and "passed -> failed" in out
    code, out, _ = invoke(cli, "diff", "d1", "d2", "-o", root, "--format", "json")
    assert json.loads(out)["changes"][0]["after"] == "failed"
    code, out, _ = invoke(cli, "diff", "d1", "d2", "-o", root, "--format", "html")
    page = Path(out.strip())
    assert page.parent == root / "diff" and "passed" in page.read_text()


def test_diff_of_an_unknown_run_lists_known_ids(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    invoke(cli, "report", make_results("k1", {A: "passed"}), "-o", root)
    code, _, err = invoke(cli, "diff", "k1", "nope", "-o", root)
    assert code == 2 and "unknown run id 'nope'" in err and "'k1'" in err


def test_diff_without_history_is_a_clear_error(
    cli: typer.Typer, tmp_path: Path
) -> None:
    code, _, err = invoke(cli, "diff", "a", "b", "-o", tmp_path / "empty")
    assert code == 2 and "no history store" in err


FAKE_ALLURE = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "{version}"; exit 0; fi
echo "$@" > "{log}"
"""


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("3.18.0", "generate {results} --output {out} --config {config}"),
        ("2.46.1", "generate --clean -o {out} {results}"),
    ],
)
def test_report_runs_allure_generate_with_the_right_options(
    cli: typer.Typer,
    make_results: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: str,
    expected: str,
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    log = tmp_path / "allure-argv"
    fake = tools / "allure"
    fake.write_text(FAKE_ALLURE.format(version=version, log=log))
    (tools / "node").write_text("#!/bin/sh\n")
    for program in (fake, tools / "node"):
        program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    monkeypatch.delenv("HARNESS_ALLURE", raising=False)
    results = make_results("a1", {A: "passed"})
    code, out, _ = invoke(cli, "report", results, "-o", tmp_path / "r", "--allure")
    assert code == 0
    out_dir = tmp_path / "r" / "a1" / "allure"
    config = out_dir.parent / "allurerc.json"
    argv = expected.format(results=results, out=out_dir, config=config)
    assert log.read_text().split() == argv.split()
    assert f"Allure HTML report: {out_dir / 'index.html'}" in out


def damage(store: Path, how: str) -> None:
    """Make the history store unusable the way a user's disk or editor might."""
    if how == "garbage":
        store.write_text("garbage\n")
    else:  # a copy cut short: the header survives, the pages do not
        data = store.read_bytes()
        store.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_history_is_a_clear_error_and_keeps_the_last_report(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path, how: str
) -> None:
    root = tmp_path / "r"
    results = make_results("h1", {A: "passed"})
    assert invoke(cli, "report", results, "-o", root)[0] == 0
    page = (root / "h1" / "index.html").read_text()
    store = root / "history.sqlite"
    damage(store, how)
    result = CliRunner().invoke(cli, ["report", str(results), "-o", str(root)])
    assert result.exit_code == 3, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    message = " ".join(result.stderr.split())
    assert f"the history store {store} is damaged" in message
    assert f"mv {store} {store}.damaged" in message
    # the earlier report of the run is left as it was
    assert (root / "h1" / "index.html").read_text() == page
    # and a run never reported before gets no empty folder
    other = make_results("h9", {A: "passed"})
    assert CliRunner().invoke(cli, ["report", str(other), "-o", str(root)]).exit_code
    assert not (root / "h9").exists()
    result = CliRunner().invoke(cli, ["diff", "h1", "h1", "-o", str(root)])
    assert result.exit_code == 3 and isinstance(result.exception, SystemExit)
    assert f"the history store {store} is damaged" in " ".join(result.stderr.split())
    store.rename(store.with_name("history.sqlite.damaged"))
    assert invoke(cli, "report", results, "-o", root)[0] == 0


def test_a_history_store_that_cannot_be_opened_names_the_file(
    cli: typer.Typer, make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "r"
    (root / "history.sqlite").mkdir(parents=True)
    code, _, err = invoke(cli, "report", make_results("h2", {A: "passed"}), "-o", root)
    assert code == 3
    assert f"the history store {root / 'history.sqlite'} cannot be used" in err


def test_shards_with_their_own_ids_merge_into_the_given_id_without_a_warning(
    make_results: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = make_results("shard-a", {A: "passed"})
    second = make_results("shard-b", {("win2022", "wine", "dcom", "starts"): "passed"})
    with caplog.at_level(logging.INFO, logger="harness.report"):
        build_report([first, second], tmp_path / "r", run_id="nightly")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    merged = [r.getMessage() for r in caplog.records if "merged into" in r.message]
    assert merged == [
        "the run ids ['shard-a', 'shard-b'] of the results are merged into nightly"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="harness.report"):
        run_dir = build_report([first, second], tmp_path / "r")
    assert run_dir.name == "shard-a"
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "several run ids ['shard-a', 'shard-b']; using shard-a" in warning
    assert "--run-id" in warning


def test_several_run_ids_give_the_run_the_one_that_started_first(
    make_results: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    late = make_results("a-late", {A: "passed"}, started="2026-11-01T02:00:00+00:00")
    early = make_results(
        "b-early",
        {("win2022", "wine", "dcom", "starts"): "passed"},
        started="2026-11-01T01:00:00+00:00",
    )
    with caplog.at_level(logging.WARNING, logger="harness.report"):
        run_dir = build_report([late, early], tmp_path / "r")
    assert run_dir.name == "b-early"
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "using b-early, the one that started first" in warning


def test_a_truncated_meta_file_is_named_with_the_run_id_it_took(
    make_results: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    results = make_results("20261204T030916Z-c0ffee", {A: "passed"})
    (meta,) = results.glob("harness-meta-*.json")
    meta.write_bytes(meta.read_bytes()[:120])
    with caplog.at_level(logging.WARNING, logger="harness.report"):
        run_dir = build_report([results], tmp_path / "r")
    assert run_dir.name.startswith("run-")
    (warning,) = json.loads((run_dir / "matrix.json").read_text())["warnings"]
    assert warning["file"] == str(meta)
    assert warning["problem"].startswith("corrupt or truncated JSON")
    said = (
        f"no other harness-meta file names the run, so it is named {run_dir.name} "
        "after its earliest result: report again with --run-id "
        "20261204T030916Z-c0ffee"
    )
    assert said in warning["problem"]
    logged = [r.getMessage() for r in caplog.records]
    assert any(str(meta) in line and said in line for line in logged), logged


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("/proc/harness-reports", "/proc does not allow new folders in it"),
        ("{file}/reports", "{file} is a file, not a folder"),
        ("{file}", "it exists and is not a folder"),
    ],
)
def test_a_reports_folder_that_cannot_be_made_exits_3_naming_it(
    cli: typer.Typer,
    make_results: Callable[..., Path],
    tmp_path: Path,
    out: str,
    reason: str,
) -> None:
    file = tmp_path / "a-file"
    file.write_text("not a folder\n")
    out, reason = out.format(file=file), reason.format(file=file)
    result = CliRunner().invoke(
        cli, ["report", str(make_results("o1", {A: "passed"})), "--out", out]
    )
    assert result.exit_code == 3 and isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == (
        f"error: cannot write the reports folder {out} (--out): {reason}"
        + (" (No such file or directory)" if out.startswith("/proc") else "")
    )
