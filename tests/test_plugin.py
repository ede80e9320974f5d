"""The pytest plugin, driven through pytester on generated matrices and case modules."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.report import build_report
from harness.report.outcomes import outcome_of
from harness.report.reader import parse_result

MATRIX = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
  win2022: {target: local, os: wine}
engines:
  wine: {kind: wine, platforms: [wine-8]}
  other: {kind: wine, platforms: [wine-8, win2022]}
services: [ordinary]
known_issues:
  - {platform: wine-8, engine: other, service: ordinary, check: isolated,
     outcome: failed, reason: the peer shares the network with the container}
"""

CASES = """\
from harness.errors import GuestError

SERVICE = "ordinary"

def test_starts(placement, cell):
    assert cell.check == "starts"
    assert placement.engine == "wine", "the other engine is wrong"

def test_serves(placement):
    if placement.engine == "other":
        raise GuestError("the probe crashed")

def test_isolated(placement):
    assert placement.engine != "other", "isolation broken"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, private_state) -> pytest.Pytester:
    pytester.makefile(".yaml", matrix=MATRIX)
    pytester.makepyfile(test_ordinary=CASES)
    return pytester


def run(pytester: pytest.Pytester, *args: str):
    summary = pytester.path / "summary.json"
    results = pytester.path / "results"
    outcome = pytester.runpytest_subprocess(
        "--matrix",
        "matrix.yaml",
        "--alluredir",
        str(results),
        "--harness-summary",
        str(summary),
        "-p",
        "no:cacheprovider",
        *args,
    )
    data = json.loads(summary.read_text()) if summary.exists() else None
    return outcome, data, results


def outcomes(summary) -> dict[str, str]:
    return {k.split("::")[-1]: v["outcome"] for k, v in summary["cells"].items()}


def test_cells_are_parametrized_by_placement_and_classified(project):
    result, summary, _ = run(project)
    assert outcomes(summary) == {
        "test_starts[wine-8/wine]": "passed",
        "test_starts[wine-8/other]": "failed",
        "test_serves[wine-8/wine]": "passed",
        "test_serves[wine-8/other]": "broken",
        "test_isolated[wine-8/wine]": "passed",
        "test_isolated[wine-8/other]": "expected failure",
    }
    assert summary["selected"] == 6


def test_an_unexpected_pass_of_a_known_issue_fails(project):
    project.makepyfile(test_ordinary=CASES.replace('!= "other"', '!= "nobody"'))
    _, summary, results = run(project)
    assert outcomes(summary)["test_isolated[wine-8/other]"] == "failed"
    (xpass,) = [
        r
        for r in allure_results(results)
        if r["status"] == "failed" and r["name"] == "test_isolated[wine-8/other]"
    ]
    assert xpass["statusDetails"]["message"] == (
        "[XPASS(strict)] the peer shares the network with the container"
    )
    passed = [r for r in allure_results(results) if r["status"] == "passed"]
    assert passed and all("statusDetails" not in r for r in passed)


def allure_results(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in results.glob("*-result.json")]


def test_filters_and_default_platforms(project):
    _, summary, _ = run(project, "--engine", "other", "--check", "starts,serves")
    assert sorted(outcomes(summary)) == [
        "test_serves[wine-8/other]",
        "test_starts[wine-8/other]",
    ]
    _, summary, _ = run(project, "--platform", "win2022", "--check", "starts")
    assert list(outcomes(summary)) == ["test_starts[win2022/other]"]


def test_unknown_filter_value_is_a_usage_error(project):
    result, _, _ = run(project, "--service", "fax")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--service 'fax' is not in the matrix; allowed values: ordinary*"]
    )


def test_allure_results_carry_cell_labels_and_known_issues(project):
    _, _, results = run(project)
    labelled = {}
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text())
        labels = {}
        for label in data["labels"]:
            labels.setdefault(label["name"], label["value"])
        key = tuple(labels[k] for k in ("platform", "engine", "service", "check"))
        labelled[key] = (data["status"], labels)
    assert len(labelled) == 6
    status, labels = labelled[("wine-8", "other", "ordinary", "isolated")]
    assert labels["known_issue"] == "the peer shares the network with the container"
    assert labels["expected_outcome"] == "failed"
    assert (labels["epic"], labels["feature"], labels["story"]) == (
        "wine-8 / other",
        "ordinary",
        "isolated",
    )
    assert labelled[("wine-8", "other", "ordinary", "serves")][0] == "broken"
    assert labelled[("wine-8", "other", "ordinary", "starts")][0] == "failed"


def test_run_metadata_is_written_beside_the_results(project):
    _, summary, results = run(project)
    metas = [json.loads(p.read_text()) for p in results.glob("harness-meta-*.json")]
    assert len(metas) == 1
    meta = metas[0]
    assert meta["run_id"] == summary["run_id"]
    assert meta["kind"] == "harness-run-meta" and meta["schema"] == 1
    assert len(meta["selected"]) == 6
    assert meta["known_issues"][0]["check"] == "isolated"
    assert meta["shard"] is None


def test_run_metadata_names_the_shard_and_the_ci_system(project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITLAB_CI", "true")
    _, _, results = run(project, "--shard", "2/3")
    (meta,) = [json.loads(p.read_text()) for p in results.glob("harness-meta-*.json")]
    assert meta["shard"] == "2/3"
    assert meta["where"]["ci"] == "GitLab CI"


def test_a_case_module_that_does_not_import_is_reported(project):
    project.makepyfile(test_broken_module="import no_such_module\nSERVICE = 'x'\n")
    result, summary, _ = run(project)
    assert summary["collection_errors"]
    assert "no_such_module" in summary["collection_errors"][0]
    assert result.ret != 0


def test_a_test_that_is_not_a_check_is_refused(project):
    project.makepyfile(test_ordinary=CASES + "\ndef test_speed(placement):\n    pass\n")
    result, summary, _ = run(project)
    assert result.ret != pytest.ExitCode.OK
    assert "test_speed is not a check" in summary["collection_errors"][0]


def test_workers_collect_the_same_cells(project):
    _, summary, results = run(project, "-n", "2", "--dist", "loadgroup")
    assert len(outcomes(summary)) == 6
    assert outcomes(summary)["test_serves[wine-8/other]"] == "broken"
    metas = [json.loads(p.read_text()) for p in results.glob("harness-meta-*.json")]
    assert len(metas) == 3  # the controller and two workers
    assert {m["run_id"] for m in metas} == {summary["run_id"]}


def test_matrix_errors_stop_the_run_with_the_message(project):
    Path(project.path / "matrix.yaml").write_text(
        textwrap.dedent(MATRIX).replace("target: local", "target: lokal")
    )
    result, _, _ = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*matrix.yaml:3: platforms.wine-8.target*"])


DECLARED = """\
  - {platform: wine-8, engine: other, service: ordinary, check: serves,
     outcome: failed, reason: the other engine answers from the wrong container}
  - {platform: wine-8, engine: other, service: ordinary, check: starts,
     outcome: broken, reason: the other engine cannot start a container here}
  - {platform: wine-8, engine: wine, service: ordinary, check: starts,
     outcome: broken, reason: the wine engine cannot start a container here}
