"""The local transport: processes on this machine.

Each command runs in its own process group so that a timeout ends the whole tree
(a Wine program is a loader plus the program plus helpers), not only the first pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from harness.errors import CommandTimeout, TransportError
from harness.transports import CommandResult, Stopwatch, log_command


class LocalTransport:
    """Run commands and copy files on this machine."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or socket.gethostname()

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> CommandResult:
        return run_local(self.name, argv, timeout=timeout, env=env, stdin=stdin)

    def upload(self, local: Path, remote: str) -> None:
        self._copy(local, Path(remote))

    def download(self, remote: str, local: Path) -> None:
        self._copy(Path(remote), local)

    def wait_ready(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        return None

    def _copy(self, source: Path, destination: Path) -> None:
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        except OSError as error:
            raise TransportError(
                f"{self.name}: copy {source} -> {destination}: {error.strerror}"
            ) from error


def run_local(
    host: str,
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> CommandResult:
    """Run argv to completion; CommandTimeout (after ending its group) on timeout.

    Output goes through unnamed files rather than pipes: a command that starts a
    server in the background (a guest tool's `proc start`) ends when it exits,
    even though the server still holds the inherited output.
    """
    watch = Stopwatch()
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=full_env,
                start_new_session=True,
            )
        except OSError as error:
            raise TransportError(
                f"{host}: cannot start {argv[0]}: {error.strerror}"
            ) from error
        try:
            process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            result = CommandResult(host, tuple(argv), -9, "", "", watch.elapsed())
            log_command(result)
            raise CommandTimeout(
                f"{host}: {' '.join(argv)} did not finish within {timeout:g}s; "
                "its process group was ended"
            ) from None
        result = CommandResult(
            host,
            tuple(argv),
            process.returncode,
            _read(out),
            _read(err),
            watch.elapsed(),
        )
    log_command(result)
    return result


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", "replace")


def kill_group(process: subprocess.Popen) -> None:
    """End a process started with start_new_session, and everything in its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
        process.communicate(timeout=5)
