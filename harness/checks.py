"""Expectations shared by the case modules, with messages that say what went wrong.

A hung service is its own reason ("hung in START_PENDING"), not a generic mismatch:

    answer = probe(container, "scm", "start", "HarnessDup")
    require_running(answer, "HarnessDup")
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.transports import CommandResult


def require_running(answer: dict[str, Any], name: str) -> None:
    """Fail the check unless the SCM answer says RUNNING with a process id."""
    hung = answer.get("hung")
    if hung:
        pytest.fail(
            f"{name} hung in {hung} (wait hint {answer.get('wait_hint')} ms, "
            f"checkpoint {answer.get('checkpoint')})",
            pytrace=False,
        )
    state = answer.get("state")
    if state != "RUNNING":
        code = answer.get("win32_exit_code") or (answer.get("error") or {}).get("code")
        pytest.fail(
            f"{name} is {state or 'not there'} (code {code}): {answer}", pytrace=False
        )
    if not answer.get("pid"):
        pytest.fail(f"{name} is RUNNING without a process id: {answer}", pytrace=False)


def hung_in(results: list[CommandResult]) -> str | None:
    """The pending state a duplicate() step hung in, if any."""
    for result in results:
        try:
            answer = json.loads(result.stdout)
        except ValueError:
            continue
        if isinstance(answer, dict) and answer.get("hung"):
            return str(answer["hung"])
    return None
