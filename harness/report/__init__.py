"""Read allure results, decide outcomes and verdicts, keep history, render reports.

The steps are separate modules: ``reader`` (allure files), ``outcomes`` (one
outcome per cell), ``verdicts`` (per service), ``history`` and ``trends`` (the
SQLite store and what it says), ``html`` and ``outputs`` (what is published),
``build`` (the whole report of one run) and ``commands`` (the CLI functions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.report.model import CellKey, Outcome, Verdict

if TYPE_CHECKING:
    from harness.report.build import build_report

__all__ = ["CellKey", "Outcome", "Verdict", "build_report"]


def __getattr__(name: str) -> Any:
    """``build_report`` is imported on first use, so that the package's
    standard-library modules (``allure_npm``, which scripts/need-npm-allure runs
    with any python3) load without Jinja2 and the report's other dependencies."""
    if name == "build_report":
        from harness.report.build import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
