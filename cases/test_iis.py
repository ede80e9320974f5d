"""IIS core duplicated into a container: HTTP.sys URL registration and serving.

Our HTTP Server API server (httpsrv.exe) registers http://+:PORT/dup/ in the
container (HttpInitialize, HttpCreateHttpHandle, HttpAddUrl) and answers every
request with the container's identity, so an HTTP GET from the client machine to
the container's address proves whose HTTP.sys instance served it.  The same URL
registered in the peer works only when the engine isolates the network: in one
shared namespace the peer's HttpAddUrl fails (matrix.yaml declares that for
wine-shared).  The host's own listener on the same URL stays untouched.

Not supported yet: on Windows this module checks HTTP.sys through httpsrv.exe as
on Wine, not an IIS site (W3SVC, WAS) in the container; `starts` does require the
IIS services there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.checks import system_service_starts
from harness.netclient import ask
from harness.probe import probe
from harness.services import IIS

SERVICE = "iis"
SERVER = "C:\\harness\\httpsrv.exe"
PORT = IIS.port
URL = f"http://+:{PORT}/dup/"


class Listeners:
    """httpsrv.exe processes started by this module, one per container at most."""

    def __init__(self) -> None:
        self.pids: dict[str, tuple[Any, int]] = {}

    def start(self, container: Any) -> dict[str, Any]:
        """Start httpsrv on URL in `container` (once); its answer, ok or not."""
        if container.name in self.pids:
            return {"ok": True, "pid": self.pids[container.name][1]}
        started = probe(container, "proc", "start", SERVER, URL)
        if started["ok"]:
            self.pids[container.name] = (container, started["pid"])
        return started

    def stop(self, container: Any) -> dict[str, Any]:
        _, pid = self.pids.pop(container.name)
        return probe(container, "proc", "stop", str(pid))

    def stop_all(self) -> None:
        for container, _ in list(self.pids.values()):
            self.stop(container)


@pytest.fixture(scope="module")
def listeners(suite) -> Iterator[Listeners]:
    started = Listeners()
    yield started
    started.stop_all()


def listen(listeners: Listeners, container: Any) -> None:
    started = listeners.start(container)
    assert started["ok"], f"{container.name} cannot register {URL}: {started}"


def get(suite: Any, container: Any) -> dict[str, Any]:
    """GET the URL at `container`'s address from the client machine."""
    url = f"http://{container.address}:{PORT}/dup/"
    answer = ask(suite.client, "http", url)
    if answer["ok"]:
        answer["identity"] = json.loads(answer["body"]).get("identity")
    return answer


def test_starts(suite, placement):
    system_service_starts(suite, need_pid=False)


def test_serves(suite, placement, listeners):
    listen(listeners, suite.container)
    answer = get(suite, suite.container)
    assert answer["ok"] and answer["identity"] == suite.container.identity, (
        f"the GET was not served by the container's HTTP.sys instance: {answer}"
    )


def test_isolated(suite, placement, listeners):
    listen(listeners, suite.container)
    for other in (suite.peer, suite.host):  # the same URL and port
        listen(listeners, other)
    for container in (suite.container, suite.peer, suite.host):
        answer = get(suite, container)
        assert answer.get("identity") == container.identity, (
            f"{container.address} is not served by {container.name}: {answer}"
        )
    stopped = listeners.stop(suite.container)
    assert stopped["ok"], f"could not stop the container's listener: {stopped}"
    assert not get(suite, suite.container)["ok"], "the stopped listener still answers"
    for other in (suite.peer, suite.host):
        answer = get(suite, other)
        assert answer.get("identity") == other.identity, (
            f"stopping the container's listener disturbed {other.name}'s: {answer}"
        )
