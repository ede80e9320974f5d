"""The harness's own PowerShell scripts, emulated in Python by their name.

No PowerShell runs here, so the scripts of harness/transports/winrm_scripts.py and
of the engines are recognised by their first line (``# hx:name``) and answered by a
function below that does what the script does on Windows, with the same parameters
and the same output.  Their PowerShell bodies are therefore never executed in these
tests: a mistake inside a script body is not caught here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from tests.windows.standin import Cancelled, Exit, Process
from tests.windows.standin_ps import PowerShell, PSError


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


HARNESS_SCRIPTS: dict[str, Callable[[PowerShell, dict[str, Any]], None]] = {
    "facts": _facts,
    "boot-time": _boot_time,
    "licence": _licence,
    "upload": _upload,
    "stat": _stat,
    "read-chunk": _read_chunk,
    "remove": _remove,
}
