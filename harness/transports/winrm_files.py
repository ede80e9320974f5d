"""Files to and from a Windows host over WinRM, in envelope-sized chunks.

Upload streams base64 lines into the stdin of a small PowerShell script that writes
``<path>.hxpart``; the controller announces the SHA-256 first and the guest keeps
the file only when its own hash matches, so a file that arrives is whole.  When the
connection breaks, the partial file is removed once the host answers again.
Download reads the file's size and hash, fetches chunks into ``<local>.hxpart`` and
renames it only after the hash matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from harness.errors import TransportError
from harness.transports import CommandResult
from harness.transports.winrm_scripts import READ_CHUNK, REMOVE, STAT, UPLOAD

log = logging.getLogger(__name__)

ENVELOPE_OVERHEAD = 4096  # SOAP headers and the Send element around the data
PART = ".hxpart"


class ScriptRunner(Protocol):
    name: str

    def powershell(
        self,
        script: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 60.0,
        stdin: Iterator[bytes] | None = None,
    ) -> CommandResult: ...


def stdin_chunk_size(max_envelope: int) -> int:
    """Raw bytes per Send so that one envelope stays within `max_envelope`.

    A Send carries its data base64-encoded, so the budget is three quarters of the
    envelope less the headers.
    """
    return max(1, (max_envelope - ENVELOPE_OVERHEAD) * 3 // 4)


def line_chunk_size(max_envelope: int) -> int:
    """Raw bytes per upload line: base64 twice (the line, then the Send) plus CRLF."""
    budget = stdin_chunk_size(max_envelope) - 2
    return max(3, budget // 4 * 3)


def upload_file(runner: ScriptRunner, local: Path, remote: str, chunk: int) -> None:
    """Copy `local` to `remote` on the host; TransportError unless it arrived whole."""
    digest = _sha256_file(local)
    size = local.stat().st_size
    with local.open("rb") as source:
        blocks = iter(lambda: source.read(chunk), b"")
        upload_stream(runner, blocks, digest, remote, size, what=str(local))


def upload_bytes(runner: ScriptRunner, data: bytes, remote: str, chunk: int) -> None:
    """Copy bytes held in memory to `remote` on the host."""
    blocks = (data[i : i + chunk] for i in range(0, len(data), chunk))
    digest = hashlib.sha256(data).hexdigest()
    upload_stream(runner, blocks, digest, remote, len(data), what=f"{len(data)} bytes")


def upload_stream(
    runner: ScriptRunner,
    blocks: Iterator[bytes],
    digest: str,
    remote: str,
    size: int,
    *,
    what: str,
) -> None:
    lines = (base64.b64encode(block) + b"\r\n" for block in blocks)
    try:
        result = runner.powershell(
            UPLOAD,
            {"Path": remote, "Sha256": digest},
            timeout=120 + size / 20_000,
            stdin=lines,
        )
    except TransportError as error:
        remove_quietly(runner, remote + PART)
        raise TransportError(
            f"{runner.name}: upload of {what} to {remote} failed: {error}"
        ) from error
    got = result.stdout.strip().lower()
    if result.exit_code == 3 or (result.exit_code == 0 and got != digest):
        raise TransportError(
            f"{runner.name}: {remote} arrived damaged: SHA-256 "
            f"{got or '(none)'} on the host, {digest} sent"
        )
    if result.exit_code != 0:
        raise TransportError(
            f"{runner.name}: upload of {what} to {remote} exited "
            f"{result.exit_code}: {result.stderr.strip()[-300:]}"
        )
    log.debug("%s: %s uploaded to %s (%d bytes)", runner.name, what, remote, size)


def remove_quietly(runner: ScriptRunner, remote: str) -> None:
    """Remove a file on the host; a failure is logged, not raised."""
    try:
        runner.powershell(REMOVE, {"Path": remote}, timeout=60)
    except TransportError as error:
        log.warning("%s: could not remove %s: %s", runner.name, remote, error)


def download_file(runner: ScriptRunner, remote: str, local: Path, chunk: int) -> None:
    """Copy `remote` to `local`; the local file appears only when its hash matched."""
    size, digest = _stat(runner, remote)
    part = local.with_name(local.name + PART)
    try:
        got = _fetch(runner, remote, part, size, chunk)
        if got != digest:
            raise TransportError(
                f"{runner.name}: {remote} arrived damaged: SHA-256 "
                f"{got} received, {digest} on the host"
            )
        part.replace(local)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _stat(runner: ScriptRunner, remote: str) -> tuple[int, str]:
    result = runner.powershell(STAT, {"Path": remote}, timeout=120)
    try:
        info = json.loads(result.check().stdout)
        return int(info["size"]), str(info["sha256"]).lower()
    except (ValueError, KeyError, TypeError) as error:
        raise TransportError(
            f"{runner.name}: cannot read size and hash of {remote}: "
            f"{result.stdout[:200]!r}"
        ) from error


def _fetch(runner: ScriptRunner, remote: str, part: Path, size: int, chunk: int) -> str:
    digest = hashlib.sha256()
    with part.open("wb") as sink:
        for offset in range(0, size, chunk):
            length = min(chunk, size - offset)
            data = _read_chunk(runner, remote, offset, length)
            sink.write(data)
            digest.update(data)
    return digest.hexdigest()


def _read_chunk(runner: ScriptRunner, remote: str, offset: int, length: int) -> bytes:
    params = {"Path": remote, "Offset": offset, "Length": length}
    result = runner.powershell(READ_CHUNK, params, timeout=120).check()
    try:
        data = base64.b64decode(result.stdout.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise TransportError(
            f"{runner.name}: chunk at {offset} of {remote} is not base64"
        ) from error
    if len(data) != length:
        raise TransportError(
            f"{runner.name}: chunk at {offset} of {remote} has "
            f"{len(data)} bytes, {length} expected (file changed?)"
        )
    return data


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