"""

RAISING = """\
from harness.errors import EngineError, GuestError

SERVICE = "ordinary"

def test_starts(placement):
    if placement.engine == "other":
        raise EngineError("no container")
    assert False, "the service is not running"

def test_serves(placement):
    if placement.engine == "other":
        raise GuestError("the probe crashed")

def test_isolated(placement):
    assert placement.engine != "other", "isolation broken"
"""


def test_a_known_issue_expects_its_declared_outcome_only(project):
    """An infrastructure error in a cell declared `failed` is broken, and a failed
    assertion in a cell declared `broken` is failed: neither is the known issue."""
    (project.path / "matrix.yaml").write_text(MATRIX + DECLARED)
    project.makepyfile(test_ordinary=RAISING)
    _, summary, results = run(project)
    assert outcomes(summary) == {
        "test_starts[wine-8/wine]": "failed",
        "test_starts[wine-8/other]": "expected failure",
        "test_serves[wine-8/wine]": "passed",
        "test_serves[wine-8/other]": "broken",
        "test_isolated[wine-8/wine]": "passed",
        "test_isolated[wine-8/other]": "expected failure",
    }
    published = {}  # what the dashboard makes of each allure result
    for path in results.glob("*-result.json"):
        attempt = parse_result(path)
        key = (attempt.labels["engine"], attempt.labels["check"])
        published[key] = outcome_of(attempt)[0].value
    assert published[("other", "serves")] == "broken"
    assert published[("wine", "starts")] == "failed"
    assert published[("other", "starts")] == "expected_failure"


def test_run_metadata_names_the_checks_a_filter_or_k_left_out(project, tmp_path):
    _, _, results = run(project, "--check", "serves,isolated", "-k", "other")
    (meta,) = [json.loads(p.read_text()) for p in results.glob("harness-meta-*.json")]
    assert sorted(meta["selected"]) == [
        ["wine-8", "other", "ordinary", "isolated"],
        ["wine-8", "other", "ordinary", "serves"],
        ["wine-8", "wine", "ordinary", "isolated"],
        ["wine-8", "wine", "ordinary", "serves"],
    ]
    assert sorted(meta["deselected"]) == [
        ["wine-8", "wine", "ordinary", "isolated"],
        ["wine-8", "wine", "ordinary", "serves"],
    ]
    assert len(meta["matrix_checks"]) == 6  # both engines, three checks each
    run_dir = build_report([results], tmp_path / "reports")
    data = json.loads((run_dir / "matrix.json").read_text())
    (verdict,) = data["verdicts"]  # -k left out the whole wine engine
    assert (verdict["engine"], verdict["verdict"]) == ("other", "unknown")
    assert verdict["note"].startswith(
        "only isolated, serves ran (starts not selected in this run); "
    )


STOPPED = """\
import os, signal, time

