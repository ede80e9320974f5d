"""Verdicts per (platform, engine, service), with properties checked by Hypothesis."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.report.model import (
    Attempt,
    CellKey,
    CellResult,
    Outcome,
    RunMeta,
    ServiceKey,
    ServiceVerdict,
    Verdict,
)
from harness.report.outcomes import collapse
from harness.report.reader import read_results
from harness.report.verdicts import RANK, service_verdicts, verdict_for

pytest_plugins = ["pytester"]

outcomes = st.lists(st.sampled_from(list(Outcome)), max_size=6)


@pytest.mark.parametrize(
    ("checks", "verdict"),
    [
        (["passed", "passed", "passed"], Verdict.SUPPORTED),
        (["passed", "failed", "passed"], Verdict.PARTIAL),
        (["passed", "expected_failure"], Verdict.PARTIAL),
        (["failed", "failed"], Verdict.UNSUPPORTED),
        (["expected_failure", "failed"], Verdict.UNSUPPORTED),
        (["broken", "failed"], Verdict.UNKNOWN),
        (["passed", "skipped"], Verdict.UNKNOWN),
        (["passed", "not_run"], Verdict.UNKNOWN),
        ([], Verdict.UNKNOWN),
    ],
)
def test_verdict_table(checks: list[str], verdict: Verdict) -> None:
    assert verdict_for(Outcome(o) for o in checks) is verdict


@given(outcomes)
def test_adding_a_passing_check_never_lowers_a_verdict(checks: list[Outcome]) -> None:
    before = verdict_for(checks)
    after = verdict_for([*checks, Outcome.PASSED])
    assert RANK[after] >= RANK[before]


@given(outcomes)
def test_broken_never_yields_unsupported(checks: list[Outcome]) -> None:
    assert verdict_for([*checks, Outcome.BROKEN]) is not Verdict.UNSUPPORTED
    assert verdict_for([*checks, Outcome.BROKEN]) is Verdict.UNKNOWN


@given(st.lists(st.sampled_from([Outcome.BROKEN, Outcome.PASSED]), min_size=1))
def test_only_broken_and_passed_is_never_unsupported(checks: list[Outcome]) -> None:
    assert verdict_for(checks) is not Verdict.UNSUPPORTED


def verdicts_of(results: Path) -> dict[ServiceKey, ServiceVerdict]:
    run = read_results([results])
    return {v.key: v for v in service_verdicts(collapse(run.attempts, run.meta))}


def test_verdicts_and_notes_of_a_real_run(standard_results: Path) -> None:
    verdicts = verdicts_of(standard_results)

    def get(service: str) -> ServiceVerdict:
        return verdicts[ServiceKey("win2022", "wine", service)]

    rpcss = get("rpcss")
    assert rpcss.verdict is Verdict.PARTIAL
    assert rpcss.note == (
        "passed: isolated, starts; failed: serves (AssertionError: port 135 is "
        "not served)"
    )
    dcom = get("dcom")
    assert dcom.verdict is Verdict.UNSUPPORTED
    assert "known issue: Wine lacks DCOM launch" in dcom.note
    assert "known issue: Wine has no COM activation over RPC" in dcom.note
    assert get("iis").verdict is Verdict.UNKNOWN
    assert "broken: serves (OSError: transport down)" in get("iis").note
    assert get("spooler").verdict is Verdict.SUPPORTED
    eventlog = get("eventlog")
    assert eventlog.verdict is Verdict.UNKNOWN
    assert "known issue no longer reproduces" in eventlog.note
    assert "not run: isolated" in eventlog.note
    assert get("schedule").verdict is Verdict.UNKNOWN


def test_a_partial_note_names_the_known_issue(standard_results: Path) -> None:
    cells = collapse(*_attempts_and_meta(standard_results))
    key = CellKey("win2022", "wine", "dcom", "starts")
    mixed = {key: cells[key], **_passed("dcom", "isolated")}
    (verdict,) = service_verdicts(mixed)
    assert verdict.verdict is Verdict.PARTIAL
    assert verdict.note == (
        "passed: isolated; expected failure: starts (known issue: Wine lacks DCOM "
        "launch)"
    )


def _attempts_and_meta(results: Path) -> tuple[list[Attempt], RunMeta]:
    run = read_results([results])
    return run.attempts, run.meta


def _passed(service: str, check: str) -> dict[CellKey, CellResult]:
    key = CellKey("win2022", "wine", service, check)
    return {key: CellResult(key=key, outcome=Outcome.PASSED)}
