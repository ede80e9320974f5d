"""WinRM transport: commands and files on a Windows host through pywinrm.

    transport = WinRMTransport("win2022", "192.0.2.10", user="vagrant",
                               password=Secret(os.environ["HARNESS_WINRM_PASSWORD"]))
    transport.wait_ready(timeout=600)
    transport.run(["cmd", "/c", "exit", "2"], timeout=30).exit_code   # 2
    transport.powershell("param($Name) Get-Service $Name", {"Name": "Spooler"})
    transport.close()

What it takes care of, and why:

* Authentication is NTLM with message encryption over HTTP, or HTTPS with the
  certificate validated (turning validation off is explicit and logged).
* The shell uses code page 65001 and PowerShell writes UTF-8, so non-ASCII text and
  file names survive; OEM-encoded output and CLIXML on stderr are decoded (decode.py).
* Exit codes are kept on both paths (`run` through cmd.exe, `powershell` through a
  wrapper), and scripts too long for a command line are uploaded and run from a file.
* A quiet command keeps being polled; a command past its timeout is terminated.
* The first contact of a host waits connect_timeout for a TCP connection to the
  WinRM port, then fails naming the address and port; the longer waits
  (boot_timeout, reboot_grace) are for a host that answered once.
* The first command of a session gets one warm-up retry (freshly booted hosts often
  fail it); a broken connection is re-established, a reboot is recognised by a new
  boot time, "RPC server unavailable" is retried for a grace period.
* An expired evaluation licence is an infrastructure error with that reason
  (TargetError), found when the host is first ready (the licensing service's event,
  or an evaluation end date in the past), after a reboot, and when a host that
  stopped answering does not come back after its known end date: the licensing
  service shuts such a machine down, which would otherwise read as a plain "did
  not come back".
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from harness.errors import CommandTimeout, TransportError
from harness.secrets import Secret
from harness.transports import CommandResult, Stopwatch, log_command
from harness.transports import winrm_files as files
from harness.transports import winrm_licence as licence
from harness.transports.decode import decode_output, decode_stderr
from harness.transports.winrm_options import WinRMOptions
from harness.transports.winrm_scripts import (
    BOOT_TIME,
    CMD_LINE_LIMIT,
    FACTS,
    command_line,
    encoded_command,
    file_command,
    script_file_bytes,
    wrap,
)
from harness.transports.winrm_session import (
    RPC_UNAVAILABLE,
    SHELL_NOT_FOUND,
    ConnectionLost,
    NotStarted,
    Output,
    Refused,
    RemoteFault,
    WinRMSession,
    reach,
)

log = logging.getLogger(__name__)


class WinRMTransport:
    """The Transport contract on one Windows host, through WS-Management."""

    def __init__(
        self,
        name: str,
        address: str,
        *,
        user: str,
        password: Secret | str,
        port: int | None = None,
        scheme: str = "http",
        options: Mapping[str, Any] | None = None,
        where: str | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self.options = WinRMOptions.from_mapping(
            options, scheme=scheme, where=where or f"WinRM options of {name}"
        )
        self.port = port or (5986 if scheme == "https" else 5985)
        host = f"[{address}]" if ":" in address else address
        self.endpoint = f"{scheme}://{host}:{self.port}/wsman"
        self._reached = False  # a connection to the host opened once
        self._user = user
        self._password = password if isinstance(password, Secret) else Secret(password)
        self._session: WinRMSession | None = None
        self._shell_id: str | None = None
        self._stale_shells: list[str] = []
        self._commands = 0
        self.facts: dict[str, Any] = {}
        self.boot_time: str | None = None

    # --- the Transport contract ------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> CommandResult:
        """Run argv through cmd.exe, every argument quoted so that nothing else runs."""
        return self.run_line(
            command_line(argv), timeout=timeout, env=env, stdin=stdin, argv=tuple(argv)
        )

    def upload(self, local: Path, remote: str) -> None:
        """Copy a file to the host, verified by SHA-256 on the host."""
        files.upload_file(self, local, remote, self._line_chunk())

    def upload_bytes(self, data: bytes, remote: str) -> None:
        """Write bytes to a file on the host, verified like `upload`."""
        files.upload_bytes(self, data, remote, self._line_chunk())

    def download(self, remote: str, local: Path) -> None:
        """Copy a file from the host, verified by SHA-256 here."""
        files.download_file(self, remote, local, self._line_chunk())

    def wait_ready(self, timeout: float) -> None:
        """Return when the host runs commands, its facts are known and its licence
        has not expired (TargetError when it has)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.boot_time = self._read_boot_time()  # no retries of its own
                self.load_facts()
                break
            except Refused:
                raise
            except TransportError as error:
                if time.monotonic() + self.options.retry_interval > deadline:
                    self._gave_up(
                        f"{self.name} did not answer within {timeout:g}s: {error}",
                        error,
                    )
                log.info("%s: not ready yet (%s); trying again", self.name, error)
                self._reset()
                time.sleep(self.options.retry_interval)
        self._check_licence(self.boot_time)

    def close(self) -> None:
        """Delete the shells and drop the connection; safe to call twice."""
        session, self._session = self._session, None
        if session is None:
            return
        for shell_id in [*self._stale_shells, self._shell_id]:
            if shell_id:
                session.close_shell(shell_id)
        self._shell_id, self._stale_shells = None, []
        session.close()

    def forget(self) -> None:
        """Drop the session and shells without closing them.

        For a host restored from a snapshot: its shells are gone with the state that
        held them, so there is nothing to delete and the next command reconnects.
        """
        session, self._session = self._session, None
        self._shell_id, self._stale_shells = None, []
        if session is not None:
            session.close()

    def __enter__(self) -> WinRMTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # --- Windows specifics -----------------------------------------------------------

    def run_line(
        self,
        line: str,
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | Iterator[bytes] | None = None,
        argv: tuple[str, ...] | None = None,
    ) -> CommandResult:
        """Run a command line as cmd.exe reads it (for templates already quoted)."""
        if len(line) > CMD_LINE_LIMIT:
            raise TransportError(
                f"{self.name}: command line of {len(line)} characters "
                f"exceeds cmd.exe's {CMD_LINE_LIMIT}"
            )
        chunks = self._stdin_chunks(stdin)
        watch = Stopwatch()
        output = self._execute(line, timeout=timeout, env=env, stdin=chunks)
        return self._result(argv or (line,), output, watch)

    def powershell(
        self,
        script: str,
        params: Mapping[str, str | int] | None = None,
        *,
        timeout: float = 60.0,
        stdin: Iterator[bytes] | None = None,
    ) -> CommandResult:
        """Run a PowerShell script with parameters; long scripts go through a file."""
        text = wrap(script, params)
        argv = _script_argv(script, params)
        line = encoded_command(text)
        if len(line) <= CMD_LINE_LIMIT:
            return self.run_line(line, timeout=timeout, stdin=stdin, argv=argv)
        path = f"{self.options.script_dir}\\hx-{secrets.token_hex(6)}.ps1"
        self.upload_bytes(script_file_bytes(text), path)
        try:
            return self.run_line(
                file_command(path), timeout=timeout, stdin=stdin, argv=argv
            )
        finally:
            files.remove_quietly(self, path)

    def load_facts(self) -> dict[str, Any]:
        """Computer name, OS build, code pages and boot time of the host."""
        result = self.powershell(FACTS, timeout=120).check()
        try:
            facts = json.loads(result.stdout)
        except ValueError as error:
            raise TransportError(
                f"{self.name}: facts are not JSON: {result.stdout[:200]!r}"
            ) from error
        self.facts.update(facts)
        self.boot_time = str(facts.get("boot_time"))
        return self.facts

    def reboot(self, timeout: float = 900.0) -> None:
        """Restart the host and return when it answers with a new boot time."""
        before = self.boot_time or self._read_boot_time()
        try:
            self.run(["shutdown.exe", "/r", "/t", "0", "/d", "p:4:1"], timeout=60)
        except TransportError as error:
            log.info("%s: connection ended by the reboot: %s", self.name, error)
        self._reset()
        self.boot_time = self._wait_for_boot(timeout, until_not=before)
        self.facts["boot_time"] = self.boot_time
        log.info("%s: rebooted (boot time %s)", self.name, self.boot_time)

    # --- execution, retries and recovery ---------------------------------------------

    def _execute(
        self,
        line: str,
        *,
        timeout: float,
        env: Mapping[str, str] | None,
        stdin: Iterator[bytes] | None,
    ) -> Output:
        first = self._commands == 0
        self._commands += 1
        try:
            return self._attempt(line, timeout=timeout, env=env, stdin=stdin)
        except (CommandTimeout, Refused):
            raise
        except TransportError as error:
            if isinstance(error, NotStarted):
                # It did not run, so its input is untouched and it can run again.
                self._warm_up(error) if first else self._recover(error)
                return self._attempt(line, timeout=timeout, env=env, stdin=stdin)
            if first and stdin is None:
                self._warm_up(error)
                return self._attempt(line, timeout=timeout, env=env, stdin=None)
            if isinstance(error, ConnectionLost) or _shell_gone(error):
                self._recover(error)
            raise

    def _warm_up(self, error: TransportError) -> None:
        log.warning(
            "%s: first command failed (%s); one warm-up retry in %gs",
            self.name,
            error,
            self.options.warmup_delay,
        )
        self._reset()
        time.sleep(self.options.warmup_delay)

    def _attempt(
        self,
        line: str,
        *,
        timeout: float,
        env: Mapping[str, str] | None,
        stdin: Iterator[bytes] | None,
    ) -> Output:
        session = self._connect()
        if env:
            shell = self._open_shell(session, env)
            try:
                return session.execute(shell, line, timeout=timeout, stdin=stdin)
            finally:
                session.close_shell(shell)
        if self._shell_id is None:
            self._shell_id = self._open_shell(session, None)
        return session.execute(self._shell_id, line, timeout=timeout, stdin=stdin)

    def _open_shell(self, session: WinRMSession, env: Mapping[str, str] | None) -> str:
        try:
            return session.open_shell(env)
        except Refused:
            raise
        except TransportError as error:
            raise NotStarted(error) from error

    def _connect(self) -> WinRMSession:
        if not self._reached:
            reach(self.name, self.address, self.port, self.options)
            self._reached = True
        if self._session is None:
            if self.endpoint.startswith("https") and not self.options.validate:
                log.warning(
                    "%s: TLS certificate validation is OFF for %s (validate: "
                    "false); the host's identity is not checked",
                    self.name,
                    self.endpoint,
                )
            log.info(
                "%s: connecting to %s as %s (%s)",
                self.name,
                self.endpoint,
                self._user,
                self.options.auth,
            )
            self._session = WinRMSession(
                self.name, self.endpoint, self._user, self._password, self.options
            )
            self._close_stale_shells(self._session)
        return self._session

    def _close_stale_shells(self, session: WinRMSession) -> None:
        # Shells of a broken connection still exist on the host (with their
        # processes and open files) unless the host rebooted; delete them.
        stale, self._stale_shells = self._stale_shells, []
        for shell_id in stale:
            session.close_shell(shell_id)

    def _reset(self) -> None:
        """Forget the session; its shell is deleted through the next session."""
        session, self._session = self._session, None
        if self._shell_id:
            self._stale_shells.append(self._shell_id)
        self._shell_id = None
        if session is not None:
            session.close()

    def _recover(self, error: TransportError) -> None:
        """Reconnect after `error`; recognise a reboot by a changed boot time."""
        before = self.boot_time
        log.info("%s: reconnecting after: %s", self.name, error)
        self._reset()
        now = self._wait_for_boot(self.options.reboot_grace)
        if before and now != before:
            log.warning(
                "%s: the host rebooted (boot time %s, was %s); session re-created",
                self.name,
                now,
                before,
            )
            self._check_licence(before)
        self.boot_time = now

    def _wait_for_boot(self, grace: float, until_not: str | None = None) -> str:
        """The host's boot time once it answers (and differs from `until_not`)."""
        deadline = time.monotonic() + grace
        while True:
            try:
                boot = self._read_boot_time()
                if boot != until_not:
                    return boot
                problem: Exception = TransportError("the boot time has not changed")
            except TransportError as error:
                if not _retryable(error):
                    raise
                problem = error
                self._reset()
            if time.monotonic() + self.options.retry_interval > deadline:
                self._gave_up(
                    f"{self.name} did not come back within {grace:g}s: {problem}",
                    problem,
                )
            log.info("%s: waiting for the host: %s", self.name, problem)
            time.sleep(self.options.retry_interval)

    def _read_boot_time(self) -> str:
        watch = Stopwatch()
        line = encoded_command(wrap(BOOT_TIME))
        output = self._attempt(line, timeout=120, env=None, stdin=None)
        result = self._result(("powershell", "# hx:boot-time"), output, watch).check()
        return result.stdout.strip()

    def _check_licence(self, since: str) -> None:
        licence.check(self, since)

    def _gave_up(self, message: str, error: BaseException) -> NoReturn:
        licence.gave_up(self, message, error)

    # --- helpers ---------------------------------------------------------------------

    def _result(
        self, argv: tuple[str, ...], output: Output, watch: Stopwatch
    ) -> CommandResult:
        oem = self.facts.get("oem_codepage") or 437
        result = CommandResult(
            host=self.name,
            argv=argv,
            exit_code=output.exit_code,
            stdout=decode_output(output.stdout, oem),
            stderr=decode_stderr(output.stderr, oem),
            duration=watch.elapsed(),
        )
        log_command(result)
        return result

    def _line_chunk(self) -> int:
        return files.line_chunk_size(self.options.max_envelope)

    def _stdin_chunks(
        self, stdin: bytes | Iterator[bytes] | None
    ) -> Iterator[bytes] | None:
        if stdin is None or not isinstance(stdin, bytes):
            return stdin
        size = files.stdin_chunk_size(self.options.max_envelope)
        return iter([stdin[i : i + size] for i in range(0, len(stdin), size)] or [b""])


def _retryable(error: TransportError) -> bool:
    """True for what a booting host answers: no connection, RPC not up, no shell."""
    if isinstance(error, NotStarted):
        error = error.reason
    if isinstance(error, ConnectionLost):
        return True
    if isinstance(error, RemoteFault):
        return error.code in (RPC_UNAVAILABLE, SHELL_NOT_FOUND) or error.status in (
            500,
            502,
            503,
        )
    return False


def _shell_gone(error: TransportError) -> bool:
    return isinstance(error, RemoteFault) and error.code == SHELL_NOT_FOUND


def _script_argv(
    script: str, params: Mapping[str, str | int] | None
) -> tuple[str, ...]:
    """How a script appears in logs: its first line and short parameter values."""
    title = script.strip().splitlines()[0][:80] if script.strip() else "(empty)"
    argv = ["powershell", title]
    for name, value in (params or {}).items():
        text = str(value)
        argv += [f"-{name}", text if len(text) <= 80 else text[:77] + "..."]
    return tuple(argv)
