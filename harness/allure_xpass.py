"""A message for the allure result of a strict known issue that passed.

pytest turns a strict xfail that passed into a failed report whose longrepr is
``[XPASS(strict)] <reason>``, but allure-pytest builds a result's statusDetails
only from an exception, so such a result is stored as failed with no message and
Allure's "Known issues that no longer reproduce" category cannot match it.  This
allure hook fills the message in just before the result is written.
"""

from __future__ import annotations

from typing import Any

import allure_commons
from allure_commons.model2 import StatusDetails

XPASS_STRICT = "[XPASS(strict)]"


def xpass_message(longrepr: object) -> str | None:
    """``[XPASS(strict)] <reason>`` on one line, or None for any other report.

    One line, because Allure 2 matches a category's regex against the whole
    message and ``.*`` stops at a newline.
    """
    text = str(longrepr or "")
    return " ".join(text.split()) if text.startswith(XPASS_STRICT) else None


class StrictXpassMessages:
    """Registered with allure's plugin manager for the whole pytest session."""

    def __init__(self) -> None:
        self.pending: str | None = None

    def saw(self, message: str | None) -> None:
        """The test now running passed a strict known issue (or not: None)."""
        self.pending = message

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        """Before allure's file writer: the result of that test gets the message."""
        message, self.pending = self.pending, None
        if message and result.status == "failed" and result.statusDetails is None:
            result.statusDetails = StatusDetails(message=message)
