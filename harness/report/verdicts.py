"""Verdicts per (platform, engine, service) from the outcomes of its checks.

supported: every check passed.  partial: some passed, the rest failed or are known
issues.  unsupported: none passed and at least one failed or is a known issue.
unknown: anything broken, skipped or not run prevents a claim, so infrastructure
trouble is never published as "unsupported".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from harness.report.model import (
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
    verdict = verdict_for(cell.outcome for cell in checks)
    return ServiceVerdict(
        key=key,
        verdict=verdict,
        note=verdict_note(checks),
        checks={cell.key.check: cell.outcome for cell in checks},
    )


def verdict_note(checks: list[CellResult]) -> str:
    """Which checks passed and which did not, and why, in one line.

    Example: ``passed: starts; failed: serves (AssertionError: port 135 in use);
    expected failure: isolated (known issue: Wine has no job objects)``.
    """
    groups: dict[Outcome, list[str]] = defaultdict(list)
    for cell in sorted(checks, key=lambda c: c.key.check):
        groups[cell.outcome].append(_check_text(cell))
    parts = [f"{o.label}: {', '.join(groups[o])}" for o in NOTE_ORDER if groups[o]]
    return "; ".join(parts)


def _check_text(cell: CellResult) -> str:
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
    return f"{cell.key.check} ({'; '.join(reasons)})" if reasons else cell.key.check
