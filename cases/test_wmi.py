"""WMI duplicated into a container.

The suite duplicates the ordinary service (HarnessDup) into the container too; a
WQL query on Win32_Service there (IWbemLocator, ROOT\\CIMV2, ExecQuery of Name,
State, ProcessId) must list it with the state and process id its SCM reports, and
follow it when it stops.  Then the container's Winmgmt is disabled (so that COM
activation cannot start it again) and stopped, and the same query must fail: only
then did the container's Winmgmt instance serve it.  The peer's and the host's
queries must not list the service.

On Wine, WMI runs in the calling process and reads the container's own SCM: the
query still answers with Winmgmt stopped and disabled, so `serves` fails there
(matrix.yaml declares it).  Not measured on Windows: which code the query fails
with once Winmgmt is disabled; the check asks only that it fails.
"""

from __future__ import annotations

from typing import Any

from harness.checks import system_service_starts
from harness.probe import probe
from harness.services import ORDINARY, WMI

SERVICE = "wmi"
NAME = WMI.scm_names[0]
ORDINARY_NAME = ORDINARY.scm_names[0]
# The peer's own HarnessDup listens on another port: under wine-shared the
# containers share one port space, and WMI isolation is about names, not ports.
PEER_BINPATH = f"C:\\harness\\dupsvc.exe --port {ORDINARY.port + 1}"


def states(containers: list[Any]) -> dict[str, str | None]:
    """Winmgmt's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def ordinary_running(suite: Any) -> dict[str, Any]:
    """Duplicate the ordinary service into the container (once); its SCM status."""
    status = probe(suite.container, "scm", "query", ORDINARY_NAME)
    if status.get("state") != "RUNNING":
        suite.engine.duplicate(suite.container, ORDINARY)
        status = probe(suite.container, "scm", "query", ORDINARY_NAME)
    assert status.get("state") == "RUNNING", f"{ORDINARY_NAME} did not start: {status}"
    return status


def listed(container: Any) -> list[dict[str, Any]]:
    """The rows WMI lists for the ordinary service in `container`."""
    answer = probe(container, "wmi", "services", ORDINARY_NAME)
    assert answer["ok"] and answer.get("count", 0) > 0, (
        f"{container.name}: no Win32_Service answer: {answer}"
    )
    return answer["services"]


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement):
    status = ordinary_running(suite)
    rows = listed(suite.container)
    expected = {"name": ORDINARY_NAME, "state": "Running", "pid": status["pid"]}
    assert rows == [expected], (
        f"WMI does not report {ORDINARY_NAME} as its SCM does ({status}): {rows}"
    )
    probe(suite.container, "scm", "stop", ORDINARY_NAME)
    try:
        rows = listed(suite.container)
        assert [r.get("state") for r in rows] == ["Stopped"], (
            f"WMI does not follow {ORDINARY_NAME} stopping: {rows}"
        )
    finally:
        probe(suite.container, "scm", "start", ORDINARY_NAME)
    answer = query_without_winmgmt(suite.container)
    assert not answer["ok"], (
        f"the query answers with the container's {NAME} stopped and disabled, so "
        f"that instance did not serve it: {answer}"
    )


def query_without_winmgmt(container: Any) -> dict[str, Any]:
    """The query's answer while Winmgmt is disabled and stopped in `container`;
    its start type and state are restored afterwards."""
    disabled = probe(container, "scm", "config", NAME, "--start", "disabled")
    assert disabled["ok"], f"cannot disable {NAME}: {disabled}"
    try:
        stopped = probe(container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        return probe(container, "wmi", "services", ORDINARY_NAME)
    finally:
        probe(container, "scm", "config", NAME, "--start", disabled["previous"])
        probe(container, "scm", "start", NAME)


def test_isolated(suite, placement):
    ordinary_running(suite)
    others = [suite.host, suite.peer]
    for other in others:
        assert listed(other) == [], f"{other.name} lists {ORDINARY_NAME}"
    before = states(others)
    probe(suite.peer, "scm", "create", ORDINARY_NAME, PEER_BINPATH)
    try:
        started = probe(suite.peer, "scm", "start", ORDINARY_NAME)
        assert [r.get("pid") for r in listed(suite.peer)] == [started.get("pid")], (
            f"the peer does not list its own {ORDINARY_NAME}: {started}"
        )
        stopped = probe(suite.container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        after = states(others)
        assert after == before, f"stopping {NAME} in the container changed {after}"
        assert [r.get("state") for r in listed(suite.peer)] == ["Running"], (
            f"the peer's query changed when the container's {NAME} stopped"
        )
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.peer, "scm", "stop", ORDINARY_NAME)
        probe(suite.peer, "scm", "delete", ORDINARY_NAME)
