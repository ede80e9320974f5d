"""build_report end to end: every output file, escaping, symlink and Allure files."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.report import build_report
from harness.report.build import check_run_id
from harness.report.outputs import badge_names

from .scenarios import PWN_MESSAGE, WEIRD_ENGINE, WEIRD_PLATFORM

pytest_plugins = ["pytester"]


@pytest.fixture
def run_dir(standard_results: Path, tmp_path: Path) -> Path:
    return build_report([standard_results], tmp_path / "reports")


def test_every_output_is_written(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert {"index.html", "matrix.json", "matrix.md", "junit.xml", "badges"} <= names
    assert run_dir.name == "nightly-1"
    assert (run_dir / "badges" / "wine-win2022.svg").is_file()
    assert len(list((run_dir / "badges").iterdir())) == 5


def test_latest_points_at_the_newest_run(run_dir: Path) -> None:
    latest = run_dir.parent / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "nightly-1"
    assert (latest / "index.html").is_file()
    assert "nightly-1/index.html" in (run_dir.parent / "index.html").read_text()


def test_matrix_json_follows_schema_1(run_dir: Path) -> None:
    data = json.loads((run_dir / "matrix.json").read_text(encoding="utf-8"))
    assert data["schema"] == 1 and data["kind"] == "harness-matrix"
    assert data["run"]["run_id"] == "nightly-1"
    assert data["run"]["where"] == {"hostname": "ci-runner-7", "ci": None}
    weird = [c for c in data["cells"] if c["platform"] == WEIRD_PLATFORM]
    assert {c["engine"] for c in weird} == {WEIRD_ENGINE}
    assert data["summary"]["verdicts"]["partial"] >= 1
    rpcss = next(v for v in data["verdicts"] if v["service"] == "rpcss")
    assert rpcss["checks"] == {
        "isolated": "passed",
        "serves": "failed",
        "starts": "passed",
    }
    assert rpcss["since_run"] == "nightly-1"
    files = {Path(w["file"]).name for w in data["warnings"]}
    assert {"deadbeef-result.json", "0000-result.json", "notes.txt"} <= files


def test_junit_has_one_testcase_per_cell(run_dir: Path) -> None:
    root = ET.parse(run_dir / "junit.xml").getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert len(cases) == 23
    assert cases[("win2022.wine.iis", "serves")].find("error") is not None
    assert cases[("win2022.wine.rpcss", "serves")].find("failure") is not None
    skipped = cases[("win2022.wine.dcom", "starts")].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "expected failure: Wine lacks DCOM launch"
    assert root.get("tests") == "23"


def test_markdown_escapes_table_breakers(run_dir: Path) -> None:
    text = (run_dir / "matrix.md").read_text(encoding="utf-8")
    assert "| win2022 |" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| platform | rpcss"))
    row = next(line for line in lines if line.startswith("| win2022"))
    assert row.count(" | ") == header.count(" | ") == 6


def test_html_escapes_results_and_is_self_contained(run_dir: Path) -> None:
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert PWN_MESSAGE not in page
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert 'src="attachments/' in page
    assert page.count("<script") == 1  # ours, with the CSP nonce


def test_attachments_are_copied_beside_the_page(run_dir: Path) -> None:
    copied = list((run_dir / "attachments").iterdir())
    assert any(p.suffix == ".png" for p in copied)
    assert any(p.suffix == ".txt" for p in copied)


def test_allure_files_land_in_the_results_folder(
    run_dir: Path, standard_results: Path
) -> None:
    categories = json.loads((standard_results / "categories.json").read_text())
    broken = [c for c in categories if c["matchedStatuses"] == ["broken"]]
    assert broken and "Infrastructure" in broken[0]["name"]
    executor = json.loads((standard_results / "executor.json").read_text())
    assert executor["buildName"] == "nightly-1"
    props = (standard_results / "environment.properties").read_text()
    assert "run.id=nightly-1" in props
    assert "win2022.wine.os_build=Wine 8.0 (Debian 12)" in props


def test_reporting_again_replaces_the_run(
    standard_results: Path, tmp_path: Path
) -> None:
    first = build_report([standard_results], tmp_path / "reports")
    second = build_report([standard_results], tmp_path / "reports")
    assert first == second and (second / "index.html").is_file()


def test_the_run_id_option_wins(standard_results: Path, tmp_path: Path) -> None:
    run_dir = build_report([standard_results], tmp_path / "r", run_id="manual-3")
    assert run_dir.name == "manual-3"


@pytest.mark.parametrize("bad", ["", "..", "a/b", "latest", ".hidden", "x\ty"])
def test_a_run_id_that_cannot_name_a_folder_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="cannot name a report folder"):
        check_run_id(bad)


def test_files_beside_the_report_are_kept(
    standard_results: Path, tmp_path: Path
) -> None:
    """``harness run`` keeps allure-results and logs in the run folder."""
    root = tmp_path / "reports"
    (root / "nightly-1").mkdir(parents=True)
    (root / "nightly-1" / "pytest.log").write_text("keep me")
    build_report([standard_results], root)
    build_report([standard_results], root)
    assert (root / "nightly-1" / "pytest.log").read_text() == "keep me"
    assert (root / "nightly-1" / "index.html").is_file()


def test_results_inside_the_run_folder_survive_a_second_report(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    results = make_results("inside", {("win2022", "wine", "wmi", "starts"): "passed"})
    inside = root / "inside" / "allure-results"
    inside.parent.mkdir(parents=True)
    results.rename(inside)
    build_report([inside], root)
    build_report([inside], root)
    assert any(inside.glob("*-result.json"))


def test_an_interrupted_run_shows_a_banner(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    results = make_results(
        "cut-short",
        {("win2022", "wine", "wmi", "starts"): "passed"},
        interrupted=True,
        finished=None,
    )
    run_dir = build_report([results], tmp_path / "reports")
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="interrupted"' in page and "did not finish" in page


def test_badge_names_never_clash() -> None:
    names = badge_names([("a-b", "c"), ("a", "b-c"), ("wine", "win2022"), ("x/y", "")])
    assert len(set(names.values())) == 4
    assert names[("wine", "win2022")] == "wine-win2022.svg"
    assert all("/" not in name for name in names.values())


@pytest.mark.parametrize(
    ("recorded", "shown"), [("true", "CI"), ("GitLab CI", "GitLab CI")]
)
def test_the_ci_system_is_named_never_true(
    make_results: Callable[..., Path], tmp_path: Path, recorded: str, shown: str
) -> None:
    results = make_results(
        "ci-1",
        {("win2022", "wine", "wmi", "starts"): "passed"},
        where={"hostname": "runner", "ci": recorded},
    )
    run_dir = build_report([results], tmp_path / "reports")
    executor = json.loads((results / "executor.json").read_text())
    assert (executor["name"], executor["type"]) == (shown, "ci")
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert f"<th>CI</th><td>{shown}</td>" in page
    assert ">true<" not in page