import allure

SERVICE = "ordinary"

def test_starts(placement):
    pass

def test_serves(placement):
    with allure.step("ask the container's service"):
        pass
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
"""


def test_a_cell_stopped_by_ctrl_c_keeps_its_labels_and_is_not_run(project, tmp_path):
    project.makepyfile(test_ordinary=STOPPED)
    _, summary, results = run(project, "--engine", "wine")
    assert summary["interrupted"] is True
    stopped = [
        json.loads(p.read_text())
        for p in results.glob("*-result.json")
        if "test_serves" in p.read_text()
    ]
    assert len(stopped) == 1
    labels = {label["name"]: label["value"] for label in stopped[0]["labels"]}
    assert (labels["service"], labels["check"], labels["interrupted"]) == (
        "ordinary",
        "serves",
        "true",
    )
    run_dir = build_report([results], tmp_path / "reports")
    data = json.loads((run_dir / "matrix.json").read_text())
    assert data["warnings"] == []
    cells = {c["check"]: c for c in data["cells"]}
    assert cells["serves"]["outcome"] == "not_run"
    assert cells["serves"]["note"].startswith("interrupted")
    assert cells["isolated"]["note"] == "selected but no result (interrupted run)"
    page = (run_dir / "index.html").read_text()
    assert 'id="warnings"' not in page and "ask the container&#39;s service" in page


@pytest.mark.parametrize("workers", [[], ["-n", "2", "--dist", "loadgroup"]])
def test_progress_starts_with_the_number_of_cells_pytest_collected(project, workers):
    progress = project.path / "progress.jsonl"
    run(project, "--harness-progress", str(progress), "-k", "starts", *workers)
    first, *cells = [json.loads(line) for line in progress.read_text().splitlines()]
    assert first == {"collected": 2}  # -k left 2 of the 6 selected cells
    assert sorted(c["nodeid"].split("::")[-1] for c in cells) == [
        "test_starts[wine-8/other]",
        "test_starts[wine-8/wine]",
    ]


SIGNALLED_TWICE = """\
import os, signal, time
from pathlib import Path

import pytest

SERVICE = "ordinary"

@pytest.fixture(scope="module")
def containers():
    yield
    # Ctrl-C again while the run removes its containers: the teardown goes on.
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    Path("torn-down").write_text("yes")

def test_starts(placement, containers):
    pass

def test_serves(placement, containers):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
"""


def test_signals_after_the_first_do_not_interrupt_the_teardown(project):
    project.makepyfile(test_ordinary=SIGNALLED_TWICE)
    result, summary, _ = run(project, "--engine", "wine")
    assert (project.path / "torn-down").read_text() == "yes"
    assert summary["interrupted"] is True and summary["signal"] == "SIGINT"
    assert summary["pytest_exitstatus"] == pytest.ExitCode.INTERRUPTED
    assert outcomes(summary) == {"test_starts[wine-8/wine]": "passed"}
    output = result.stdout.str() + result.stderr.str()
    assert "harness: SIGINT: already stopping: removing containers" in output
    assert "harness: SIGTERM: already stopping: removing containers" in output
    assert "Traceback" not in output
