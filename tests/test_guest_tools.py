"""The guest tools (probe.exe, agent.exe, dupsvc.exe) on a real Wine prefix.

One scratch prefix serves the whole module; every test names its own services,
keys and objects so that tests do not depend on each other's order.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import guestenv
from tests.guestenv import DUPSVC, Prefix

pytestmark = pytest.mark.wine

IDENTITY = "guest-tools-test-Ä"
NON_ASCII = "сервис-名前"


@pytest.fixture(scope="module")
def prefix() -> Iterator[Prefix]:
    # Not under pytest's basetemp: a concurrent pytest session prunes old basetemps
    # and would delete a prefix that is still in use.
    guestenv.build()
    root = Path(tempfile.mkdtemp(prefix="guest-tools-"))
    booted = Prefix.boot(root / "prefix", IDENTITY)
    yield booted
    booted.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def agent(prefix: Prefix) -> guestenv.Agent:
    return prefix.agent()


def free_port() -> int:
    """A TCP port nobody listens on now (Wine sockets live in this namespace)."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def fetch_line(port: int, timeout: float = 10) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    return json.loads(data)


def create_service(prefix: Prefix, name: str, binpath: str = DUPSVC) -> None:
    code, answer = prefix.probe("scm", "create", name, binpath)
    assert (code, answer["ok"]) == (0, True), answer


# --- build -------------------------------------------------------------------


def test_build_writes_version_and_does_not_rebuild_unchanged_sources() -> None:
    build = guestenv.build()
    version = (build / "VERSION").read_text().strip()
    mtimes = {tool: (build / tool).stat().st_mtime_ns for tool in guestenv.TOOLS}

    guestenv.build()

    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert (build / "VERSION").read_text().strip() == version
    assert {t: (build / t).stat().st_mtime_ns for t in guestenv.TOOLS} == mtimes


# --- info --------------------------------------------------------------------


def test_info_reports_container_windows_wine_and_identity(prefix: Prefix) -> None:
    code, info = prefix.probe("info")

    assert code == 0
    assert info["ok"] is True and info["command"] == "info"
    assert info["identity"] == IDENTITY
    assert info["pid"] > 0 and info["computer"]
    assert set(info["windows"]) == {"major", "minor", "build"}
    assert info["wine"] and re.match(r"\d+\.\d+", info["wine"])
    assert re.match(r"[A-Z]:\\", info["cwd"])


def test_info_identity_is_null_without_the_file(prefix: Prefix) -> None:
    path = prefix.harness / "identity.txt"
    saved = path.read_bytes()
    path.unlink()
    try:
        code, info = prefix.probe("info")
    finally:
        path.write_bytes(saved)

    assert code == 0 and info["identity"] is None


# --- scm ---------------------------------------------------------------------


def test_missing_service_is_1060(prefix: Prefix) -> None:
    code, answer = prefix.probe("scm", "query", "no-such-service")

    assert code == 1
    assert answer["ok"] is False and answer["command"] == "scm query"
    assert answer["error"] == {"call": "OpenServiceW", "code": 1060}


def test_service_lifecycle(prefix: Prefix) -> None:
    create_service(prefix, "gt-life")

    started = prefix.probe("scm", "start", "gt-life")
    queried = prefix.probe("scm", "query", "gt-life")
    listed = prefix.probe("scm", "list")
    again = prefix.probe("scm", "start", "gt-life")
    stopped = prefix.probe("scm", "stop", "gt-life")
    deleted = prefix.probe("scm", "delete", "gt-life")
    gone = prefix.probe("scm", "query", "gt-life")

    print(f"service start to RUNNING: {started[1].get('elapsed_ms')} ms")
    assert started[0] == 0 and started[1]["state"] == "RUNNING", started
    pid = started[1]["pid"]
    assert pid > 0
    assert queried[1]["state"] == "RUNNING" and queried[1]["state_code"] == 4
    assert queried[1]["pid"] == pid
    assert {"name": "gt-life", "state": "RUNNING", "pid": pid} in listed[1]["services"]
    assert again[0] == 1 and again[1]["error"]["code"] == 1056
    assert stopped[0] == 0 and stopped[1]["state"] == "STOPPED", stopped
    assert deleted == (0, {"ok": True, "command": "scm delete", "name": "gt-life"})
    assert gone[1]["error"]["code"] == 1060


def test_create_with_options_and_duplicate_name(prefix: Prefix) -> None:
    options = "--display", "GT options", "--start", "auto", "--depend", "RpcSs,Eventlog"
    first = prefix.probe("scm", "create", "gt-opts", DUPSVC, *options)
    second = prefix.probe("scm", "create", "gt-opts", DUPSVC)
    prefix.probe("scm", "delete", "gt-opts")

    assert first[0] == 0 and first[1]["start"] == "auto"
    assert second[0] == 1
    assert second[1]["error"] == {"call": "CreateServiceW", "code": 1073}


