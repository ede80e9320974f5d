"""How a cell's evidence reads: names for the harness's own fixtures, and what each
recorded command call answered.

A step that wraps one guest-tool or client call (``harness.probe`` attaches its
``command`` summary and its ``stdout``) is marked passed whenever the call came
back, whatever it answered: a probe that exits 1 with Win32 code 1060 is what an
isolation check expects from a peer container.  So the evidence titles such a
step as a recorded call with its exit code and the code of its answer
(``host: probe scm query HarnessDup → exit 1, code 1060 (OpenServiceW)``); the
check's verdict is the cell's outcome, not this step's status.
"""

from __future__ import annotations

import json
import re

from harness.report.model import Attachment, Step

# The harness's own fixtures (harness/plugin.py), as a reader would say them.
FIXTURE_TITLES = {
    ("set-up", "suite"): "make the suite's containers and duplicate the service",
    ("tear-down", "suite"): "remove the suite's containers",
    ("set-up", "_repair_suite"): "replace containers that died in an earlier check",
}
# Internal fixtures that say nothing when they did nothing: left out of the
# evidence when they passed without a step, an attachment or a message.
QUIET_FIXTURES = {"_repair_suite", "placement"}
EXIT_LINE = re.compile(r"^exit code: (-?\d+)$", re.M)


def fixture_step(step: Step, kind: str) -> Step | None:
    """The fixture as the evidence shows it (``set-up: <title>``), or None for an
    internal fixture of the harness that passed and recorded nothing.

    allure names a fixture's tear-down ``<fixture>::<n>``; the ``::<n>`` goes.
    """
    name = re.sub(r"::\d+$", "", step.name)
    if name in QUIET_FIXTURES and _recorded_nothing(step):
        return None
    step.name = f"{kind}: {FIXTURE_TITLES.get((kind, name), name)}"
    return step


def _recorded_nothing(step: Step) -> bool:
    return step.status == "passed" and not (
        step.steps or step.attachments or step.message
    )


def call_answers(attachments: list[Attachment]) -> list[str]:
    """Per recorded call among a step's attachments (a ``command`` attachment and
    the ``stdout`` after it), ``exit N`` and, when the tool's JSON answer names a
    Win32 error, ``code C (Function)``."""
    answers: list[str] = []
    open_call = False  # the last call has not had its stdout yet
    for item in attachments:
        if item.name == "command" and item.text is not None:
            found = EXIT_LINE.search(item.text)
            answers.append(f"exit {found.group(1)}" if found else "exit not recorded")
            open_call = True
        elif item.name == "stdout" and open_call and item.text is not None:
            code = _error_code(item.text)
            answers[-1] += f", {code}" if code else ""
            open_call = False
    return answers


def _error_code(stdout: str) -> str:
    """``code 1060 (OpenServiceW)`` from a guest tool's JSON answer (its last
    line), or ``""`` when the answer is not JSON or names no error."""
    lines = [line for line in stdout.split("\n") if line.strip()]
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        return ""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        return ""
    call = error.get("call")
    return f"code {error['code']}" + (f" ({call})" if isinstance(call, str) else "")
