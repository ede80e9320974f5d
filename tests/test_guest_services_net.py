"""The guest tools of the rpcss, dcom and iis suites on a real Wine prefix.

`proc`, `rpc` and `com` (probe subcommands), the servers rpcsrv.exe, comsrv.exe
and httpsrv.exe, and the client machine's netclient (`rpc` through impacket,
`http`).  One scratch prefix serves the module; every test uses its own UUIDs,
CLSIDs and ports, so the order of the tests does not matter.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator

import pytest

from harness import netclient
from tests import guestenv
from tests.guestenv import Prefix

IDENTITY = "guest-services-net-test"
SERVERS = ("rpcsrv.exe", "comsrv.exe", "httpsrv.exe")
RPCSRV, HTTPSRV = "C:\\harness\\rpcsrv.exe", "C:\\harness\\httpsrv.exe"
NOT_REGISTERED = 1753  # EPT_S_NOT_REGISTERED
SERVER_UNAVAILABLE = 1722  # RPC_S_SERVER_UNAVAILABLE
ALREADY_EXISTS = 183  # HttpAddUrl of a URL this prefix's HTTP.sys already holds
CLASS_NOT_REGISTERED = 0x80040154  # REGDB_E_CLASSNOTREG


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefix]:
    build = guestenv.build()
    booted = Prefix.boot(tmp_path_factory.mktemp("wine") / "prefix", IDENTITY)
    for tool in SERVERS:
        shutil.copy2(build / tool, booted.harness / tool)
    yield booted
    booted.close()


@pytest.fixture(scope="module")
def agent(prefix: Prefix) -> guestenv.Agent:
    return prefix.agent()


def free_port() -> int:
    """A TCP port nobody listens on now (Wine sockets live in this namespace)."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def start(agent: guestenv.Agent, *argv: str) -> int:
    """`proc start` that must succeed; the server's pid."""
    code, answer = agent.call("proc", "start", *argv)
    assert (code, answer["ok"], answer["running"]) == (0, True, True), answer
    assert answer["ready"]["ok"] is True and answer["ready"]["pid"] == answer["pid"]
    return int(answer["pid"])


def pids(agent: guestenv.Agent) -> set[int]:
    code, answer = agent.call("proc", "list")
    assert code == 0, answer
    return {p["pid"] for p in answer["processes"]}


# --- proc --------------------------------------------------------------------


def test_proc_start_list_stop_a_program_without_ready_line(agent) -> None:
    code, started = agent.call(
        "proc", "start", "--wait", "0.5", guestenv.AGENT, "--forever"
    )
    assert (code, started["running"]) == (0, True), started
    assert started["ready"] == {"ready": True, "pid": started["pid"]}
    assert started["pid"] in pids(agent)

    code, stopped = agent.call("proc", "stop", str(started["pid"]))

    assert (code, stopped["ok"]) == (0, True), stopped
    assert started["pid"] not in pids(agent)


def test_proc_stop_ask_without_a_stop_event_is_2_and_kills_nothing(agent) -> None:
    code, started = agent.call(
        "proc", "start", "--wait", "0.5", guestenv.AGENT, "--forever"
    )
    pid = str(started["pid"])
    code, asked = agent.call("proc", "stop", pid, "--ask", "1")
    alive = started["pid"] in pids(agent)
    agent.call("proc", "stop", pid)

    assert (code, asked["error"]) == (1, {"call": "OpenEventW", "code": 2}), asked
    assert alive


def test_proc_list_module_finds_the_process_that_loaded_it(agent) -> None:
    code, mine = agent.call("proc", "list", "--module", "AGENT.EXE")
    code2, none = agent.call("proc", "list", "--module", "no-such-module.dll")

    assert code == code2 == 0
    assert {p["name"].lower() for p in mine["processes"]} == {"agent.exe"}
    assert none["processes"] == []


def test_proc_start_reports_missing_program_and_server_errors(agent) -> None:
    code, missing = agent.call("proc", "start", "C:\\harness\\missing.exe")
    code2, usage = agent.call("proc", "start", HTTPSRV)  # no URL: its usage error

    assert (code, missing["error"]) == (1, {"call": "CreateProcessW", "code": 2})
    assert (code2, usage["error"]["code"], usage["running"]) == (1, 87, False)
    assert usage["ready"]["command"] == "httpsrv"


def test_proc_usage_errors(agent) -> None:
    for argv in (
        ("proc", "start"),
        ("proc", "stop", "x"),
        ("proc", "stop", "1", "--ask", "soon"),
        ("proc", "list", "1"),
        ("proc", "list", "--module"),
    ):
        code, answer = agent.call(*argv)
        assert (code, answer["error"]["call"]) == (2, "usage"), answer


# --- rpc ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def rpc_server(agent) -> Iterator[tuple[str, int, int]]:
    """(uuid, tcp port, pid) of an rpcsrv registered in the prefix's mapper."""
    fresh, port = str(uuid.uuid4()), free_port()
    pid = start(agent, RPCSRV, fresh, "--tcp", str(port), "--lrpc", "test-rpcsrv")
    yield fresh, port, pid
    agent.call("proc", "stop", str(pid))


def test_rpc_resolves_and_calls_through_the_local_mapper(agent, rpc_server) -> None:
    fresh, _, pid = rpc_server
    code, resolved = agent.call("rpc", "resolve", fresh)
    code2, called = agent.call("rpc", "call", fresh)

    assert (code, resolved["binding"]) == (0, "ncalrpc:[test-rpcsrv]"), resolved
    assert (code2, called["identity"], called["pid"]) == (0, IDENTITY, pid), called


