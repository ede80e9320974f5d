"""Reading allure-results folders written by allure-pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.report.model import CellKey, Outcome
from harness.report.outcomes import collapse
from harness.report.reader import read_results

from .scenarios import (
    WEIRD_ENGINE,
    WEIRD_PLATFORM,
    WEIRD_SERVICE,
    AllureRunner,
    Spec,
)

pytest_plugins = ["pytester"]


def keys_of(results: Path) -> set[CellKey]:
    return {attempt.key for attempt in read_results([results]).attempts}


def test_cells_are_keyed_by_the_four_labels_verbatim(standard_results: Path) -> None:
    keys = keys_of(standard_results)
    assert CellKey(WEIRD_PLATFORM, WEIRD_ENGINE, WEIRD_SERVICE, "starts") in keys
    assert CellKey("p", "e", "x y", "z") in keys
    assert CellKey("p", "e", "x", "y z") in keys
    assert CellKey("", "e", "x", "z") in keys
    assert CellKey("e", "", "x", "z") in keys


def test_keys_and_dom_ids_are_stable_and_distinct(standard_results: Path) -> None:
    first = sorted(keys_of(standard_results))
    second = sorted(keys_of(standard_results))
    assert first == second
    ids = {key.dom_id for key in first}
    assert len(ids) == len(first)
    assert all(i.startswith("cell-") and i.replace("-", "").isalnum() for i in ids)


def test_bad_and_foreign_files_are_named_and_skipped(standard_results: Path) -> None:
    run = read_results([standard_results])
    problems = {Path(w.file).name: w.problem for w in run.warnings}
    assert problems["deadbeef-result.json"] == (
        "corrupt or truncated JSON: Unterminated string starting at character 14"
    )
    assert problems["0000-result.json"] == "empty file"
    assert problems["notes.txt"].startswith("foreign file")
    foreign = [p for p in problems.values() if p.startswith("foreign result")]
    assert foreign == ["foreign result: no label platform, engine, service, check"]
    assert len({a.key for a in run.attempts}) == 22


def test_bad_files_are_logged(
    standard_results: Path, caplog: pytest.LogCaptureFixture
) -> None:
    read_results([standard_results])
    assert "deadbeef-result.json" in caplog.text


def test_steps_attachments_and_fixtures_are_read(standard_results: Path) -> None:
    run = read_results([standard_results])
    by_key = {a.key: a for a in run.attempts}
    starts = by_key[CellKey("win2022", "wine", "rpcss", "starts")]
    outer = starts.steps[0]
    assert outer.name == "start the service in container c1"
    inner = outer.steps[0]
    text, image = inner.attachments
    assert text.text is not None and "exit code: 0" in text.text
    assert image.mime == "image/png" and image.text is None and image.path
    broken = by_key[CellKey("win2022", "wine", "schedule", "starts")]
    assert [f.name for f in broken.fixtures][:1] == ["set-up: host_down"]
    assert "host did not come up" in broken.fixtures[0].message


def test_meta_files_of_workers_are_merged(standard_results: Path) -> None:
    meta = read_results([standard_results]).meta
    assert meta.run_id == "nightly-1"
    assert meta.started == "2026-11-01T00:59:00+00:00"
    assert meta.finished == "2026-11-01T01:31:00+00:00"
    assert meta.engines[0].os_build == "Wine 8.0 (Debian 12)"
    assert CellKey("win2022", "wine", "eventlog", "isolated") in meta.selected


def test_a_missing_folder_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="nowhere"):
        read_results([missing])


def test_a_folder_without_harness_results_is_a_config_error(
    allure_runner: AllureRunner, tmp_path: Path
) -> None:
    results = tmp_path / "plain"
    allure_runner.run([Spec("plain", "", "", "", "")], results, labelled=False)
    with pytest.raises(ConfigError, match="plain holds no harness result"):
        read_results([results])


def test_an_attachment_outside_the_folder_is_refused(
    standard_results: Path,
) -> None:
    result = next(standard_results.glob("*-result.json"))
    text = result.read_text(encoding="utf-8")
    crafted = text.replace(
        '"labels"',
        '"attachments": [{"name": "x", '
        '"source": "../../etc/passwd", "type": "text/plain"}], '
        '"labels"',
        1,
    )
    result.write_text(crafted, encoding="utf-8")
    run = read_results([standard_results])
    crafted_attempt = next(a for a in run.attempts if a.file == result)
    assert crafted_attempt.attachments[0].missing
    assert crafted_attempt.attachments[0].text is None


def test_results_differing_only_in_parameters_stay_separate_cells(
    allure_runner: AllureRunner, tmp_path: Path
) -> None:
    """Order and the empty string matter: four collected tests, four cells."""
    results = tmp_path / "results"
    spec = Spec(
        "pairs",
        "win2022",
        "wine",
        "wmi",
        "starts",
        args="a, b",
        parametrize="('a', 'b'), [('x', 'y'), ('y', 'x'), ('x', ''), ('', 'x')]",
        body="assert (a, b) != ('y', 'x'), 'swapped'",
    )
    allure_runner.run([spec], results).assert_outcomes(passed=3, failed=1)
    run = read_results([results])
    cells = collapse(run.attempts, run.meta)
    assert len(cells) == 4
    assert all(cell.attempts == 1 for cell in cells.values())
    failed = [key for key, cell in cells.items() if cell.outcome is Outcome.FAILED]
    assert [key.parameters for key in failed] == [(("a", "'y'"), ("b", "'x'"))]
    assert len({key.dom_id for key in cells}) == 4
