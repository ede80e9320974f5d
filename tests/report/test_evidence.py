"""How the evidence reads: the harness's own fixtures by what they do, and each
recorded guest-tool call as a call with its exit code and Win32 code.

The calls are recorded by the harness's real ``harness.probe.guest_json`` (a
container that answers from a recorded command result stands in for Wine); the
fixtures ``suite`` and ``_repair_suite`` of harness/plugin.py, which need a lab,
are stood in for by fixtures of the same names that record what the real ones
record when nothing is to be repaired.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from harness.report import build_report

from .scenarios import AllureRunner, Spec, write_meta

pytest_plugins = ["pytester"]

CONFTEST = '''
import allure
import pytest

from harness.transports import CommandResult

ANSWERS = {
    "query": (1, '{"ok": false, "command": "scm query", "name": "HarnessDup", '
                 '"error": {"call": "OpenServiceW", "code": 1060}}'),
    "start": (0, '{"ok": true, "command": "scm start", "state": "RUNNING"}'),
    "crash": (3221225477, ""),
}


class Recorded:
    """A container that answers from recorded command results."""

    name = "c2"

    def guest(self, tool, *args, timeout):
        code, out = ANSWERS[args[1]]
        argv = (tool, *args)
        return CommandResult("c2", argv, code, out + "\\n", "", 0.01)


@pytest.fixture
def container():
    return Recorded()


@pytest.fixture(autouse=True)
def _repair_suite():
    pass


@pytest.fixture(scope="module")
def suite():
    with allure.step("create two containers"):
        pass
    yield
    with allure.step("remove c1 and c2"):
        pass
'''

CALLS = """
from harness.probe import guest_json
guest_json(container, "probe", "scm", "query", "HarnessDup")
guest_json(container, "probe", "scm", "start", "HarnessDup")
"""
CRASH = """
from harness.probe import guest_json
guest_json(container, "probe", "scm", "crash", "HarnessDup")
"""


@pytest.fixture
def evidence(
    allure_runner: AllureRunner, pytester: pytest.Pytester, tmp_path: Path
) -> str:
    """The dashboard of a run with two checks that call the probe."""
    pytester.makeconftest(CONFTEST)
    w = ("wine-8", "wine", "ordinary")
    specs = [
        Spec("isolated", *w, "isolated", body=CALLS, args="suite, container"),
        Spec("serves", *w, "serves", body=CRASH, args="suite, container"),
    ]
    results = tmp_path / "results"
    allure_runner.run(specs, results)
    write_meta(results, "calls", specs)
    run_dir = build_report([results], tmp_path / "reports")
    return (run_dir / "index.html").read_text(encoding="utf-8")


def step_heads(page: str) -> list[str]:
    """Every step's status and title as the evidence shows them."""
    heads = re.findall(
        r'<span class="status[^"]*"[^>]*>([^<]*)</span>\s*<span class="name">([^<]*)',
        page,
    )
    return [html.unescape(f"{status} {name}") for status, name in heads]


def test_a_recorded_call_shows_its_exit_and_win32_code(evidence: str) -> None:
    heads = step_heads(evidence)
    assert "call c2: probe scm query HarnessDup → exit 1, code 1060 (OpenServiceW)" in (
        heads
    )
    assert "call c2: probe scm start HarnessDup → exit 0" in heads
    assert not any(h.startswith("passed c2: probe") for h in heads)
    # A call whose tool gave no JSON answer broke the check: its status stays.
    assert "broken c2: probe scm crash HarnessDup → exit 3221225477" in heads


def test_the_harness_fixtures_read_as_what_they_do(evidence: str) -> None:
    heads = step_heads(evidence)
    assert "_repair_suite" not in evidence, "it passed and recorded nothing"
    assert "passed set-up: make the suite's containers and duplicate the service" in (
        heads
    )
    assert "passed tear-down: remove the suite's containers" in heads
    assert not any("::0" in h for h in heads)
