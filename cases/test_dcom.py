"""DCOM activation of a local server duplicated into a container.

Our COM local server (comsrv.exe) is registered under a fresh CLSID in the
container only (HKCR\\CLSID\\{...}\\LocalServer32).  CoCreateInstance with
CLSCTX_LOCAL_SERVER makes the container's activation service start it; the
object answers with the identity of the container it runs in, so the answer
proves whose server was activated.  The peer does not know the class
(REGDB_E_CLASSNOTREG); once the peer registers it too, each container activates
its own server.  Then the container's activation service is stopped (or crashed,
where it refuses the stop): the peer still activates its own server, the host
still does not know the class, and neither one's RpcSs changed.

On Wine, RpcSs stops at once; the container's next activation starts it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from harness.checks import scm_names, system_service_starts
from harness.instances import end_instance, instances, require_untouched
from harness.probe import error_code, probe

SERVICE = "dcom"
CLASS_NOT_REGISTERED = 0x80040154  # REGDB_E_CLASSNOTREG
TIMEOUT = 60.0  # a cold activation starts a process (about 1 s on Wine)


@pytest.fixture(scope="module")
def clsid(suite) -> Iterator[str]:
    """A fresh CLSID, unregistered from every container at the end."""
    text = "{" + str(uuid.uuid4()) + "}"
    yield text
    for container in (suite.container, suite.peer):
        probe(container, "com", "unregister", text)


def register(container: Any, clsid: str) -> None:
    answer = probe(container, "com", "register", clsid)
    assert answer["ok"], f"cannot register the class in {container.name}: {answer}"


def create(container: Any, clsid: str) -> dict[str, Any]:
    return probe(container, "com", "create", clsid, timeout=TIMEOUT)


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement, clsid):
    register(suite.container, clsid)
    answer = create(suite.container, clsid)
    assert answer["ok"] and answer.get("identity") == suite.container.identity, (
        f"CoCreateInstance did not activate the container's own server: {answer}"
    )


def test_isolated(suite, placement, clsid):
    register(suite.container, clsid)
    for other in (suite.host, suite.peer):
        answer = create(other, clsid)
        assert error_code(answer) == CLASS_NOT_REGISTERED, (
            f"{other.name} activates the class registered in the container: {answer}"
        )
    register(suite.peer, clsid)
    for container in (suite.container, suite.peer):
        answer = create(container, clsid)
        assert answer.get("identity") == container.identity, (
            f"{container.name} did not activate its own server: {answer}"
        )
    names = scm_names(suite.container, suite.service)
    others = [suite.host, suite.peer]
    before = instances(others, names)
    end_instance(suite.container, names)
    peer = create(suite.peer, clsid)
    assert peer.get("identity") == suite.peer.identity, (
        f"ending the container's {'/'.join(names)} disturbed the peer's: {peer}"
    )
    host = create(suite.host, clsid)
    assert error_code(host) == CLASS_NOT_REGISTERED, f"the host changed: {host}"
    require_untouched(before, instances(others, names), "the host's and the peer's")
