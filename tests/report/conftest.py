"""Fixtures that produce real allure results (see scenarios.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .scenarios import (
    NOT_RUN,
    AllureRunner,
    Spec,
    spec_for,
    standard_specs,
    write_meta,
)


@pytest.fixture
def allure_runner(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> AllureRunner:
    """An AllureRunner whose inner pytest loads only the plugins it names."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return AllureRunner(pytester)


@pytest.fixture
def standard_results(allure_runner: AllureRunner, tmp_path: Path) -> Path:
    """A results folder holding every kind of cell, a foreign result and bad files."""
    results = tmp_path / "allure-results"
    specs = standard_specs()
    allure_runner.run(specs, results, "--reruns", "1")
    allure_runner.run([Spec("foreign", "", "", "", "")], results, labelled=False)
    write_meta(results, "nightly-1", [*specs, NOT_RUN], worker="gw0")
    write_meta(
        results,
        "nightly-1",
        [],
        worker="gw1",
        started="2026-11-01T00:59:00+00:00",
        finished="2026-11-01T01:31:00+00:00",
    )
    (results / "deadbeef-result.json").write_text('{"name": "x", "sta')
    (results / "0000-result.json").write_text("")
    (results / "notes.txt").write_text("not allure")
    return results


@pytest.fixture
def make_results(allure_runner: AllureRunner, tmp_path: Path) -> Callable[..., Path]:
    """Results of one small run whose cells pass or fail as asked."""

    def make(run_id: str, outcomes: dict[tuple[str, ...], str], **meta: Any) -> Path:
        results = tmp_path / f"results-{run_id}"
        specs = [
            spec_for(f"cell_{i}", key, outcome)
            for i, (key, outcome) in enumerate(sorted(outcomes.items()))
        ]
        allure_runner.run(specs, results)
        write_meta(results, run_id, specs, **meta)
        return results

    return make