def test_dupsvc_answers_tcp_with_its_identity(prefix: Prefix) -> None:
    port = free_port()
    create_service(prefix, "gt-tcp", f"{DUPSVC} --port {port}")

    code, started = prefix.probe("scm", "start", "gt-tcp")
    answer = fetch_line(port)
    prefix.probe("scm", "stop", "gt-tcp")

    assert code == 0, started
    assert answer == {
        "service": "gt-tcp",
        "identity": IDENTITY,
        "pid": started["pid"],
        "port": port,
    }


def test_start_arguments_override_the_binpath(prefix: Prefix) -> None:
    port = free_port()
    create_service(prefix, "gt-args", f"{DUPSVC} --port 1")

    code, started = prefix.probe("scm", "start", "gt-args", "--", "--port", str(port))
    answer = fetch_line(port)
    prefix.probe("scm", "stop", "gt-args")

    assert code == 0, started
    assert answer["service"] == "gt-args" and answer["port"] == port


def test_second_service_on_the_same_port_reports_the_bind_error(prefix: Prefix) -> None:
    port = free_port()
    create_service(prefix, "gt-port-a", f"{DUPSVC} --port {port}")
    create_service(prefix, "gt-port-b", f"{DUPSVC} --port {port}")

    first = prefix.probe("scm", "start", "gt-port-a")
    second = prefix.probe("scm", "start", "gt-port-b")
    queried = prefix.probe("scm", "query", "gt-port-b")
    prefix.probe("scm", "stop", "gt-port-a")

    assert first[0] == 0, first
    assert second[0] == 1 and second[1]["state"] == "STOPPED"
    bind_error = second[1]["error"]["code"]
    assert bind_error in (10013, 10048), second  # WSAEACCES, WSAEADDRINUSE
    assert queried[1]["state"] == "STOPPED"
    assert queried[1]["win32_exit_code"] == bind_error


def test_start_pending_hang_is_reported_within_the_wait(prefix: Prefix) -> None:
    create_service(prefix, "gt-hang-start", f"{DUPSVC} --start-pending 1000000")

    began = time.monotonic()
    code, answer = prefix.probe("scm", "start", "gt-hang-start", "--wait", "2")
    took = time.monotonic() - began

    assert code == 1
    assert answer["error"]["call"] == "wait" and answer["error"]["code"] == 1053
    assert answer["state"] == "START_PENDING" and answer["hung"] == "START_PENDING"
    assert 2000 <= answer["elapsed_ms"] < 4500
    assert took < 20


def test_stalled_checkpoint_is_hung_before_the_wait(prefix: Prefix) -> None:
    create_service(prefix, "gt-stall", f"{DUPSVC} --start-pending 1000000 --stall")

    code, answer = prefix.probe("scm", "start", "gt-stall", "--wait", "30")

    assert code == 1 and answer["error"]["code"] == 1053
    assert answer["hung"] == "START_PENDING"
    assert answer["wait_hint"] == 2000 and answer["checkpoint"] == 1
    assert 2000 <= answer["elapsed_ms"] < 8000  # the service's wait hint, not --wait


def test_short_start_pending_ends_running(prefix: Prefix) -> None:
    create_service(prefix, "gt-slow-start", f"{DUPSVC} --start-pending 1")

    code, answer = prefix.probe("scm", "start", "gt-slow-start", "--wait", "10")
    prefix.probe("scm", "stop", "gt-slow-start")

    assert code == 0 and answer["state"] == "RUNNING", answer
    assert answer["elapsed_ms"] >= 1000


def test_stop_pending_hang_is_reported_within_the_wait(prefix: Prefix) -> None:
    create_service(prefix, "gt-hang-stop", f"{DUPSVC} --stop-pending 1000000")
    assert prefix.probe("scm", "start", "gt-hang-stop")[0] == 0

    code, answer = prefix.probe("scm", "stop", "gt-hang-stop", "--wait", "1.5")

    assert code == 1
    assert answer["error"]["code"] == 1053 and answer["hung"] == "STOP_PENDING"
    assert answer["state"] == "STOP_PENDING"
    assert 1500 <= answer["elapsed_ms"] < 4000


def test_stop_of_a_stopped_service_is_1062(prefix: Prefix) -> None:
    create_service(prefix, "gt-idle")

    code, answer = prefix.probe("scm", "stop", "gt-idle")

    assert code == 1 and answer["error"] == {"call": "ControlService", "code": 1062}
    assert answer["state"] == "STOPPED"


