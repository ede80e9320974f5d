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
from collections.abc import Mapping, Sequence
from pathlib import Path

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
    """Run argv to completion; CommandTimeout (after ending its group) on timeout."""
    watch = Stopwatch()
    full_env = {**os.environ, **(env or {})}
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
    except OSError as error:
        raise TransportError(
            f"{host}: cannot start {argv[0]}: {error.strerror}"
        ) from error
    try:
        out, err = process.communicate(stdin, timeout=timeout)
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
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        watch.elapsed(),
    )
    log_command(result)
    return result


def kill_group(process: subprocess.Popen) -> None:
    """End a process started with start_new_session, and everything in its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
        process.communicate(timeout=5)
