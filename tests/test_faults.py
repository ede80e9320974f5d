"""Faults injected into real runs on Wine: each ends as a precise outcome, the run goes
on, every result is kept and nothing is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import cleanup

pytestmark = [pytest.mark.wine, pytest.mark.fault]
ROOT = Path(__file__).resolve().parent.parent
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
MATRIX = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
engines:
  wine: {kind: wine, platforms: [wine-8], options: {network: isolated}}
services: [ordinary, bits]
"""
HEADER = """\
import os, signal, time
from harness.checks import require_running
from harness.probe import probe
SERVICE = "ordinary"

def running(suite):
    require_running(probe(suite.container, "scm", "query", "HarnessDup"), "HarnessDup")
"""


@pytest.fixture
def project(tmp_path: Path, private_state: Path) -> Path:
    (tmp_path / "matrix.yaml").write_text(MATRIX)
    (tmp_path / "cases").mkdir()
    return tmp_path


def argv(project: Path) -> list[str]:
    return [
        *HARNESS,
        "run",
        "--matrix",
        str(project / "matrix.yaml"),
        "--cases",
        str(project / "cases"),
        "--reports",
        str(project / "reports"),
        "--no-progress",
    ]


# A second service suite after the faulty one: it must run as if nothing happened.
OTHER_SERVICE = """\
from harness.checks import system_service_starts
SERVICE = "bits"

def test_starts(suite, placement):
    system_service_starts(suite)
"""


