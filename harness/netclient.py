"""Linux clients run on the client machine (inside its network namespace).

    python -m harness.netclient tcp 198.18.0.2 8135
    python -m harness.netclient http http://198.18.0.2:8180/dup/
    python -m harness.netclient rpc 198.18.0.2 UUID [PORT]

Each prints one JSON object and exits 0 when "ok" is true, 1 otherwise:
- tcp: {"ok": true, "answer": "<first line the server sent>"} or
  {"ok": false, "errno": 111, "error": "Connection refused"};
- http: {"ok": true, "status": 200, "body": "..."}, or "errno" as for tcp, or
  "status" with the server's error status;
- rpc: the harness's RPC interface (guest/probe/dupif.idl) through impacket, a
  client independent of Windows' and Wine's RPC runtime.  Without PORT the
  endpoint mapper on TCP 135 is asked where the interface UUID is registered
  ("stage": "map"); then DupIdentity is called on that port ("stage": "call").
  {"ok": true, "port": 8136, "identity": "...", "pid": N}, or {"ok": false,
  "stage": ..., "errno": N} for a socket error, or "code": N for an RPC status.
Decisions are made on errno, status and code, never on the text.  Case modules
call it through `ask(client, "rpc", address, uuid)`, which runs it where the client
machine runs network asks: this module inside a Linux client's namespace, or a
Windows client's own way of asking (harness/engines/windows_client.py).  An ask
that cannot reach the address at all (no address, no route) raises TransportError:
the cell is broken, not failed.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import urllib.error
import urllib.request
from typing import Any

DUPIF = ("dce773e0-739a-4e64-90c8-acfbd4aa24b9", "1.0")  # guest/probe/dupif.idl
IDENTITY_CHARS = 1024
# No route to the address: Linux EHOSTUNREACH, ENETUNREACH; WinSock 10065, 10051.
UNREACHABLE = {113, 101, 10065, 10051}


def tcp(address: str, port: int, timeout: float = 10.0) -> dict[str, object]:
    """Connect, read the first line the server sends, close."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            data = b""
            while not data.endswith(b"\n") and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as error:
        return _socket_error(error)
    return {"ok": True, "answer": data.decode("utf-8", "replace").strip()}


