"""The harness's own PowerShell scripts, emulated in Python by their name.

No PowerShell runs here, so the scripts of harness/transports/winrm_scripts.py and
of the engines are recognised by their first line (``# hx:name``) and answered by a
function below that does what the script does on Windows, with the same parameters
and the same output.  Their PowerShell bodies are therefore never executed in these
tests: a mistake inside a script body is not caught here.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from tests.windows.standin import Cancelled, Exit, Process
from tests.windows.standin_ps import PowerShell, PSError

# WinSock codes for what this machine's sockets report as errno.
WSA = {
    errno.ECONNREFUSED: 10061,
    errno.ETIMEDOUT: 10060,
    errno.EHOSTUNREACH: 10065,
    errno.ENETUNREACH: 10051,
    errno.ECONNRESET: 10054,
}
WSA_TIMEDOUT = 10060


def _facts(ps: PowerShell, params: dict[str, Any]) -> None:
    m = ps.proc.machine
    ps.output(
        json.dumps(
            {
                "computer_name": m.computer_name,
                "build": m.build,
                "caption": "Stand-in",
                "oem_codepage": m.oem_codepage,
                "ansi_codepage": m.ansi_codepage,
                "boot_time": m.boot_time,
            }
        )
    )


def _boot_time(ps: PowerShell, params: dict[str, Any]) -> None:
    ps.output(ps.proc.machine.boot_time)


def _licence(ps: PowerShell, params: dict[str, Any]) -> None:
    machine = ps.proc.machine
    expired = machine.licence_expired_at
    since = params.get("since") or ""
    hit = expired is not None and expired >= since
    ps.output(
        json.dumps(
            {
                "expired": hit,
                "event_id": 100 if hit else None,
                "time": expired if hit else None,
                "evaluation_end": machine.evaluation_end,
            }
        )
    )


def _upload(ps: PowerShell, params: dict[str, Any]) -> None:
    machine, proc = ps.proc.machine, ps.proc
    final = proc.view.write(params["path"])
    part = final.with_name(final.name + ".hxpart")
    machine.open_files.add(part)
    try:
        with part.open("wb") as sink:
            for line in _stdin_lines(proc):
                data = base64.b64decode(line)
                if machine.corrupt_uploads and data:
                    data = bytes([data[0] ^ 1]) + data[1:]
                sink.write(data)
    finally:
        machine.open_files.discard(part)
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    if digest != params["sha256"]:
        part.unlink()
        ps.output(digest)
        raise Exit(3)
    part.replace(final)
    ps.output(digest)


def _stdin_lines(proc: Process) -> Iterator[bytes]:
    pending = b""
    while True:
        chunk = proc.stdin.get()
        if proc.cancel.is_set():
            raise Cancelled()
        if chunk is None:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line.strip() for line in lines if line.strip())
    if pending.strip():
        yield pending.strip()


def _stat(ps: PowerShell, params: dict[str, Any]) -> None:
    path = ps.proc.view.read(params["path"])
    if not path.is_file():
        raise PSError(f"Cannot find path '{params['path']}' because it does not exist.")
    data = path.read_bytes()
    ps.output(
        json.dumps({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    )


def _read_chunk(ps: PowerShell, params: dict[str, Any]) -> None:
    data = ps.proc.view.read(params["path"]).read_bytes()
    offset, length = int(params["offset"]), int(params["length"])
    ps.output(base64.b64encode(data[offset : offset + length]).decode())


def _remove(ps: PowerShell, params: dict[str, Any]) -> None:
    path = ps.proc.view.read(params["path"])
    if path in ps.proc.machine.open_files:
        return  # held open by a running process: Windows refuses to delete it
    path.unlink(missing_ok=True)


def _file_version(ps: PowerShell, params: dict[str, Any]) -> None:
    """ProductVersion of a program's version resource; the stand-in's programs
    carry it as ``version=`` in their file (standin_programs.program_file)."""
    path = ps.proc.view.read(params["path"])
    if not path.is_file():
        raise PSError(f"Cannot find path '{params['path']}' because it does not exist.")
    found = re.search(rb"version=(\S+)", path.read_bytes())
    ps.output(found.group(1).decode() if found else "")


# --- network clients on a Windows client machine ------------------------------------


def _net_tcp(ps: PowerShell, params: dict[str, Any]) -> None:
    """System.Net.Sockets.TcpClient: connect, read the first line, close."""
    address, port = params["address"], int(params["port"])
    timeout = int(params.get("timeoutms") or 10000) / 1000
    try:
        _route(ps, address)
        with socket.create_connection((address, port), timeout=timeout) as conn:
            data = b""
            while not data.endswith(b"\n") and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as error:
        ps.output(json.dumps(_socket_error(error)))
        return
    answer = data.decode("utf-8", "replace").strip()
    ps.output(json.dumps({"ok": True, "answer": answer}))


def _net_http(ps: PowerShell, params: dict[str, Any]) -> None:
    """Invoke-WebRequest -UseBasicParsing: the status and body, or the error."""
    timeout = int(params.get("timeoutsec") or 10)
    try:
        _route(ps, urllib.parse.urlsplit(params["url"]).hostname or "")
        with urllib.request.urlopen(params["url"], timeout=timeout) as answer:
            body = answer.read(65536).decode("utf-8", "replace")
            ps.output(json.dumps({"ok": True, "status": answer.status, "body": body}))
    except urllib.error.HTTPError as error:
        ps.output(json.dumps({"ok": False, "status": error.code, "error": "HTTP"}))
    except urllib.error.URLError as error:
        reason = error.reason
        if not isinstance(reason, OSError):
            reason = OSError(None, str(reason))
        ps.output(json.dumps(_socket_error(reason)))
    except OSError as error:
        ps.output(json.dumps(_socket_error(error)))


def _lab_adapter(ps: PowerShell, params: dict[str, Any]) -> None:
    """Get-NetIPAddress -IPAddress: the adapter that holds the lab address."""
    if params["address"] != ps.proc.machine.lab_address:
        raise PSError(
            "No MSFT_NetIPAddress objects found with property 'IPAddress' equal to "
            f"'{params['address']}'."
        )
    ps.output("Ethernet 2")


def _route(ps: PowerShell, address: str) -> None:
    """The client machine's routing table: no route to its `unreachable` ones."""
    if address in ps.proc.machine.unreachable:
        raise OSError(errno.EHOSTUNREACH, "No route to host")


def _socket_error(error: OSError) -> dict[str, Any]:
    """A SocketException as the scripts report it: its WinSock error code."""
    code = WSA.get(error.errno or 0, WSA_TIMEDOUT if _is_timeout(error) else 10050)
    return {"ok": False, "errno": code, "error": error.strerror or str(error)}


def _is_timeout(error: OSError) -> bool:
    return isinstance(error, TimeoutError) or "timed out" in str(error)


HARNESS_SCRIPTS: dict[str, Callable[[PowerShell, dict[str, Any]], None]] = {
    "facts": _facts,
    "boot-time": _boot_time,
    "licence": _licence,
    "upload": _upload,
    "stat": _stat,
    "read-chunk": _read_chunk,
    "remove": _remove,
    "net-tcp": _net_tcp,
    "net-http": _net_http,
    "lab-adapter": _lab_adapter,
    "file-version": _file_version,
}
