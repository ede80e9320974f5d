"""IIS core duplicated into a container: HTTP.sys URL registration and serving.

Our HTTP Server API server (httpsrv.exe) registers http://+:PORT/dup/ in the
container (HttpInitialize, HttpCreateHttpHandle, HttpAddUrl) and answers every
request with the container's identity, so an HTTP GET from the client machine to
the container's address proves whose HTTP.sys instance served it.  Before the
peer and the host register the URL themselves, a GET to their addresses must not
reach the container's server (refused, or 404 from their own HTTP.sys).  The same
URL registered in the peer works only when the engine isolates the network: in one
shared namespace the peer's address is the container's, and its HttpAddUrl fails
(matrix.yaml declares that for wine-shared).  Then the container's HTTP instance
is stopped, or crashed where its stop is refused or hangs: the container's URL
goes dark, and the peer's and the host's listeners and HTTP services stay as they
were.

On Wine, `scm stop HTTP` hangs in STOP_PENDING (ControlService gives 1053 after
Wine's 10 s pipe timeout), so the check crashes the instance: it ends the
winedevice.exe process that has http.sys loaded.

Not supported yet: on Windows this module checks HTTP.sys through httpsrv.exe as
on Wine, not an IIS site (W3SVC, WAS) in the container; `starts` does require the
IIS services there.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.checks import scm_names, system_service_starts
from harness.instances import end_instance, instances, require_untouched
from harness.netclient import ask
from harness.probe import probe
from harness.services import IIS

SERVICE = "iis"
SERVER = "C:\\harness\\httpsrv.exe"
PORT = IIS.port
URL = f"http://+:{PORT}/dup/"
# The driver's image, for finding the process that runs it (Wine: a winedevice.exe).
IMAGES = {"HTTP": "http.sys"}
NOT_FOUND = 404  # HTTP.sys answers this for a URL nobody registered


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
    for other in (suite.peer, suite.host):
        answer = get(suite, other)
        assert answer.get("errno") == errno.ECONNREFUSED or (
            answer.get("status") == NOT_FOUND
        ), f"{other.address} serves {URL} before {other.name} registers it: {answer}"
    for other in (suite.peer, suite.host):  # the same URL and port
        listen(listeners, other)
    for container in (suite.container, suite.peer, suite.host):
        answer = get(suite, container)
        assert answer.get("identity") == container.identity, (
            f"{container.address} is not served by {container.name}: {answer}"
        )
    names = scm_names(suite.container, suite.service)
    others = [suite.peer, suite.host]
    before = instances(others, names)
    end_instance(suite.container, names, images=IMAGES)
    gone = get(suite, suite.container)
    assert not gone["ok"], f"the container's URL still answers: {gone}"
    for other in others:
        answer = get(suite, other)
        assert answer.get("identity") == other.identity, (
            f"ending the container's {'/'.join(names)} disturbed {other.name}'s "
            f"listener: {answer}"
        )
    require_untouched(before, instances(others, names), "the peer's and the host's")