def run(
    project: Path, cases: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    (project / "cases" / "test_ordinary.py").write_text(HEADER + cases)
    (project / "cases" / "test_bits.py").write_text(OTHER_SERVICE)
    result = subprocess.run(
        argv(project),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return result, summary(project)


def run_dir(project: Path) -> Path:
    return max((project / "reports").glob("2*"))


def summary(project: Path) -> dict:
    data = json.loads((run_dir(project) / "summary.json").read_text())
    data["by_check"] = {
        k.split("::")[-1].split("[")[0]: v for k, v in data["cells"].items()
    }
    return data


def nothing_left(reliability, run_id: str) -> None:
    """Assert (and count for the README) that the run left nothing behind."""
    assert reliability.left(leftovers(run_id)) == []


def results_kept(reliability, project: Path, data: dict) -> None:
    """Assert (and count) that every check of the case modules has its result, in
    summary.json and as an allure result labelled with its cell.  The check an
    interrupted run was stopped in has no outcome: its allure result, labelled
    `interrupted`, is its result."""
    expected = set()
    for module in (project / "cases").glob("test_*.py"):
        service = module.stem.removeprefix("test_")
        for line in module.read_text().splitlines():
            if line.startswith("def test_"):
                expected.add((service, line[9:].split("(")[0]))
    in_summary = {
        (
            k.split("::")[0].split("test_")[-1].removesuffix(".py"),
            k.split("::")[-1].split("[")[0].removeprefix("test_"),
        )
        for k, v in data["cells"].items()
        if v.get("outcome")
    }
    in_allure, stopped = set(), set()
    for path in (run_dir(project) / "allure-results").glob("*-result.json"):
        labels = {x["name"]: x["value"] for x in json.loads(path.read_text())["labels"]}
        in_allure.add((labels.get("service"), labels.get("check")))
        if labels.get("interrupted") == "true":
            stopped.add((labels.get("service"), labels.get("check")))
    found = (in_summary | stopped) & in_allure
    assert reliability.kept(expected, found) == set(), data


def leftovers(run_id: str) -> list[str]:
    """Namespaces, mounts and processes of a run that still exist."""
    label = "hx" + run_id.rsplit("-", 1)[-1]
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    found = [n for n in netns.stdout.split() if n.startswith(label)]
    found += [m for m in Path("/proc/mounts").read_text().splitlines() if run_id in m]
    found += [f"pid {p}" for p in cleanup.processes_of(run_id)]
    return found


@pytest.mark.parametrize("victim", ["keep-alive", "wineserver"])
def test_a_killed_container_breaks_one_cell_and_the_suite_goes_on(
    project, victim, reliability
):
    kill = (
        "os.killpg(suite.container.agent.process.pid, signal.SIGKILL)"
        if victim == "keep-alive"
        else "import subprocess; subprocess.run(['wineserver', '-k'], "
        "env={**os.environ, **suite.container.env})"
    )
    result, data = run(
        project,
        f"""
def test_starts(suite, placement):
    {kill}
    time.sleep(0.5)
    probe(suite.container, "info")

def test_serves(suite, placement):
    running(suite)

def test_isolated(suite, placement):
    running(suite)
""",
    )
    assert data["by_check"]["test_starts"]["outcome"] == "broken"
    assert "agent" in data["by_check"]["test_starts"]["message"]
    assert data["by_check"]["test_serves"]["outcome"] == "passed", data
    assert data["by_check"]["test_isolated"]["outcome"] == "passed", data
    bits = [v for k, v in data["cells"].items() if "test_bits.py::" in k]
    assert [c["outcome"] for c in bits] == ["passed"], data
    assert result.returncode == 3
    results_kept(reliability, project, data)
    nothing_left(reliability, data["run_id"])


@pytest.mark.parametrize("agent", ["agent", "no agent"])
def test_a_hanging_probe_is_broken_after_its_timeout(project, agent, reliability):
    started = time.monotonic()
    result, data = run(
        project,
        """
from pathlib import Path

def sleepers():
    # the hung `probe sleep 600000`, whether a Wine process of its own or the agent
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"600000" in (entry / "cmdline").read_bytes():
                found.append(entry.name)
        except OSError:
            pass
    return found

def test_starts(suite, placement):
    agent = suite.container.agent
    try:
        probe(suite.container, "sleep", "600000", timeout=3)
    finally:
        # the timeout ended the process tree that hung, at once
        assert agent is None or agent.process.poll() is not None, "the agent runs"
        assert sleepers() == [], f"the hung probe still runs: {sleepers()}"

def test_serves(suite, placement):
    running(suite)
""",
        env={"HARNESS_AGENT": "1" if agent == "agent" else "0"},
    )
    assert time.monotonic() - started < 120
    starts = data["by_check"]["test_starts"]
    assert starts["outcome"] == "broken", starts
    assert "within 3s" in starts["message"]
    assert data["by_check"]["test_serves"]["outcome"] == "passed"
    results_kept(reliability, project, data)
    nothing_left(reliability, data["run_id"])


def test_a_service_hung_in_a_pending_state_says_so(project, reliability):
    result, data = run(
        project,
        r"""
def test_starts(suite, placement):
    c = suite.container
    probe(c, "scm", "create", "HangStart",
          "C:\\harness\\dupsvc.exe --port 8201 --start-pending 600")
    answer = probe(c, "scm", "start", "HangStart", "--wait", "3")
    if answer.get("error", {}).get("code") == 1359:
        # Wine's SCM now and then fails a fresh service's start with 1359
        # (ERROR_INTERNAL_ERROR) before the service runs at all: the hang was
        # not injected, so inject it again.
        answer = probe(c, "scm", "start", "HangStart", "--wait", "3")
    require_running(answer, "HangStart")

def test_isolated(suite, placement):
    c = suite.container
    probe(c, "scm", "create", "HangStop",
          "C:\\harness\\dupsvc.exe --port 8202 --stop-pending 600")
    require_running(probe(c, "scm", "start", "HangStop"), "HangStop")
    stopped = probe(c, "scm", "stop", "HangStop", "--wait", "3")
    assert not stopped.get("hung"), f"HangStop hung in {stopped.get('hung')}"
""",
    )
    starts, isolated = (
        data["by_check"]["test_starts"],
        data["by_check"]["test_isolated"],
    )
    assert starts["outcome"] == "failed"
    assert "HangStart hung in START_PENDING" in starts["message"]
    assert isolated["outcome"] == "failed"
    assert "HangStop hung in STOP_PENDING" in isolated["message"]
    results_kept(reliability, project, data)
    nothing_left(reliability, data["run_id"])


SLOW = """
def test_starts(suite, placement):
    running(suite)

def test_serves(suite, placement):
    time.sleep(600)
"""


def start_and_wait_for_first_cell(project: Path) -> subprocess.Popen:
    (project / "cases" / "test_ordinary.py").write_text(HEADER + SLOW)
    child = subprocess.Popen(
        argv(project),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        progress = list((project / "reports").glob("2*/progress.jsonl"))
        if progress and '"outcome"' in progress[0].read_text():
            return child
        time.sleep(0.2)
    child.kill()
    pytest.fail("the first cell never finished")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_keeps_its_results_and_removes_everything(
    project, signum, reliability
):
    child = start_and_wait_for_first_cell(project)
    os.kill(child.pid, signum)
    child.communicate(timeout=120)
    assert child.returncode == 4
    data = summary(project)
    assert data["by_check"]["test_starts"]["outcome"] == "passed"
    assert data["interrupted"] is True
    results = list((run_dir(project) / "allure-results").glob("*-result.json"))
    assert results, "the results of the finished cell were lost"
    assert (
        reliability.kept(
            {"test_starts"},
            {k for k, v in data["by_check"].items() if v["outcome"] == "passed"},
        )
        == set()
    )
    nothing_left(reliability, data["run_id"])
    metas = list((run_dir(project) / "allure-results").glob("harness-meta-*.json"))
    assert any(json.loads(m.read_text())["interrupted"] for m in metas)
    # the dashboard of the partial run says it was interrupted
    page = (run_dir(project) / "index.html").read_text()
    assert 'id="interrupted"' in page
    # the check that was running when the signal came is not run, not a foreign file
    assert 'id="warnings"' not in page
    matrix = json.loads((run_dir(project) / "matrix.json").read_text())
    assert matrix["warnings"] == []
    (serves,) = [
        c
        for c in matrix["cells"]
        if (c["service"], c["check"]) == ("ordinary", "serves")
    ]
    assert serves["outcome"] == "not_run" and serves["note"].startswith("interrupted")


def test_after_sigkill_the_next_run_removes_what_was_left(
    project, private_state, reliability
):
    child = start_and_wait_for_first_cell(project)
    run_id = run_dir(project).name
    os.killpg(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)
    time.sleep(1)
    assert leftovers(run_id), "nothing was left: this test proves nothing"
    assert (private_state / run_id).exists()
    result, _ = run(
        project, "\ndef test_starts(suite, placement):\n    running(suite)\n"
    )
    assert result.returncode == 0, result.stderr
    assert f"removed what the crashed run {run_id} left behind" in (
        (run_dir(project) / "pytest.log").read_text()
    )
    nothing_left(reliability, run_id)
    assert not (private_state / run_id).exists()


def pytest_of(run_id: str) -> list[int]:
    """The pids of the run's pytest processes (their argv names the run id)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--run-id" in argv and run_id.encode() in argv:
            found.append(int(cmdline.parent.name))
    return found


def test_sigkill_of_the_harness_alone_stops_its_pytest_cleanly(project, reliability):
    """Only the `harness` process is killed (not its group): its pytest must not
    run on unseen; it stops as for SIGTERM, keeping results, removing all."""
    child = start_and_wait_for_first_cell(project)
    run_id = run_dir(project).name
    assert pytest_of(run_id), "no pytest of the run found: this test proves nothing"
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)
    deadline = time.monotonic() + 120
    while pytest_of(run_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pytest_of(run_id) == [], "pytest ran on after the harness was killed"
    data = summary(project)
    assert data["interrupted"] is True
    assert data["by_check"]["test_starts"]["outcome"] == "passed"
    results_kept(reliability, project, data)
    nothing_left(reliability, run_id)


def test_a_second_ctrl_c_while_the_run_cleans_up_keeps_it_interrupted(
    project, reliability
):
    """Ctrl-C in a terminal reaches the whole process group (harness and pytest);
    pressed twice, the second one must not break the teardown or the summary."""
    child = start_and_wait_for_first_cell(project)
    os.killpg(child.pid, signal.SIGINT)
    time.sleep(0.2)
    os.killpg(child.pid, signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 4, stderr
    assert b"already stopping" in stderr
    data = summary(project)
    assert data["interrupted"] is True, data
    assert data["exit_code"] == 4, data
    assert data["by_check"]["test_starts"]["outcome"] == "passed"
    results_kept(reliability, project, data)  # serves: its interrupted result
    nothing_left(reliability, data["run_id"])
    folder = run_dir(project)
    assert list(folder.glob("allure-results/*.tmp")) == []
    assert "Traceback" not in (folder / "pytest.log").read_text()
    matrix = json.loads((folder / "matrix.json").read_text())
    assert matrix["run"]["interrupted"] is True and matrix["warnings"] == []
    assert 'id="interrupted"' in (folder / "index.html").read_text()
