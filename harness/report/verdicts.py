"""Verdicts per (platform, engine, service) from the outcomes of its checks.

supported: every check passed (a strict known issue that no longer reproduces
counts as passed: its check did).  partial: some passed, the rest failed or are known
issues.  unsupported: none passed and at least one failed or is a known issue.
unknown: anything broken, skipped or not run prevents a claim, so infrastructure
trouble is never published as "unsupported".  The checks are all those of the
matrix for the service: one that the run's filters or shard left out is "not run",
so a run of ``--check serves`` gives unknown verdicts, never a verdict about the
service as a whole from one of its checks.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from harness.report.model import (
    NOT_SELECTED,
    CellKey,
    CellResult,
    Outcome,
    ServiceKey,
    ServiceVerdict,
    Verdict,
)

# Outcomes that leave the verdict open: nobody could check.
UNDECIDED = {Outcome.BROKEN, Outcome.SKIPPED, Outcome.NOT_RUN}
# Outcomes that are evidence the engine does not duplicate the service correctly.
AGAINST = {Outcome.FAILED, Outcome.EXPECTED_FAILURE}
# Order used where verdicts are compared ("never lowers"); unknown claims nothing.
RANK = {
    Verdict.UNKNOWN: 0,
    Verdict.UNSUPPORTED: 1,
    Verdict.PARTIAL: 2,
    Verdict.SUPPORTED: 3,
}
# A strict known issue that passed: the check works, matrix.yaml is out of date.
GONE = "known issue no longer reproduces, remove it from matrix.yaml"
NOTE_ORDER = (
    Outcome.PASSED,
    Outcome.FAILED,
    Outcome.EXPECTED_FAILURE,
    Outcome.BROKEN,
    Outcome.SKIPPED,
    Outcome.NOT_RUN,
)


def verdict_for(outcomes: Iterable[Outcome]) -> Verdict:
    """The verdict for a service given its checks' outcomes.

    >>> verdict_for([Outcome.PASSED, Outcome.FAILED])
    <Verdict.PARTIAL: 'partial'>
    >>> verdict_for([Outcome.FAILED, Outcome.BROKEN])
    <Verdict.UNKNOWN: 'unknown'>
    """
    seen = set(outcomes)
    if not seen or seen & UNDECIDED:
        return Verdict.UNKNOWN
    if seen == {Outcome.PASSED}:
        return Verdict.SUPPORTED
    if Outcome.PASSED in seen:
        return Verdict.PARTIAL
    return Verdict.UNSUPPORTED


def service_verdicts(cells: Mapping[CellKey, CellResult]) -> list[ServiceVerdict]:
    """One verdict per (platform, engine, service) present in ``cells``, sorted."""
    grouped: dict[ServiceKey, list[CellResult]] = defaultdict(list)
    for key, cell in cells.items():
        grouped[key.service_key].append(cell)
    return [_service_verdict(key, grouped[key]) for key in sorted(grouped)]


def _service_verdict(key: ServiceKey, checks: list[CellResult]) -> ServiceVerdict:
    # A known issue that no longer reproduces is a check that passed: matrix.yaml,
    # not the engine, is out of date (the run's exit code and the dashboard's top
    # list say so).
    verdict = verdict_for(
        Outcome.PASSED if cell.no_longer_reproduces else cell.outcome for cell in checks
    )
    return ServiceVerdict(
        key=key,
        verdict=verdict,
        note=verdict_note(checks),
        checks={cell.key.check: cell.outcome for cell in checks},
        complete=all(cell.outcome is not Outcome.NOT_RUN for cell in checks),
    )


def verdict_note(checks: list[CellResult]) -> str:
    """Which checks passed and which did not, and why, in one line; first, which
    checks the run did not select, when it left some out.

    Example: ``passed: starts; failed: serves (AssertionError: port 135 in use);
    expected failure: isolated (known issue: Wine has no job objects)``, or
    ``only serves ran (isolated, starts not selected in this run); passed: serves``.
    """
    left_out = sorted(cell.key.check for cell in checks if not cell.selected)
    note = _outcome_note([cell for cell in checks if cell.selected])
    if not left_out:
        return note
    ran = sorted(
        {c.key.check for c in checks if c.selected and c.outcome is not Outcome.NOT_RUN}
    )
    head = f"only {', '.join(ran)} ran" if ran else "no check ran"
    head += f" ({', '.join(left_out)} {NOT_SELECTED})"
    return "; ".join(part for part in (head, note) if part)


def _outcome_note(checks: list[CellResult]) -> str:
    groups: dict[str, list[str]] = defaultdict(list)
    names = Counter(cell.key.check for cell in checks)
    for cell in sorted(checks, key=lambda c: c.key):
        group = GONE if cell.no_longer_reproduces else cell.outcome.label
        groups[group].append(_check_text(cell, names[cell.key.check] > 1))
    order = [GONE, *(o.label for o in NOTE_ORDER)]
    return "; ".join(f"{g}: {', '.join(groups[g])}" for g in order if groups[g])


def _check_text(cell: CellResult, with_parameters: bool) -> str:
    """The check's name (with its parameters when another check shares the name)
    and why it did not pass."""
    key = cell.key
    name = key.check
    if with_parameters and key.parameters:
        name += f" [{key.shown_text or key.parameters_text}]"
    if cell.no_longer_reproduces:
        issue = f"; known issue: {cell.known_issue}" if cell.known_issue else ""
        return f"{name} (passed{issue})"
    if cell.outcome is Outcome.NOT_RUN:  # the note says why; no message does
        return f"{name} ({cell.note})" if cell.note else name
    reasons = []
    if cell.outcome is not Outcome.PASSED and cell.first_line:
        reasons.append(cell.first_line)
    if cell.note:
        reasons.append(cell.note)
    elif cell.known_issue:
        reasons.append(f"known issue: {cell.known_issue}")
    if cell.outcome is Outcome.EXPECTED_FAILURE and reasons[:1] == [cell.first_line]:
        # The XFAIL message repeats the reason; the note says it once, clearly.
        reasons = reasons[1:]
    return f"{name} ({'; '.join(reasons)})" if reasons else name
