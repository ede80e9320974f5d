"""One WS-Management session: shells and commands over pywinrm, errors translated.

This layer speaks the protocol (open a shell, start a command, feed its stdin, poll
its output, signal it, delete the shell) and turns every pywinrm, requests and fault
condition into a harness exception with the library's exception as the cause.  It
knows nothing about reboots or retries; `winrm.WinRMTransport` decides those from
the exception types raised here.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import requests
import winrm
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from harness.errors import CommandTimeout, TransportError
from harness.secrets import Secret, mask
from harness.transports.winrm_options import WinRMOptions, message_encryption

log = logging.getLogger(__name__)
T = TypeVar("T")

# WS-Management and Win32 codes the transport decides on (never on fault text).
SHELL_NOT_FOUND = 0x8033805B  # the shell is gone: the service restarted or rebooted
RPC_UNAVAILABLE = 0x800706BA  # the RPC server is not up yet (host still booting)
ACCESS_DENIED = 0x80070005


class ConnectionLost(TransportError):
    """The HTTP connection broke or the host stopped answering."""


class RemoteFault(TransportError):
    """The WS-Management service answered with a fault or an HTTP error status."""

    def __init__(self, message: str, *, code: int | None, status: int | None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Refused(TransportError):
    """The host refused us for a reason retrying cannot fix."""


class Unreachable(Refused):
    """A host never reached took no connection within connect_timeout: waiting
    longer (boot_timeout, reboot_grace) is for hosts known to exist."""


class CredentialsRejected(Refused):
    """The host refused the user name or password."""


class CertificateRejected(Refused):
    """The host's TLS certificate did not validate."""


class NotStarted(TransportError):
    """A command could not be started; it did not run, so it is safe to retry."""

    def __init__(self, cause: TransportError) -> None:
        super().__init__(str(cause))
        self.reason = cause


@dataclasses.dataclass
class Output:
    stdout: bytes
    stderr: bytes
    exit_code: int


def reach(name: str, address: str, port: int, options: WinRMOptions) -> None:
    """Return once a TCP connection to the WinRM port opens, trying every
    retry_interval; Unreachable, naming the address and port, when none opened
    within connect_timeout.  Used at the first contact of a host, so that an
    address nobody answers at fails in a minute rather than a boot timeout."""
    limit = options.connect_timeout
    deadline = time.monotonic() + limit
    while True:
        left = max(deadline - time.monotonic(), 0.05)
        try:
            socket.create_connection((address, port), timeout=left).close()
            return
        except OSError as error:
            problem = _no_connection(error)
        if time.monotonic() + options.retry_interval >= deadline:
            raise Unreachable(
                f"{name}: no connection to WinRM at {address}:{port} within "
                f"{limit:g}s (connect_timeout) of first contact: {problem}"
            )
        log.info("%s: %s:%d: %s; trying again", name, address, port, problem)
        time.sleep(options.retry_interval)


def _no_connection(error: OSError) -> str:
    if isinstance(error, TimeoutError):
        return "no answer (timed out: a wrong address, or a firewall drops it)"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing listens on that port)"
    return f"{type(error).__name__}: {error.strerror or error}"


