"""The Task Scheduler duplicated into a container.

A task registered through the container's Schedule service (ITaskService,
RegisterTask with ASCII XML) is read back with its description, which carries the
container's identity; on Windows the task is also run and its action's output
read.  The peer and the host cannot find the task; the peer registers the same
name and the host a task of its own.  Then the container's Schedule is stopped,
or crashed where it refuses the stop: the peer's and the host's tasks are still
there and their Schedule kept its state and process id.

On Wine, Schedule accepts no control (ControlService stop gives 1052), so
`isolated` crashes it (its process is terminated).

Not checked on Wine: running the task.  Wine's IRegisteredTask::Run returns
E_NOTIMPL and triggers never fire, so there `serves` proves the registration
only; the probe's `task run` shows the code when asked.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from harness.checks import scm_names, system_service_starts
from harness.instances import end_instance, instances, require_untouched
from harness.probe import error_code, probe
from harness.services import SCHEDULE

SERVICE = "schedule"
NAME = SCHEDULE.scm_names[0]
TASK = "HarnessTask"
HOST_TASK = "HarnessHostTask"  # the host's own task, beside the container's
NOT_FOUND = 0x80070002  # HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
RUN_TIMEOUT = 30.0


def states(containers: list[Any]) -> dict[str, str | None]:
    """The Schedule service's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def register(container: Any, name: str = TASK) -> str:
    """Register task `name` with a unique description; returns the description."""
    text = f"harness task {container.identity} {secrets.token_hex(4)}"
    registered = probe(container, "task", "register", name, text)
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
        texts = {suite.peer.name: register(suite.peer), suite.host.name: ""}
        texts[suite.host.name] = register(suite.host, HOST_TASK)
        require_survivors(suite, texts)
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.peer, "task", "delete", TASK)
        probe(suite.host, "task", "delete", HOST_TASK)
        for other in others:
            if before[other.name] == "STOPPED":
                probe(other, "scm", "stop", NAME)


def require_survivors(suite: Any, texts: dict[str, str]) -> None:
    """End the container's Schedule; the peer's and the host's tasks (`texts`, by
    container name) and Schedule instances must be as they were."""
    names = scm_names(suite.container, suite.service)
    others = [suite.peer, suite.host]
    running = instances(others, names)
    end_instance(suite.container, names)
    for other, name in ((suite.peer, TASK), (suite.host, HOST_TASK)):
        task = probe(other, "task", "get", name)
        assert task.get("description") == texts[other.name], (
            f"ending the container's {NAME} disturbed {other.name}'s task: {task}"
        )
    require_untouched(running, instances(others, names), f"the others' {NAME}")