# --- reg and obj markers -------------------------------------------------------


@pytest.mark.parametrize("root", ["HKLM", "HKCU"])
def test_reg_markers(prefix: Prefix, root: str) -> None:
    key = f"{root}\\Software\\GuestToolsTest\\{NON_ASCII}"

    set_ = prefix.probe("reg", "set", key, "marker", f"value {NON_ASCII}")
    got = prefix.probe("reg", "get", key, "marker")
    missing_value = prefix.probe("reg", "get", key, "other")
    deleted = prefix.probe("reg", "delete", key, "marker")
    after = prefix.probe("reg", "get", key, "marker")
    prefix.probe("reg", "delete", f"{root}\\Software\\GuestToolsTest")
    missing_key = prefix.probe("reg", "get", key, "marker")

    assert set_[0] == 0 and set_[1]["command"] == "reg set"
    assert got[0] == 0 and got[1]["data"] == f"value {NON_ASCII}"
    assert missing_value[1]["error"] == {"call": "RegQueryValueExW", "code": 2}
    assert deleted[0] == 0
    assert after[0] == 1 and after[1]["error"]["code"] == 2
    assert missing_key[1]["error"] == {"call": "RegOpenKeyExW", "code": 2}


@pytest.mark.parametrize("kind", ["mutex", "event", "pipe"])
def test_obj_markers_live_as_long_as_their_holder(
    prefix: Prefix, agent: guestenv.Agent, kind: str
) -> None:
    name = f"gt-{kind}-{NON_ASCII}"

    created = agent.call("obj", "create", kind, name)
    seen = prefix.probe("obj", "open", kind, name)
    closed = agent.call("obj", "close", kind, name)
    gone = prefix.probe("obj", "open", kind, name)
    not_held = agent.call("obj", "close", kind, name)
    short_lived = prefix.probe("obj", "create", kind, name)
    after_exit = prefix.probe("obj", "open", kind, name)

    assert created[0] == 0 and created[1]["existed"] is False
    assert seen[0] == 0 and seen[1]["exists"] is True
    assert closed[0] == 0
    assert gone[0] == 1 and gone[1]["error"]["code"] == 2
    assert not_held[0] == 1 and not_held[1]["error"]["code"] == 6
    assert short_lived[0] == 0
    assert after_exit[1]["error"]["code"] == 2


def test_obj_create_twice_says_it_existed(agent: guestenv.Agent) -> None:
    first = agent.call("obj", "create", "mutex", "gt-twice")
    second = agent.call("obj", "create", "mutex", "gt-twice")
    agent.call("obj", "close", "mutex", "gt-twice")
    agent.call("obj", "close", "mutex", "gt-twice")

    assert first[1]["existed"] is False and second[1]["existed"] is True


# --- agent ---------------------------------------------------------------------


def test_agent_round_trip_non_ascii(prefix: Prefix, agent: guestenv.Agent) -> None:
    created = agent.call("scm", "create", NON_ASCII, DUPSVC)
    started = agent.call("scm", "start", NON_ASCII)
    queried = prefix.probe("scm", "query", NON_ASCII)
    listed = agent.call("scm", "list")
    agent.call("scm", "stop", NON_ASCII)
    deleted = agent.call("scm", "delete", NON_ASCII)

    assert created[0] == 0 and created[1]["name"] == NON_ASCII
    assert started[0] == 0 and started[1]["state"] == "RUNNING"
    assert queried[1]["name"] == NON_ASCII and queried[1]["pid"] == started[1]["pid"]
    assert NON_ASCII in {s["name"] for s in listed[1]["services"]}
    assert deleted[0] == 0


def test_agent_answer_carries_id_and_result(agent: guestenv.Agent) -> None:
    agent.send({"id": "text-id", "argv": ["scm", "query", "no-such-service"]})
    answer = agent.read()

    assert answer["id"] == "text-id" and answer["exit"] == 1
    assert answer["result"]["error"] == {"call": "OpenServiceW", "code": 1060}


def test_agent_put_writes_the_file(prefix: Prefix, agent: guestenv.Agent) -> None:
    data = bytes(range(256)) * 1000

    answer = agent.request(
        {
            "put": f"C:/harness/upload/{NON_ASCII}/blob.bin",
            "data_b64": base64.b64encode(data).decode(),
        }
    )

    assert answer["exit"] == 0
    assert answer["result"] == {
        "ok": True,
        "command": "put",
        "path": f"C:/harness/upload/{NON_ASCII}/blob.bin",
        "bytes": len(data),
    }
    assert (prefix.harness / "upload" / NON_ASCII / "blob.bin").read_bytes() == data


