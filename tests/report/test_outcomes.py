"""Outcomes of cells from real allure results: mapping, known issues and retries."""

from __future__ import annotations

from pathlib import Path

from harness.report.model import CellKey, CellResult, Outcome
from harness.report.outcomes import NO_LONGER_REPRODUCES, collapse
from harness.report.reader import read_results

from .scenarios import AllureRunner, Spec, write_meta

pytest_plugins = ["pytester"]

W = ("win2022", "wine")


def cells_of(*folders: Path) -> dict[CellKey, CellResult]:
    run = read_results(list(folders))
    return collapse(run.attempts, run.meta)


def cell(cells: dict[CellKey, CellResult], service: str, check: str) -> CellResult:
    return cells[CellKey(*W, service, check)]


def test_each_allure_status_maps_to_its_outcome(standard_results: Path) -> None:
    cells = cells_of(standard_results)
    assert cell(cells, "rpcss", "starts").outcome is Outcome.PASSED
    assert cell(cells, "rpcss", "serves").outcome is Outcome.FAILED
    assert cell(cells, "iis", "serves").outcome is Outcome.BROKEN
    assert cell(cells, "schedule", "starts").outcome is Outcome.BROKEN
    assert cell(cells, "eventlog", "serves").outcome is Outcome.SKIPPED
    assert cell(cells, "eventlog", "isolated").outcome is Outcome.NOT_RUN


def test_a_reproduced_known_issue_is_an_expected_failure(
    standard_results: Path,
) -> None:
    cells = cells_of(standard_results)
    starts = cell(cells, "dcom", "starts")
    assert starts.outcome is Outcome.EXPECTED_FAILURE
    assert starts.known_issue == "Wine lacks DCOM launch"
    assert starts.note == "known issue: Wine lacks DCOM launch"
    serves = cell(cells, "dcom", "serves")
    assert serves.outcome is Outcome.EXPECTED_FAILURE
    assert serves.known_issue == "Wine has no COM activation over RPC"


def test_a_strict_known_issue_that_passes_is_failed_with_a_note(
    standard_results: Path,
) -> None:
    starts = cell(cells_of(standard_results), "eventlog", "starts")
    assert starts.outcome is Outcome.FAILED
    assert starts.note == NO_LONGER_REPRODUCES


def test_failed_then_passed_is_one_cell_passed_after_retry(
    standard_results: Path,
) -> None:
    cells = cells_of(standard_results)
    serves = cell(cells, "spooler", "serves")
    assert serves.outcome is Outcome.PASSED
    assert serves.passed_after_retry and serves.attempts == 2
    assert "passed after retry" in serves.note
    failed_twice = cell(cells, "rpcss", "serves")
    assert failed_twice.attempts == 2 and not failed_twice.passed_after_retry


def test_the_latest_attempt_by_stop_time_wins(
    allure_runner: AllureRunner, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    spec = Spec("flip", *W, "wmi", "starts", body="assert count('flip') == 0")
    allure_runner.run([spec], results)
    allure_runner.run([spec], results)
    flip = cell(cells_of(results), "wmi", "starts")
    assert flip.outcome is Outcome.FAILED and flip.attempts == 2


def test_shards_in_several_folders_merge(
    allure_runner: AllureRunner, tmp_path: Path
) -> None:
    first, second = tmp_path / "shard-1", tmp_path / "shard-2"
    allure_runner.run([Spec("a", *W, "wmi", "starts")], first)
    allure_runner.run([Spec("b", *W, "wmi", "serves", body="assert 0")], second)
    specs = [Spec("a", *W, "wmi", "starts"), Spec("b", *W, "wmi", "serves")]
    write_meta(first, "nightly-7", specs[:1], worker="shard-1")
    write_meta(second, "nightly-7", specs, worker="shard-2")
    cells = cells_of(first, second)
    assert [c.outcome for c in cells.values()] == [Outcome.FAILED, Outcome.PASSED]