class WinRMSession:
    """Shells and commands on one host through one authenticated HTTP session."""

    def __init__(
        self,
        name: str,
        endpoint: str,
        user: str,
        password: Secret,
        options: WinRMOptions,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self._password = password
        self.options = options
        self.protocol = self._call(
            "connect", lambda: winrm.Protocol(**self._kwargs(user, password))
        )

    def _kwargs(self, user: str, password: Secret) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "transport": self.options.auth,
            "username": user,
            "password": password.reveal(),
            "server_cert_validation": "validate" if self.options.validate else "ignore",
            "ca_trust_path": self.options.ca_trust_path,
            "read_timeout_sec": self.options.read_timeout,
            "operation_timeout_sec": self.options.operation_timeout,
            "message_encryption": message_encryption(self.endpoint),
            "proxy": None,
        }

    def open_shell(self, env: Mapping[str, str] | None = None) -> str:
        """A new cmd shell with UTF-8 output (code page 65001)."""
        shell_id = self._call(
            "open a shell",
            lambda: self.protocol.open_shell(
                codepage=self.options.codepage,
                env_vars=dict(env) if env else None,
                noprofile=True,
            ),
        )
        log.debug("%s: shell %s opened", self.name, shell_id)
        return shell_id

    def close_shell(self, shell_id: str) -> None:
        """Delete a shell; a failure is logged, never raised (cleanup must go on)."""
        try:
            self._call(
                "close a shell",
                lambda: self.protocol.close_shell(shell_id, close_session=False),
            )
            log.debug("%s: shell %s closed", self.name, shell_id)
        except TransportError as error:
            gone = isinstance(error, RemoteFault) and error.code == SHELL_NOT_FOUND
            level = logging.DEBUG if gone else logging.WARNING
            log.log(level, "%s: shell %s not closed: %s", self.name, shell_id, error)

    def close(self) -> None:
        """Drop the HTTP connections."""
        self.protocol.transport.close_session()

    def execute(
        self,
        shell_id: str,
        line: str,
        *,
        timeout: float,
        stdin: Iterable[bytes] | None = None,
    ) -> Output:
        """Run a command line in a shell and wait for it, at most `timeout` seconds.

        A command that prints nothing for longer than the operation timeout is
        still running: the service answers each poll with a timeout fault and we
        poll again.  Past `timeout` the command is signalled to terminate and
        CommandTimeout is raised.  Known limit: WinRM's terminate signal ends the
        command's own process; a program it started in the background may keep
        running until its shell is deleted (close(), or the next reconnection).
        """
        try:
            command_id = self._call(
                "start a command", lambda: self.protocol.run_command(shell_id, line)
            )
        except Refused:
            raise
        except TransportError as error:
            raise NotStarted(error) from error
        lost = False
        try:
            if stdin is not None:
                self._send(shell_id, command_id, stdin)
            return self._receive(
                shell_id, command_id, line, time.monotonic() + timeout, timeout
            )
        except ConnectionLost:
            lost = True  # nothing to signal over a broken connection
            raise
        finally:
            if not lost:
                self._cleanup(shell_id, command_id)

    def _send(self, shell_id: str, command_id: str, chunks: Iterable[bytes]) -> None:
        pending: bytes | None = None
        for chunk in chunks:
            if pending is not None:
                self._send_one(shell_id, command_id, pending, end=False)
            pending = chunk
        self._send_one(shell_id, command_id, pending or b"", end=True)

    def _send_one(self, shell_id: str, command_id: str, data: bytes, end: bool) -> None:
        self._call(
            "send input",
            lambda: self.protocol.send_command_input(
                shell_id, command_id, data, end=end
            ),
        )

    def _receive(
        self, shell_id: str, command_id: str, line: str, deadline: float, timeout: float
    ) -> Output:
        out, err = [], []
        while True:
            if time.monotonic() > deadline:
                raise CommandTimeout(
                    f"{self.name}: {_short(line)} ran past {timeout:g}s"
                    " and was terminated"
                )
            try:
                stdout, stderr, code, done = self._call(
                    "receive output",
                    lambda: self.protocol.get_command_output_raw(shell_id, command_id),
                )
            except _PollAgain:
                continue
            out.append(stdout)
            err.append(stderr)
            if done:
                return Output(b"".join(out), b"".join(err), code)

    def _cleanup(self, shell_id: str, command_id: str) -> None:
        try:
            self._call(
                "end a command",
                lambda: self.protocol.cleanup_command(shell_id, command_id),
            )
        except TransportError as error:
            log.debug("%s: command %s not signalled: %s", self.name, command_id, error)

    def _call(self, what: str, fn: Any) -> Any:
        """Call pywinrm; translate what it raises (the original kept as cause)."""
        try:
            return fn()
        except WinRMOperationTimeoutError as error:
            raise _PollAgain() from error
        except Exception as error:  # noqa: BLE001 - every library error is translated
            raise self._translate(what, error) from error

    def _translate(self, what: str, error: Exception) -> TransportError:
        text = mask(str(error), [self._password])
        where = f"{self.name} ({self.endpoint}): cannot {what}"
        if isinstance(error, requests.exceptions.SSLError):
            return CertificateRejected(
                f"{where}: TLS certificate check failed: {text}; "
                "trust the host's certificate (ca_trust_path) or "
                "turn validation off explicitly (validate: false)"
            )
        if isinstance(error, requests.exceptions.RequestException):
            return ConnectionLost(
                f"{where}: connection lost: {type(error).__name__}: {text}"
            )
        if isinstance(error, InvalidCredentialsError):
            return CredentialsRejected(
                f"{where}: the credentials were rejected (HTTP 401)"
            )
        if isinstance(error, WSManFaultError):
            code = error.wsman_fault_code
            return RemoteFault(
                f"{where}: fault {_hex(code)} (HTTP {error.code}): "
                f"{mask(error.reason, [self._password])}",
                code=code,
                status=error.code,
            )
        if isinstance(error, WinRMTransportError):
            return RemoteFault(
                f"{where}: HTTP {error.code}", code=None, status=error.code
            )
        if isinstance(error, (WinRMError, ValueError, KeyError, StopIteration)):
            return TransportError(f"{where}: {type(error).__name__}: {text}")
        return TransportError(f"{where}: unexpected {type(error).__name__}: {text}")


class _PollAgain(Exception):
    """The answer to a poll that saw no output within the operation timeout."""


def _hex(code: int | None) -> str:
    return "none" if code is None else f"0x{code & 0xFFFFFFFF:08X}"


def _short(line: str, limit: int = 120) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."
