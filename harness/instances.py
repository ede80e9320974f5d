"""Ending a service's instance in one container, and seeing that others kept theirs.

The `isolated` rule says that stopping *or crashing* the instance in one container
leaves the host and the peer untouched.  A service that refuses the stop control
(Wine's Schedule, RpcSs on Windows) or whose stop hangs (Wine's HTTP driver) is
crashed instead: its process is terminated, as a crash would end it.

    before = instances([suite.host, suite.peer], names)
    end_instance(suite.container, names, images={"HTTP": "http.sys"})
    require_untouched(before, instances([suite.host, suite.peer], names), names)

Not measured on Windows: a crashed RpcSs or DcomLaunch may take the whole
container down with it; the checks then look only at the host and the peer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import allure
import pytest

from harness.probe import error_code, probe

REFUSED = 1052  # ERROR_INVALID_SERVICE_CONTROL: the service does not accept a stop
HUNG = 1053  # ERROR_SERVICE_REQUEST_TIMEOUT: the stop did not finish in time
Instances = dict[str, dict[str, tuple[Any, Any]]]


def instances(containers: Sequence[Any], names: Sequence[str]) -> Instances:
    """(state, pid) of each SCM name in each container, by container name."""
    return {
        c.name: {n: _state_and_pid(probe(c, "scm", "query", n)) for n in names}
        for c in containers
    }


def _state_and_pid(answer: dict[str, Any]) -> tuple[Any, Any]:
    return answer.get("state"), answer.get("pid")


def end_instance(
    container: Any, names: Sequence[str], *, images: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Stop each of `names` in `container`, dependents first (the reverse of their
    start order); one whose stop is refused (1052) or hangs (1053) is crashed.
    `images` names the image of a driver, which has no process id of its own
    (HTTP: http.sys).  Returns how each one ended: stopped, crashed or "not
    running"; fails the check when one can be neither stopped nor crashed."""
    ended = {}
    for name in reversed(names):
        with allure.step(f"end {name} in {container.name}"):
            ended[name] = _end_one(container, name, (images or {}).get(name))
    return ended


def _end_one(container: Any, name: str, image: str | None) -> str:
    status = probe(container, "scm", "query", name)
    if status.get("state") == "STOPPED":
        return "not running"
    stopped = probe(container, "scm", "stop", name)
    if stopped.get("state") == "STOPPED":
        return "stopped"
    if error_code(stopped) not in (REFUSED, HUNG):
        pytest.fail(f"{name} in {container.name} does not stop: {stopped}")
    for pid in _hosts(container, name, status, image):
        killed = probe(container, "proc", "stop", str(pid))
        assert killed["ok"], (
            f"{name} in {container.name} refuses to stop ({stopped}) and its "
            f"process {pid} cannot be ended: {killed}"
        )
    return "crashed"


def _hosts(
    container: Any, name: str, status: dict[str, Any], image: str | None
) -> list[int]:
    """The process ids that run `name`: its own, or those that loaded `image`."""
    if status.get("pid"):
        return [status["pid"]]
    found = probe(container, "proc", "list", "--module", image) if image else {}
    pids = [p["pid"] for p in found.get("processes", [])]
    assert pids, (
        f"{name} in {container.name} refuses to stop and no process runs it "
        f"(image {image}): {found or status}"
    )
    return pids


def require_untouched(before: Instances, after: Instances, what: str) -> None:
    """Fail unless every container's instances kept their state and process id."""
    changed = {
        where: {n: (was, after[where][n]) for n, was in states.items()}
        for where, states in before.items()
        if after[where] != states
    }
    assert not changed, f"{what} changed (before, after): {changed}"
