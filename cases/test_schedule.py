"""The Task Scheduler duplicated into a container.

A task registered through the container's Schedule service (ITaskService,
RegisterTask with ASCII XML) is read back with its description, which carries the
container's identity; on Windows the task is also run and its action's output
read.  The peer and the host cannot find the task.

Not checked on Wine: running the task.  Wine's IRegisteredTask::Run returns
E_NOTIMPL and triggers never fire, so there `serves` proves the registration
only; the probe's `task run` shows the code when asked.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from harness.checks import system_service_starts
from harness.probe import error_code, probe
from harness.services import SCHEDULE

SERVICE = "schedule"
NAME = SCHEDULE.scm_names[0]
TASK = "HarnessTask"
NOT_FOUND = 0x80070002  # HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
RUN_TIMEOUT = 30.0


def states(containers: list[Any]) -> dict[str, str | None]:
    """The Schedule service's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def register(container: Any) -> str:
    """Register TASK with a unique description; returns the description."""
    text = f"harness task {container.identity} {secrets.token_hex(4)}"
    registered = probe(container, "task", "register", TASK, text)
    assert registered["ok"], f"{container.name} cannot register a task: {registered}"
    return text


def is_windows(container: Any) -> bool:
    return probe(container, "info").get("wine") is None


def wait_for_output(container: Any, text: str) -> dict[str, Any]:
    """Poll what the task's action wrote until it is `text` or time runs out."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        output = probe(container, "task", "output", TASK)
        if output.get("output") == text or time.monotonic() > deadline:
            return output
        time.sleep(1)


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement):
    text = register(suite.container)
    task = probe(suite.container, "task", "get", TASK)
    assert task.get("description") == text, f"the task read back differs: {task}"
    if is_windows(suite.container):
        ran = probe(suite.container, "task", "run", TASK)
        assert ran["ok"], f"the task does not run: {ran}"
        output = wait_for_output(suite.container, text)
        assert output.get("output") == text, f"the task did not run: {output}"


def test_isolated(suite, placement):
    register(suite.container)
    others = [suite.host, suite.peer]
    before = states(others)
    try:
        for other in others:
            answer = probe(other, "task", "get", TASK)
            assert error_code(answer) == NOT_FOUND, (
                f"{other.name} finds the task of {suite.container.name}: {answer}"
            )
        peer_text = register(suite.peer)
        running = states(others)
        stopped = probe(suite.container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        after = states(others)
        assert after == running, f"stopping {NAME} in the container changed {after}"
        peer = probe(suite.peer, "task", "get", TASK)
        assert peer.get("description") == peer_text, (
            f"the same task name does not work in the peer: {peer}"
        )
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.peer, "task", "delete", TASK)
        for other in others:
            if before[other.name] == "STOPPED":
                probe(other, "scm", "stop", NAME)
