"""`harness report --allure` with the real npm package allure (Allure 3).

The package is installed once into the harness cache by scripts/need-npm-allure
(which `make test` runs too).  Only a machine without npm skips these tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report import build_report

from .scenarios import AllureRunner, Spec, write_meta

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
W = ("win2022", "wine")
INFRASTRUCTURE = "Infrastructure problems (broken: the harness could not check)"
GONE = "Known issues that no longer reproduce"


@pytest.fixture(scope="module")
def allure_command() -> str:
    """The allure command from the harness cache, installed when absent."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm and Node.js are not installed: no npm allure to run")
    done = subprocess.run(
        [str(ROOT / "scripts" / "need-npm-allure")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"npm install allure failed: {done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def categories(report: Path) -> list[str]:
    """The category names Allure 3 put into its generated report."""
    tree = json.loads((report / "widgets" / "categories.json").read_text())
    return [tree["nodes"][root]["name"] for root in tree["roots"]]


def test_allure_3_shows_the_harness_categories(
    allure_command: str,
    allure_runner: AllureRunner,
    tmp_path: Path,
    private_state: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = tmp_path / "allure-results"
    specs = [
        Spec("starts", *W, "rpcss", "starts"),
        Spec("serves", *W, "rpcss", "serves", body="raise OSError('host down')"),
        Spec("isolated", *W, "rpcss", "isolated", known_issue="Wine lacks it"),
        Spec("dcom", *W, "dcom", "starts", body="assert False, 'no activator'"),
    ]
    allure_runner.run(specs, results, "-p", "harness.plugin", subprocess=True)
    write_meta(results, "allure-3", specs)
    monkeypatch.setenv("HARNESS_ALLURE", allure_command)
    run_dir = build_report([results], tmp_path / "reports", allure=True)
    assert (run_dir / "allure" / "index.html").is_file()
    found = categories(run_dir / "allure")
    assert INFRASTRUCTURE in found
    assert GONE in found, "the strict XPASS has no message the category matches"
    assert "Engine failures (failed checks)" in found
    assert "Product errors" not in found and "Test errors" not in found
