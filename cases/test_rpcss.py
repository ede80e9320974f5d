"""The RPC endpoint mapper (RPCSS) duplicated into a container.

Our RPC server (rpcsrv.exe, interface guest/probe/dupif.idl) registers its
endpoints in the container's endpoint mapper under a fresh interface UUID.  A
client that resolves that UUID through the mapper and calls the server gets the
container's identity back: locally over ncalrpc (the probe, Windows' or Wine's RPC
runtime), and from the client machine over TCP through port 135, both with the
probe in the client machine's own prefix (the platform's RPC runtime across the
lab network) and with impacket (an independent client).  Only the container's
mapper knows the UUID, so the host and the peer answer EPT_S_NOT_REGISTERED.  The
peer's own server with the same UUID, endpoint name and port answers for the
peer; then the container's RPCSS is stopped (or crashed, where it refuses the
stop), and the peer's mapper and server, and the host's mapper, carry on with
their RpcSs untouched.  Wine's RPCSS does not listen on TCP 135: matrix.yaml
declares that gap for `serves`.

On Wine, a stopped RPCSS starts again at the next mapper call, empty: the
container's registration is gone, the peer's is not.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from harness.checks import scm_names, system_service_starts
from harness.instances import end_instance, instances, require_untouched
from harness.netclient import ask
from harness.probe import error_code, probe

SERVICE = "rpcss"
SERVER = "C:\\harness\\rpcsrv.exe"
TCP_PORT = 8136  # rpcsrv's fixed TCP endpoint: the same in every container
LRPC_NAME = "harness-rpcsrv"  # its fixed ncalrpc endpoint name, likewise
NOT_REGISTERED = 1753  # EPT_S_NOT_REGISTERED


class Servers:
    """rpcsrv.exe processes started by this module, one per container at most."""

    def __init__(self) -> None:
        self.uuid = str(uuid.uuid4())
        self.pids: dict[str, tuple[Any, int]] = {}

    def start(self, container: Any) -> dict[str, Any]:
        """Start rpcsrv in `container` (once); its registration must succeed."""
        if container.name in self.pids:
            return {"ok": True, "pid": self.pids[container.name][1]}
        argv = (SERVER, self.uuid, "--tcp", str(TCP_PORT), "--lrpc", LRPC_NAME)
        started = probe(container, "proc", "start", *argv)
        assert started["ok"] and started.get("running"), (
            f"rpcsrv could not register in {container.name}'s mapper: {started}"
        )
        self.pids[container.name] = (container, started["pid"])
        return started

    def stop(self, container: Any) -> dict[str, Any]:
        """Ask the server to unregister and end (see guest/tools/rpcsrv.c)."""
        _, pid = self.pids.pop(container.name)
        return probe(container, "proc", "stop", str(pid), "--ask", "5")

    def stop_all(self) -> None:
        for container, _ in list(self.pids.values()):
            self.stop(container)


@pytest.fixture(scope="module")
def servers(suite):
    started = Servers()
    yield started
    started.stop_all()


def call(container: Any, uuid_text: str) -> dict[str, Any]:
    """Resolve through `container`'s own mapper (ncalrpc) and call the server."""
    return probe(container, "rpc", "call", uuid_text)


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement, servers):
    started = servers.start(suite.container)
    local = call(suite.container, servers.uuid)
    assert local["ok"] and local.get("identity") == suite.container.identity, (
        f"resolving and calling over ncalrpc did not reach the container's server "
        f"(pid {started['pid']}): {local}"
    )
    address = suite.container.address
    tcp = "--protseq", "ncacn_ip_tcp", "--host", address
    answers = {
        "the client machine's probe": probe(
            suite.client, "rpc", "call", servers.uuid, *tcp
        ),
        "impacket on the client machine": ask(
            suite.client, "rpc", address, servers.uuid
        ),
    }
    wrong = [
        f"{who}: {answer}"
        for who, answer in answers.items()
        if not answer["ok"] or answer.get("identity") != suite.container.identity
    ]
    assert not wrong, (
        f"through the mapper at {address}:135, these clients did not reach the "
        f"container's server: {wrong}"
    )


def test_isolated(suite, placement, servers):
    servers.start(suite.container)
    for other in (suite.host, suite.peer):
        answer = probe(other, "rpc", "resolve", servers.uuid)
        assert error_code(answer) == NOT_REGISTERED, (
            f"{other.name} resolves the container's registration: {answer}"
        )
    servers.start(suite.peer)  # the same UUID, endpoint name and port
    for container in (suite.container, suite.peer):
        answer = call(container, servers.uuid)
        assert answer.get("identity") == container.identity, (
            f"{container.name}'s mapper led to another server: {answer}"
        )
    require_peer_endpoint(suite, servers)
    names = scm_names(suite.container, suite.service)
    others = [suite.host, suite.peer]
    before = instances(others, names)
    end_instance(suite.container, names)
    peer = call(suite.peer, servers.uuid)
    assert peer.get("identity") == suite.peer.identity, (
        f"ending the container's {'/'.join(names)} disturbed the peer's: {peer}"
    )
    require_peer_endpoint(suite, servers)
    host = probe(suite.host, "rpc", "resolve", servers.uuid)
    assert error_code(host) == NOT_REGISTERED, f"the host changed: {host}"
    require_untouched(before, instances(others, names), "the host's and the peer's")


def require_peer_endpoint(suite: Any, servers: Servers) -> None:
    """The peer's fixed TCP endpoint answers, from the client machine, for the peer."""
    remote = ask(suite.client, "rpc", suite.peer.address, servers.uuid, str(TCP_PORT))
    assert remote.get("identity") == suite.peer.identity, (
        f"{suite.peer.address}:{TCP_PORT} is not the peer's own server: {remote}"
    )