def test_rpc_unknown_uuid_is_not_registered(agent) -> None:
    code, answer = agent.call("rpc", "resolve", str(uuid.uuid4()))
    assert (code, answer["error"]["code"]) == (1, NOT_REGISTERED), answer


def test_rpc_call_over_tcp_with_explicit_endpoint(agent, rpc_server) -> None:
    fresh, port, _ = rpc_server
    code, answer = agent.call(
        "rpc", "call", fresh, "--protseq", "ncacn_ip_tcp", "--host", "127.0.0.1",
        "--endpoint", str(port),
    )  # fmt: skip
    assert (code, answer["identity"]) == (0, IDENTITY), answer


def test_rpc_call_to_nobody_is_a_code_not_a_crash(agent) -> None:
    code, answer = agent.call(
        "rpc", "call", str(uuid.uuid4()), "--protseq", "ncacn_ip_tcp",
        "--host", "127.0.0.1", "--endpoint", str(free_port()),
    )  # fmt: skip
    assert (code, answer["error"]) == (1, {"call": "DupIdentity", "code": 1722})
    assert agent.call("rpc", "resolve", str(uuid.uuid4()))[0] == 1  # still alive


def test_rpc_mapper_keeps_the_entry_of_a_terminated_server_on_wine(agent) -> None:
    """A stale entry: the UUID still resolves to the dead server's endpoint."""
    fresh = str(uuid.uuid4())
    pid = start(agent, RPCSRV, fresh)
    agent.call("proc", "stop", str(pid))

    code, resolved = agent.call("rpc", "resolve", fresh)
    code2, called = agent.call("rpc", "call", fresh)

    assert code == 0 and resolved["binding"].startswith("ncalrpc:"), resolved
    assert (code2, called["error"]) == (
        1,
        {"call": "DupIdentity", "code": SERVER_UNAVAILABLE},
    )


def test_rpcsrv_unregisters_when_asked_but_wine_keeps_the_entry(agent) -> None:
    """rpcsrv ends by itself on its stop event with RpcEpUnregister's status (0);
    Wine 8's RPCSS receives that request as an insert (its +ole trace shows
    ept_insert), so the entry stays as after a kill."""
    fresh = str(uuid.uuid4())
    pid = start(agent, RPCSRV, fresh)

    code, stopped = agent.call("proc", "stop", str(pid), "--ask", "10")
    code2, resolved = agent.call("rpc", "resolve", fresh)
    code3, called = agent.call("rpc", "call", fresh)

    assert code == 0 and (stopped["how"], stopped["exit_code"]) == ("asked", 0)
    assert pid not in pids(agent)
    assert code2 == 0, resolved
    assert (code3, called["error"]["code"]) == (1, SERVER_UNAVAILABLE), called


def test_netclient_rpc_calls_the_server_with_impacket(rpc_server) -> None:
    fresh, port, pid = rpc_server
    answer = netclient.rpc("127.0.0.1", fresh, port)
    assert answer == {"ok": True, "port": port, "identity": IDENTITY, "pid": pid}


def test_netclient_rpc_without_a_mapper_on_135_is_refused(rpc_server) -> None:
    answer = netclient.rpc("127.0.0.1", rpc_server[0])  # Wine: nothing on TCP 135
    assert (answer["ok"], answer["stage"], answer["errno"]) == (False, "map", 111)


# --- com ---------------------------------------------------------------------


def test_com_register_create_unregister(agent) -> None:
    clsid = "{" + str(uuid.uuid4()) + "}"
    before = agent.call("com", "create", clsid, timeout=60)
    registered = agent.call("com", "register", clsid)
    created = agent.call("com", "create", clsid, timeout=60)
    unregistered = agent.call("com", "unregister", clsid)
    after = agent.call("com", "create", clsid, timeout=60)

    assert before[1]["error"] == {"call": "CoCreateInstance", "code": 0x80040154}
    assert registered[0] == 0 and registered[1]["command_line"].endswith(clsid)
    assert (created[0], created[1]["identity"]) == (0, IDENTITY), created
    assert created[1]["pid"] > 0
    assert unregistered[0] == 0, unregistered
    assert after[1]["error"]["code"] == CLASS_NOT_REGISTERED


def test_com_rejects_a_malformed_clsid(agent) -> None:
    code, answer = agent.call("com", "create", "not-a-clsid")
    assert (code, answer["error"]["call"]) == (2, "usage"), answer


# --- http --------------------------------------------------------------------


def test_httpsrv_serves_identity_and_refuses_a_taken_url(agent) -> None:
    port = free_port()
    url = f"http://+:{port}/dup/"
    pid = start(agent, HTTPSRV, url)
    try:
        answer = netclient.http(f"http://127.0.0.1:{port}/dup/")
        code, again = agent.call("proc", "start", HTTPSRV, url)
    finally:
        agent.call("proc", "stop", str(pid))
    refused = netclient.http(f"http://127.0.0.1:{port}/dup/")

    assert (answer["ok"], answer["status"]) == (True, 200), answer
    assert netclient.json.loads(answer["body"])["identity"] == IDENTITY
    assert (code, again["error"]) == (
        1,
        {"call": "HttpAddUrl", "code": ALREADY_EXISTS},
    ), again
    assert (refused["ok"], refused["errno"]) == (False, 111), refused


def test_netclient_usage() -> None:
    assert netclient.main(["rpc", "127.0.0.1"]) == 2
    assert netclient.main(["http"]) == 2
