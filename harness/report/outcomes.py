"""Turn allure attempts into one outcome per cell.

allure-pytest already marks a failed assertion as ``failed`` and any other exception
as ``broken``.  On top of that: a strict xfail that reproduced arrives as ``skipped``
with a message starting ``XFAIL`` and becomes an expected failure; a strict known
issue that passed arrives as ``failed`` (``XPASS(strict)``) and stays failed with a
note; a result labelled ``interrupted`` (the run was stopped before the check had
an outcome, see harness/allure_interrupted.py) is not run, with its steps kept;
retries (results with the same labels and the same parameters) collapse to the
latest attempt by stop time.
"""

from __future__ import annotations

from collections import defaultdict

from harness.report.model import (
    INTERRUPTED,
    NO_LONGER_REPRODUCES,
    NOT_SELECTED,
    Attempt,
    CellKey,
    CellResult,
    Outcome,
    RunMeta,
)

__all__ = ["NO_LONGER_REPRODUCES", "collapse", "outcome_of"]
# The label harness/allure_interrupted.py gives the result of a stopped check.
INTERRUPTED_LABEL = "interrupted"
STATUS_OUTCOMES = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "broken": Outcome.BROKEN,
    "skipped": Outcome.SKIPPED,
}


def outcome_of(attempt: Attempt) -> tuple[Outcome, str]:
    """The outcome of one attempt and the note that goes with it.

    Example: status "skipped" with message "XFAIL Wine lacks X" is an expected
    failure with the note "known issue: Wine lacks X".
    """
    known_issue = attempt.labels.get("known_issue", "")
    if INTERRUPTED_LABEL in attempt.labels:
        return Outcome.NOT_RUN, INTERRUPTED
    if attempt.status == "skipped" and attempt.message.startswith("XFAIL"):
        reason = known_issue or attempt.message.removeprefix("XFAIL").strip()
        return Outcome.EXPECTED_FAILURE, f"known issue: {_first_line(reason)}"
    if attempt.status == "failed" and _is_xpass(attempt, known_issue):
        return Outcome.FAILED, NO_LONGER_REPRODUCES
    # allure's "unknown" status (and anything newer) means nobody could tell: broken.
    return STATUS_OUTCOMES.get(attempt.status, Outcome.BROKEN), ""


def _is_xpass(attempt: Attempt, known_issue: str) -> bool:
    """A strict known issue that passed (allure-pytest may omit the message)."""
    if "XPASS(strict)" in attempt.message:
        return True
    return bool(known_issue) and not attempt.message and not attempt.trace


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def collapse(attempts: list[Attempt], meta: RunMeta) -> dict[CellKey, CellResult]:
    """One CellResult per cell: the latest attempt wins; cells without any attempt
    are ``not run``: selected ones (a check that vanished, an interrupted run) and
    the other checks of the matrix for the services the run touched (left out by
    its filters, its shard or a pytest option such as -k).

    Metadata without ``matrix_checks`` (written before the harness recorded it)
    names no left-out check, so a filtered run's verdicts then cover only the
    checks it ran.
    """
    by_cell: dict[CellKey, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_cell[attempt.key].append(attempt)
    cells = {key: _cell(key, tries, meta) for key, tries in by_cell.items()}
    ran = {key.labels_only for key in cells}
    chosen = meta.selected - meta.deselected
    for key in chosen - ran:
        cells[key] = _not_run(key, meta)
    # Only services the run checked at all: -k may leave out a whole service.
    services = {key.service_key for key in chosen | ran}
    left_out = (meta.matrix_checks - meta.selected) | meta.deselected
    for key in left_out - ran:
        if key.service_key in services:
            cells[key] = _not_selected(key, meta)
    return dict(sorted(cells.items()))


def _cell(key: CellKey, tries: list[Attempt], meta: RunMeta) -> CellResult:
    tries.sort(key=lambda a: (a.sort_time, a.file.name))
    latest = tries[-1]
    outcome, note = outcome_of(latest)
    earlier = [outcome_of(a)[0] for a in tries[:-1]]
    after_retry = outcome is Outcome.PASSED and any(
        o is not Outcome.PASSED for o in earlier
    )
    if after_retry:
        note = _join(note, f"passed after retry ({len(tries)} attempts)")
    reason = latest.labels.get("known_issue") or _declared(key, meta)
    return CellResult(
        key=key,
        outcome=outcome,
        note=note,
        known_issue=reason,
        attempt=latest,
        attempts=len(tries),
        passed_after_retry=after_retry,
        earlier_attempts=tries[:-1],
    )


def _declared(key: CellKey, meta: RunMeta) -> str:
    """The reason of the known issue matrix.yaml declares for the cell, or ""."""
    return meta.known_issues.get(key.labels_only, ("", ""))[1]


def _not_run(key: CellKey, meta: RunMeta) -> CellResult:
    reason = _declared(key, meta)
    note = "selected but no result" + (" (interrupted run)" if meta.interrupted else "")
    return CellResult(key=key, outcome=Outcome.NOT_RUN, note=note, known_issue=reason)


def _not_selected(key: CellKey, meta: RunMeta) -> CellResult:
    how = " (deselected by a pytest option)" if key in meta.deselected else ""
    return CellResult(
        key=key,
        outcome=Outcome.NOT_RUN,
        note=NOT_SELECTED + how,
        known_issue=_declared(key, meta),
        selected=False,
    )


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
