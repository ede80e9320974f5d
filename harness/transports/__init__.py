"""Transports: how commands and files reach a host.

The contract is small and written down once here.  Drivers are found by name and
imported on first use, so a problem with pywinrm never breaks a local run.

    result = transport.run(["C:/harness/probe.exe", "info"], timeout=30)
    result.check()            # raise TransportError unless exit code 0
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from harness.errors import ConfigError, TransportError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What a remote command did: the data, never an assertion."""

    host: str
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float

    def check(self) -> CommandResult:
        """Return self when the exit code is 0, else raise TransportError."""
        if self.exit_code != 0:
            raise TransportError(
                f"{self.host}: {' '.join(self.argv)} exited {self.exit_code}: "
                f"{self.stderr.strip()[-500:]}"
            )
        return self


class Transport(Protocol):
    """Run commands and move files on one host."""

    name: str  # the host's name in logs

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> CommandResult:
        """Run argv and wait; on timeout end its process tree (CommandTimeout)."""

    def upload(self, local: Path, remote: str) -> None:
        """Copy a file to the host, verified by checksum."""

    def download(self, remote: str, local: Path) -> None:
        """Copy a file from the host, verified by checksum."""

    def wait_ready(self, timeout: float) -> None:
        """Return when the host answers commands; TransportError after timeout."""

    def close(self) -> None:
        """Release connections and shells; safe to call twice."""


def log_command(result: CommandResult) -> None:
    """Log one finished command: host, argv, exit code and duration (never secrets)."""
    log.info(
        "%s: %s -> exit %d in %.3fs",
        result.host,
        " ".join(result.argv),
        result.exit_code,
        result.duration,
    )
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s stdout: %s", result.host, result.stdout[-4000:])
        log.debug("%s stderr: %s", result.host, result.stderr[-4000:])


class Stopwatch:
    """Monotonic time since creation, for command durations."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


DRIVERS = {
    "local": "harness.transports.local:LocalTransport",
    "winrm": "harness.transports.winrm:WinRMTransport",
}


def driver(name: str) -> type:
    """The transport class for `name`, imported on first use."""
    return _load(DRIVERS, name, "transport")


def _load(table: Mapping[str, str], name: str, role: str) -> type:
    if name not in table:
        raise ConfigError(
            f"unknown {role} {name!r}; known {role}s: {', '.join(sorted(table))}"
        )
    module_name, _, attr = table[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"{role} {name!r} needs the Python package {error.name!r}: "
            f"install it with `pip install {error.name}`"
        ) from error
    return getattr(module, attr)
