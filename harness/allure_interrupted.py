"""Labels and a status for the allure result of a cell the run was stopped in.

allure-pytest adds a test's labels in its teardown hook and writes the result when
the test's run protocol ends.  When Ctrl-C (or SIGTERM, which the harness turns
into Ctrl-C) stops the run during a test's set-up or call, its teardown hooks never
run, so the result is written with no label at all and the status its set-up left
(``passed``): the report would skip it as a foreign file.  This allure hook gives
that result the labels its test carries, the status ``skipped``, a message and the
label ``interrupted``, so the report shows the cell as not run in an interrupted
run, with the steps it had done as its evidence.
"""

from __future__ import annotations

from typing import Any

import allure_commons
import pytest
from allure_commons.model2 import Label, Status, StatusDetails
from allure_commons.utils import now
from allure_pytest.utils import allure_labels  # type: ignore[import-untyped]

# The label the report decides on (never on the message's words).
INTERRUPTED_LABEL = "interrupted"


class InterruptedResults:
    """Registered with allure's plugin manager for the whole pytest session."""

    def __init__(self) -> None:
        self.pending: tuple[list[tuple[str, str]], str] | None = None

    def stopped(self, item: pytest.Item, reason: BaseException) -> None:
        """The run stopped while ``item`` was set up or called: the result allure
        writes next is that item's."""
        why = str(reason) or type(reason).__name__
        self.pending = (sorted(allure_labels(item)), why)

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        """Before allure's file writer: label the stopped test's result."""
        if self.pending is None:
            return
        (labels, why), self.pending = self.pending, None
        present = {(label.name, label.value) for label in result.labels}
        result.labels.extend(Label(n, v) for n, v in labels if (n, v) not in present)
        result.labels.append(Label(INTERRUPTED_LABEL, "true"))
        result.status = Status.SKIPPED
        result.statusDetails = StatusDetails(
            message=f"interrupted: the run was stopped ({why}) before this check "
            "had an outcome"
        )
        result.stop = now()