def test_agent_rejects_bad_requests_with_87(agent: guestenv.Agent) -> None:
    agent.send(b"this is not json")
    garbage = agent.read()
    bad_b64 = agent.request({"put": "C:/harness/x.bin", "data_b64": "***"})

    assert garbage["id"] is None and garbage["exit"] == 2
    assert garbage["result"]["error"]["code"] == 87
    assert bad_b64["exit"] == 2 and bad_b64["result"]["error"]["code"] == 87


def test_agent_exits_0_on_end_of_input(prefix: Prefix) -> None:
    short = prefix.agent()
    assert short.call("info")[0] == 0

    assert short.close(timeout=10) == 0


def test_agent_dies_on_crash_without_answering(prefix: Prefix) -> None:
    doomed = prefix.agent()
    doomed.send({"id": 1, "argv": ["crash", "5"]})

    assert doomed.reader.readline(timeout=30) == b""
    assert doomed.proc.wait(timeout=10) == 5


def test_agent_is_much_faster_than_a_probe_process(
    prefix: Prefix, agent: guestenv.Agent
) -> None:
    agent_ms, probe_ms = [], []
    for _ in range(30):
        began = time.perf_counter()
        agent.call("info")
        agent_ms.append((time.perf_counter() - began) * 1000)
    for _ in range(10):
        began = time.perf_counter()
        prefix.probe("info")
        probe_ms.append((time.perf_counter() - began) * 1000)

    agent_median = statistics.median(agent_ms)
    probe_median = statistics.median(probe_ms)
    print(f"info: agent {agent_median:.2f} ms, wine probe.exe {probe_median:.1f} ms")
    assert agent_median * 5 < probe_median


# --- usage, sleep, crash ---------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["scm"],
        ["scm", "frob"],
        ["scm", "start"],
        ["scm", "start", "x", "--wait", "soon"],
        ["reg", "get", "HKXX\\a", "b"],
        ["obj", "create", "semaphore", "x"],
        ["sleep", "-1"],
        ["info", "extra"],
    ],
)
def test_bad_usage_exits_2_with_87(prefix: Prefix, argv: list[str]) -> None:
    code, answer = prefix.probe(*argv)

    assert code == 2
    assert answer["ok"] is False and "command" in answer
    assert answer["error"]["call"] == "usage" and answer["error"]["code"] == 87
    assert answer["error"]["message"]


def test_sleep_waits(prefix: Prefix) -> None:
    began = time.monotonic()
    code, answer = prefix.probe("sleep", "300")

    assert code == 0 and answer == {"ok": True, "command": "sleep", "ms": 300}
    assert time.monotonic() - began >= 0.3


def test_crash_exits_abruptly_without_output(prefix: Prefix) -> None:
    done: subprocess.CompletedProcess = prefix.run_probe("crash")

    assert done.returncode == 3 and done.stdout == b""


def test_help_lists_every_command(prefix: Prefix) -> None:
    code, answer = prefix.probe("help")
    names = {c["name"] for c in answer["commands"]}

    assert code == 0
    assert {"info", "scm", "reg", "obj", "sleep", "crash"} <= names


def test_help_names_every_subcommand_and_registry_root(prefix: Prefix) -> None:
    """`help` is written by hand in commands.def; each family's usage and the
    registry's root check come from the code that runs, so they must agree."""
    _, answer = prefix.probe("help")
    helps = {c["name"]: c["help"] for c in answer["commands"]}
    missing = []
    for family in sorted(set(helps) - {"info", "sleep", "crash", "help"}):
        code, usage = prefix.probe(family)  # no subcommand: the family's usage
        message = usage["error"]["message"]
        assert code != 0 and message.startswith(f"usage: {family} "), usage
        parts = message[len(f"usage: {family} ") :].split(" | ")
        names = [re.escape(part.split()[0].rstrip(":")) for part in parts]
        missing += [
            f"{family} {n}" for n in names if not re.search(rf"\b{n}\b", helps[family])
        ]
    _, refused = prefix.probe("reg", "get", "HKXX\\Software", "v")
    roots = refused["error"]["message"].split("one of ")[1].split(", ")
    missing += [
        f"reg root {r}" for r in roots if not re.search(rf"\b{r}\b", helps["reg"])
    ]

    assert len(roots) == 4, refused
    assert missing == []


def test_every_answer_is_one_utf8_line(prefix: Prefix) -> None:
    done = prefix.run_probe("scm", "query", NON_ASCII + "-missing")

    text = done.stdout.decode("utf-8")
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text)["name"] == NON_ASCII + "-missing"
