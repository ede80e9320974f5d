"""`harness report --allure` with the real npm package allure (Allure 3).

The package is installed once into the harness cache by scripts/need-npm-allure
(which `make test` runs too), where the report finds it without being told.
Only a machine without npm skips these tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report import build_report
from harness.report.allure_files import find_allure

from .scenarios import AllureRunner, Spec, write_meta

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
W = ("win2022", "wine")
INFRASTRUCTURE = "Infrastructure problems (broken: the harness could not check)"
GONE = "Known issues that no longer reproduce"


def need_npm_allure(env: dict[str, str] | None = None) -> str:
    """Run scripts/need-npm-allure; the path of the allure command it printed."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "need-npm-allure")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, f"npm install allure failed: {done.stderr}"
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def allure_command() -> str:
    """The allure command from the harness cache, installed when absent."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm and Node.js are not installed: no npm allure to run")
    return need_npm_allure()


@pytest.fixture
def only_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No allure anywhere but in the harness cache: not in $HARNESS_ALLURE, on
    PATH (which holds node alone) or under the current folder."""
    tools = tmp_path / "only-node"
    tools.mkdir()
    (tools / "node").symlink_to(shutil.which("node") or "node")
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.delenv("HARNESS_ALLURE", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("variable", ["HARNESS_CACHE", "XDG_CACHE_HOME"])
def test_the_report_finds_allure_where_the_script_puts_it(
    allure_command: str,
    only_node: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    """The script and the finder agree on the folder, wherever the cache is; the
    cache here holds the real install (linked, so nothing is downloaded)."""
    cache = tmp_path / "cache"
    harness_cache = cache if variable == "HARNESS_CACHE" else cache / "harness"
    installed = Path(allure_command).parents[2]  # .../npm/allure-<version>
    (harness_cache / "npm").mkdir(parents=True)
    (harness_cache / "npm" / installed.name).symlink_to(installed)
    monkeypatch.delenv("HARNESS_CACHE", raising=False)
    monkeypatch.setenv(variable, str(cache))
    env = {**os.environ, "PATH": f"{os.environ['PATH']}:/usr/bin:/bin"}
    printed = need_npm_allure(env)
    assert printed.startswith(str(harness_cache / "npm"))
    assert find_allure([tmp_path / "reports"]) == [printed]


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
    """Without HARNESS_ALLURE: the report finds what scripts/need-npm-allure
    installed."""
    results = tmp_path / "allure-results"
    specs = [
        Spec("starts", *W, "rpcss", "starts"),
        Spec("serves", *W, "rpcss", "serves", body="raise OSError('host down')"),
        Spec("isolated", *W, "rpcss", "isolated", known_issue="Wine lacks it"),
        Spec("dcom", *W, "dcom", "starts", body="assert False, 'no activator'"),
    ]
    allure_runner.run(specs, results, "-p", "harness.plugin", subprocess=True)
    write_meta(results, "allure-3", specs)
    monkeypatch.delenv("HARNESS_ALLURE", raising=False)
    monkeypatch.setenv("PATH", str(Path(shutil.which("node") or "node").parent))
    # pytester moved HOME into its folder: name the cache the script used.
    monkeypatch.setenv("HARNESS_CACHE", str(Path(allure_command).parents[4]))
    assert find_allure() == [allure_command]
    run_dir = build_report([results], tmp_path / "reports", allure=True)
    assert (run_dir / "allure" / "index.html").is_file()
    found = categories(run_dir / "allure")
    assert INFRASTRUCTURE in found
    assert GONE in found, "the strict XPASS has no message the category matches"
    assert "Engine failures (failed checks)" in found
    assert "Product errors" not in found and "Test errors" not in found
