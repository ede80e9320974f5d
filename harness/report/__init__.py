"""Read allure results, decide outcomes and verdicts, keep history, render reports.

The steps are separate modules: ``reader`` (allure files), ``outcomes`` (one
outcome per cell), ``verdicts`` (per service), ``history`` and ``trends`` (the
SQLite store and what it says), ``html`` and ``outputs`` (what is published),
``build`` (the whole report of one run) and ``commands`` (the CLI functions).
"""

from harness.report.build import build_report
from harness.report.model import CellKey, Outcome, Verdict

__all__ = ["CellKey", "Outcome", "Verdict", "build_report"]
