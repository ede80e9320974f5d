"""Shared fixtures of the harness's own tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from harness import hypothesis_profiles

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]

# The suite's runs register in an index of their own, never in the machine's
# (/run/harness), so a crash in a test never touches a user's runs and theirs
# never touch the tests'.
os.environ.setdefault(
    "HARNESS_REGISTRY", tempfile.mkdtemp(prefix="harness-test-index-")
)

# Every property test without settings of its own follows the selected profile
# (HARNESS_HYPOTHESIS_PROFILE: ci, nightly or dev).
settings.load_profile(f"harness-{hypothesis_profiles.selected()}-pure")


@pytest.fixture
def private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """A private run-state folder, so a test sees only the runs it made.

    The cache of golden prefixes stays shared: it is keyed by its inputs.
    """
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("HARNESS_STATE", str(state))
    # and a private index of runs: the suite's runs stay out of the machine's
    monkeypatch.setenv("HARNESS_REGISTRY", str(state.parent / f"{state.name}-index"))
    return state


class Reliability:
    """The README's reliability figures, counted while the suite runs.

    Fault tests report what they found through `left` (resources of the run still
    on the machine) and `kept` (cells that should have a result, and those that
    have one); a fault survived is a fault test that passed.
    """

    def __init__(self) -> None:
        self.faults_survived = 0
        self.faults_failed = 0
        self.results_lost = 0
        self.resources_left = 0
        self.bad_inputs = 0

    def tried(self, count: int = 1) -> None:
        self.bad_inputs += count

    def left(self, found: list[str]) -> list[str]:
        """Count resources a run left behind; returns them for the assertion."""
        self.resources_left += len(found)
        return found

    def kept(self, expected: set[str], found: set[str]) -> set[str]:
        """Count the cells of `expected` without a result; returns them."""
        lost = expected - found
        self.results_lost += len(lost)
        return lost

    def as_dict(self) -> dict[str, int]:
        return {
            "faults injected and survived": self.faults_survived,
            "fault tests that failed": self.faults_failed,
            "results lost": self.results_lost,
            "resources left behind": self.resources_left,
            "bad inputs tried": self.bad_inputs,
        }


RELIABILITY = Reliability()


@pytest.fixture(scope="session")
def reliability() -> Reliability:
    return RELIABILITY


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    if "fault" in report.keywords:
        if report.passed:
            RELIABILITY.faults_survived += 1
        else:
            RELIABILITY.faults_failed += 1
    if (
        "bad_input" in report.keywords
        and report.passed
        and "fuzz" not in (report.nodeid)
    ):
        RELIABILITY.tried()


def pytest_terminal_summary(terminalreporter) -> None:
    figures = RELIABILITY.as_dict()
    if any(figures.values()):
        terminalreporter.write_line(
            "reliability: " + ", ".join(f"{v} {k}" for k, v in figures.items())
        )
