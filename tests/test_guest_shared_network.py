"""Two Wine prefixes in one network namespace, and Wine's HTTP driver stopping.

These pin what the wine-shared engine's declared known issues and the `iis`
suite's crash rest on, with two scratch prefixes in this test's own network
namespace (as wine-shared runs its containers):

- HttpAddUrl of a URL that the other prefix's HTTP.sys serves fails with 32;
- an RPC server registers a fixed TCP endpoint that the other prefix's server
  holds without any error, and that port keeps answering for the first one;
- `scm stop HTTP` hangs in STOP_PENDING (1053 after Wine's 10 s pipe timeout);
  ending the winedevice.exe that has http.sys loaded ends that prefix's HTTP
  instance, and the other prefix's listener keeps answering.
"""

from __future__ import annotations

import errno
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import netclient
from tests import guestenv
from tests.guestenv import Prefix
from tests.test_guest_services_net import HTTPSRV, RPCSRV, SERVERS, free_port, start

pytestmark = pytest.mark.wine

SHARING_VIOLATION = 32
SERVICE_REQUEST_TIMEOUT = 1053


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[guestenv.Agent]]:
    """Agents of two prefixes, "first" and "second", booted side by side."""
    build = guestenv.build()
    root = tmp_path_factory.mktemp("shared")
    with ThreadPoolExecutor(2) as pool:
        booted = list(pool.map(lambda n: Prefix.boot(root / n, n), ["first", "second"]))
    for prefix in booted:
        for tool in SERVERS:
            shutil.copy2(build / tool, prefix.harness / tool)
    yield [prefix.agent() for prefix in booted]
    for prefix in booted:
        prefix.close()


def identity(url: str) -> str | None:
    answer = netclient.http(url)
    return json.loads(answer["body"])["identity"] if answer["ok"] else None


def test_http_url_of_the_other_prefix_is_a_sharing_violation(agents) -> None:
    first, second = agents
    port = free_port()
    url = f"http://+:{port}/dup/"
    pid = start(first, HTTPSRV, url)
    try:
        code, taken = second.call("proc", "start", HTTPSRV, url)
        served_by = identity(f"http://127.0.0.1:{port}/dup/")
    finally:
        first.call("proc", "stop", str(pid))

    assert (code, taken["error"]) == (
        1,
        {"call": "HttpAddUrl", "code": SHARING_VIOLATION},
    ), taken
    assert served_by == "first"


def test_rpc_fixed_endpoint_of_the_other_prefix_answers_for_the_first(agents) -> None:
    first, second = agents
    fresh, port = str(uuid.uuid4()), str(free_port())
    pids = [start(agent, RPCSRV, fresh, "--tcp", port) for agent in agents]
    try:
        answer = netclient.rpc("127.0.0.1", fresh, int(port))
        own = second.call("rpc", "call", fresh)[1]  # through its own mapper
    finally:
        for agent, pid in zip(agents, pids, strict=True):
            agent.call("proc", "stop", str(pid))

    assert (answer["identity"], answer["pid"]) == ("first", pids[0]), answer
    assert own["identity"] == "second"


def test_http_stop_hangs_and_ending_its_winedevice_ends_the_instance(agents) -> None:
    first, second = agents
    ports = free_port(), free_port()
    kept = start(first, HTTPSRV, f"http://+:{ports[0]}/dup/")
    start(second, HTTPSRV, f"http://+:{ports[1]}/dup/")

    began = time.monotonic()
    code, stop = second.call("scm", "stop", "HTTP", "--wait", "2", timeout=60)
    took = time.monotonic() - began
    hosts = second.call("proc", "list", "--module", "http.sys")[1]["processes"]
    ended = [second.call("proc", "stop", str(p["pid"]))[1]["ok"] for p in hosts]
    gone = netclient.http(f"http://127.0.0.1:{ports[1]}/dup/")
    survivor = identity(f"http://127.0.0.1:{ports[0]}/dup/")
    first.call("proc", "stop", str(kept))

    assert (code, stop["state"], stop["error"]["code"]) == (
        1,
        "STOP_PENDING",
        SERVICE_REQUEST_TIMEOUT,
    ), stop
    assert stop["error"]["call"] == "ControlService" and took >= 9
    assert [p["name"] for p in hosts] == ["winedevice.exe"] and ended == [True]
    assert gone.get("errno") == errno.ECONNREFUSED, gone
    assert survivor == "first"