def http(url: str, timeout: float = 10.0) -> dict[str, object]:
    """GET `url`; the status and the body (UTF-8) of the answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = answer.read(65536).decode("utf-8", "replace")
            return {"ok": True, "status": answer.status, "body": body}
    except urllib.error.HTTPError as error:
        return {"ok": False, "status": error.code, "error": str(error.reason)}
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, OSError):
            return _socket_error(reason)
        return {"ok": False, "error": str(reason)}
    except OSError as error:
        return _socket_error(error)


def rpc(address: str, uuid: str, port: int | None = None) -> dict[str, Any]:
    """Resolve `uuid` through the mapper at `address` (unless `port`), then call."""
    from impacket.dcerpc.v5.rpcrt import DCERPCException

    stage = "map"
    try:
        if port is None:
            port = _map(address, uuid)
        stage = "call"
        identity, pid, status = _call(address, port)
    except OSError as error:
        return {**_socket_error(error), "stage": stage}
    except DCERPCException as error:
        if isinstance(error.__context__, OSError):  # impacket wraps socket errors
            return {**_socket_error(error.__context__), "stage": stage}
        code = error.get_error_code()
        return {"ok": False, "stage": stage, "code": code, "error": str(error)}
    if status:
        return {"ok": False, "stage": "call", "code": status, "port": port}
    return {"ok": True, "port": port, "identity": identity, "pid": pid}


def _map(address: str, uuid: str) -> int:
    """The TCP port the mapper at `address` gives for `uuid`."""
    from impacket.dcerpc.v5 import epm
    from impacket.uuid import uuidtup_to_bin

    binding = epm.hept_map(
        address, uuidtup_to_bin((uuid, "1.0")), protocol="ncacn_ip_tcp"
    )
    found = re.search(r"\[(\d+)\]", binding)
    if found is None:  # a binding without a port: nothing to call
        raise OSError(f"the endpoint mapper answered {binding!r}, no TCP port")
    return int(found.group(1))


def _call(address: str, port: int) -> tuple[str, int, int]:
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.dtypes import NDRLONG, NDRULONG, WSTR
    from impacket.dcerpc.v5.ndr import NDRCALL
    from impacket.uuid import uuidtup_to_bin

    class DupIdentity(NDRCALL):
        # widl's -Oicf stubs (guest/probe/dupif_c.c, guest/tools/dupif_s.c) put
        # the explicit binding handle on the wire as a long; the server skips it.
        opnum = 0
        structure = (("binding", NDRLONG), ("size", NDRLONG))

    class DupIdentityResponse(NDRCALL):
        structure = (("identity", WSTR), ("pid", NDRLONG), ("status", NDRULONG))

    dce = transport.DCERPCTransportFactory(
        f"ncacn_ip_tcp:{address}[{port}]"
    ).get_dce_rpc()
    dce.connect()
    try:
        dce.bind(uuidtup_to_bin(DUPIF))
        request = DupIdentity()
        request["binding"] = 0
        request["size"] = IDENTITY_CHARS
        dce.call(request.opnum, request)
        answer = DupIdentityResponse(dce.recv())
    finally:
        dce.disconnect()
    text = str(answer["identity"]).rstrip("\x00")
    return text, int(answer["pid"]), int(answer["status"])


def ask(client: Any, *args: str | None, timeout: float = 60.0) -> dict[str, Any]:
    """Ask from the client machine (a recorded step); the JSON answer.

    A client with its own way of asking (``client.netclient(argv)``, a Windows
    client machine) uses it; any other runs this module as a native program there.
    """
    from harness.errors import GuestError, TransportError

    if None in args:
        reason = getattr(client, "no_address", None)
        raise TransportError(
            f"{client.name}: the container has no address the client machine can "
            f"reach{': ' + reason if reason else ''}"
        )
    argv = [str(arg) for arg in args]
    result = _run(client, argv, timeout)
    try:
        answer: dict[str, Any] = json.loads(result.stdout.strip().split("\n")[-1])
    except (ValueError, IndexError):
        raise GuestError(
            f"netclient {' '.join(argv)} printed no JSON (exit {result.exit_code}): "
            f"{(result.stderr or result.stdout)[-500:]}"
        ) from None
    if answer.get("errno") in UNREACHABLE:
        raise TransportError(
            f"{client.name} cannot reach the address of netclient {' '.join(argv)} "
            f"at all (errno {answer['errno']}: {answer.get('error')}): the lab "
            "network does not connect them"
        )
    return answer


def _run(client: Any, argv: list[str], timeout: float) -> Any:
    """Run one ask on the client machine, recorded as an allure step."""
    import allure

    from harness.probe import attach, native

    if not hasattr(client, "netclient"):
        return native(
            client, sys.executable, "-m", "harness.netclient", *argv, timeout=timeout
        )
    with allure.step(f"{client.name}: netclient {' '.join(argv)}"):
        result = client.netclient(argv, timeout=timeout)
        attach(result)
        return result


def _socket_error(error: OSError) -> dict[str, object]:
    return {"ok": False, "errno": error.errno, "error": error.strerror or str(error)}


USAGE = "usage: tcp ADDRESS PORT | http URL | rpc ADDRESS UUID [PORT]"


def _dispatch(argv: list[str]) -> dict[str, Any] | None:
    match argv:
        case ["tcp", address, port] if port.isdigit():
            return tcp(address, int(port))
        case ["http", url]:
            return http(url)
        case ["rpc", address, uuid]:
            return rpc(address, uuid)
        case ["rpc", address, uuid, port] if port.isdigit():
            return rpc(address, uuid, int(port))
    return None


def main(argv: list[str]) -> int:
    result = _dispatch(argv)
    if result is None:
        print(json.dumps({"ok": False, "error": USAGE}))
        return 2
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
