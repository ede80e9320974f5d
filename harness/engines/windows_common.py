"""What every Windows engine shares: guest tools, the engine artifact, templates,
duplication of a service and the host side (the client machine is in
windows_client.py).

An engine on Windows reaches its host through the WinRM transport (`run`,
`run_line`, `powershell`, `upload`, `upload_bytes`).  Guest tools live in
C:\\harness on the host; each engine makes them visible inside its containers.

Templates are command lines written in matrix.yaml with ``{placeholders}``; every
substituted value is quoted for the shell that reads it, so that a value can never
become a second command:

    >>> render("docker rm -f {container}", {"container": "a&b"}, "cmd")
    'docker rm -f a^&b'
    >>> render("Remove-Box {container}", {"container": "a'b"}, "powershell")
    "Remove-Box 'a''b'"
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import guest, matrix
from harness.engines import options as engine_options
from harness.errors import ConfigError, EngineError, GuestError, TransportError
from harness.run import Run
from harness.services import Service
from harness.targets import Host
from harness.transports import CommandResult
from harness.transports.winrm_scripts import cmd_quote, ps_quote

log = logging.getLogger(__name__)
GUEST_HOME = "C:\\harness"
# The guest tools alone (C:\\harness also holds engine artifacts, staged files and
# the host side's identity), for engines that copy them into their containers.
GUEST_TOOLS = f"{GUEST_HOME}\\guest-tools"
IDENTITY = f"{GUEST_HOME}\\identity.txt"
SHELLS = engine_options.SHELLS
REPO = Path(__file__).resolve().parents[2]
NOT_INSTALLED = 1060  # ERROR_SERVICE_DOES_NOT_EXIST, from sc.exe and the probe

Value = str | Sequence[str]


def windows_transport(host: Host, engine: str) -> Any:
    """The host's transport, checked to be one that runs Windows command lines."""
    transport = host.transport
    for needed in ("run_line", "powershell", "upload_bytes"):
        if not hasattr(transport, needed):
            raise EngineError(
                f"{engine} needs a Windows host reached through WinRM; "
                f"{host.name} has the {type(transport).__name__}"
            )
    return transport


# --- templates ----------------------------------------------------------------------


def quote(value: str, shell: str) -> str:
    """One value quoted for `shell` (cmd or powershell).

    Known limit on the powershell path: exact for cmdlets; a native program gets
    embedded double quotes unescaped from Windows PowerShell 5.1 (see command.py).
    """
    return ps_quote(value) if shell == "powershell" else cmd_quote(value)


def render(template: str, values: Mapping[str, Value], shell: str = "cmd") -> str:
    """The template with every placeholder replaced by its quoted value.

    A list value (``{argv}``) becomes its items, each quoted.  An unknown
    placeholder raises KeyError naming it; check templates with `check_template`.
    """
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field is None:
            continue
        if field not in values:
            raise KeyError(field)
        value = values[field]
        items = [value] if isinstance(value, str) else list(value)
        parts.append(" ".join(quote(item, shell) for item in items))
    return "".join(parts)


def check_template(
    where: str, template: Any, placeholders: Sequence[str], shell: str
) -> str:
    """A template from matrix.yaml, validated: ConfigError names the key and why.

    The matrix checks every template when it is loaded (engines/options.py); this
    check stays for engines made from a configuration that did not come from it.
    `shell` does not change what is valid: quoting never fails.
    """
    if not isinstance(template, str):
        raise ConfigError(f"{where}: a command template (text) is expected")
    problem = engine_options.template_problem(template, placeholders)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return template


def run_template(
    transport: Any,
    template: str,
    values: Mapping[str, Value],
    shell: str,
    *,
    timeout: float = 300.0,
) -> CommandResult:
    """Render and run a template in its shell; the result is returned unchecked."""
    line = render(template, values, shell)
    if shell == "powershell":
        return transport.powershell(line, timeout=timeout)
    return transport.run_line(line, timeout=timeout)


def checked(result: CommandResult, what: str) -> CommandResult:
    """`result` when it exited 0, else EngineError with the end of its stderr."""
    if result.exit_code != 0:
        tail = (result.stderr.strip() or result.stdout.strip())[-500:]
        raise EngineError(f"{result.host}: {what} exited {result.exit_code}: {tail}")
    return result


# --- prepare: guest tools and the engine artifact -----------------------------------


def upload_guest_tools(transport: Any) -> str:
    """Copy the built guest tools to C:\\harness on the host, where the host side
    runs them, and to C:\\harness\\guest-tools, the folder that engines copy into
    containers; returns their version."""
    tools = guest.tools()
    files = tools.files()
    if not files:
        raise GuestError(f"no guest tools in {tools.folder}; run `make -C guest`")
    for path in files:
        transport.upload(path, f"{GUEST_HOME}\\{path.name}")
        transport.upload(path, f"{GUEST_TOOLS}\\{path.name}")
    return tools.version


def deploy_artifact(
    transport: Any, engine: str, config: matrix.Engine, where: str
) -> str | None:
    """Upload `artifact` and run `install` with {artifact} set to where it landed.

    Returns the artifact's path on the host (None when the engine has none).
    """
    if not config.artifact:
        if config.install:
            _install(transport, config.install, "", where)
        return None
    local = artifact_path(config.artifact, where)
    remote = f"{GUEST_HOME}\\engines\\{engine}\\{local.name}"
    try:
        transport.upload(local, remote)
    except TransportError as error:
        raise EngineError(
            f"{engine}: artifact {local} could not be deployed: {error}"
        ) from error
    if config.install:
        _install(transport, config.install, remote, where)
    return remote


def artifact_path(artifact: str, where: str) -> Path:
    """The artifact on this machine: as written, or relative to the repository.

    An artifact given as a URL is not fetched by the harness (the lab has no route
    to the internet by design); the message says to download it first.
    """
    if re.match(r"^[a-z][a-z0-9+.-]*://", artifact, re.I):
        raise ConfigError(
            f"{where}.artifact: {artifact} is a URL; download it into "
            "the repository or a cache folder and name that file"
        )
    path = Path(artifact).expanduser()
    for candidate in (path, REPO / path):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"{where}.artifact: {artifact}: no such file (relative paths "
        f"are looked up here and in {REPO})"
    )


def _install(transport: Any, template: str, remote: str, where: str) -> None:
    check_template(f"{where}.install", template, ["artifact"], "cmd")
    result = run_template(
        transport, template, {"artifact": remote}, "cmd", timeout=1800
    )
    checked(result, "the install command")


# --- duplication and the places guest tools run -------------------------------------


def duplicate(container: Any, service: Service) -> list[CommandResult]:
    """Start `service` inside `container`; the results are the checks' evidence.

    The ordinary service is created from dupsvc.exe first.  Only a missing or
    broken guest tool raises: a service that does not start is what the `starts`
    check reports, not an error of the harness.
    """
    container.write_file(IDENTITY, container.identity.encode("utf-8"))
    if service.name == "ordinary":
        name = service.scm_names[0]
        # The binary path is one argument: the service's own command line.
        binpath = f"{GUEST_HOME}\\dupsvc.exe --port {service.port}"
        steps = [["scm", "create", name, binpath], ["scm", "start", name]]
    else:
        names = service.windows_scm_names or service.scm_names
        steps = [["scm", "start", name] for name in names]
    results = [container.guest("probe", *step) for step in steps]
    for result in results:
        _require_json(result)
    return results


def _require_json(result: CommandResult) -> None:
    if not result.stdout.lstrip().startswith("{"):
        raise GuestError(
            f"{result.host}: {' '.join(result.argv)} printed no JSON "
            f"(exit {result.exit_code}): {result.stderr.strip()[-300:]}"
        )


def service_exists(transport: Any, name: str) -> bool:
    """Whether an SCM service exists, decided on sc.exe's exit code alone.

    1060 means it does not exist, in every language of Windows; the text sc.exe
    prints is localized and never read.
    """
    result = transport.run(["sc.exe", "query", name], timeout=60)
    if result.exit_code == NOT_INSTALLED:
        return False
    if result.exit_code == 0:
        return True
    raise TransportError(
        f"{result.host}: sc.exe query {name} exited {result.exit_code}"
    )


def require_service(transport: Any, engine: str, name: str, where: str) -> None:
    """EngineError when the engine's own service is not installed: its install
    command did not install it (or it has none), so nothing else could work."""
    if not service_exists(transport, name):
        raise EngineError(
            f"{engine}: the service {name} does not exist on {transport.name} "
            f"(sc.exe query: {NOT_INSTALLED}); the engine is not installed: check "
            f"{where}.artifact and {where}.install"
        )


def new_identity(engine: str, name: str) -> str:
    """What a container's instance answers with, unique per container and run."""
    return f"{engine}:{name}:{secrets.token_hex(4)}"


class GuestTools:
    """guest(): run one of the guest tools in GUEST_HOME through the class's run()."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        raise NotImplementedError

    def guest(
        self,
        tool: str,
        *args: str,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        return self.run([f"{GUEST_HOME}\\{tool}.exe", *args], timeout=timeout, env=env)


class WindowsEngine:
    """What every engine on a Windows host holds: its host, options, run, transport."""

    def __init__(self, host: Host, name: str, config: matrix.Engine, run: Run) -> None:
        self.host = host
        self.name = name
        self.config = config
        self.run = run
        self.where = f"matrix.yaml: engines.{name}"
        self.transport = windows_transport(host, name)


class HostSide(GuestTools):
    """The host's own instance of every service: guest tools run on the host."""

    def __init__(self, host: Host, engine: str, role: str = "host") -> None:
        self.host = host
        self.transport = windows_transport(host, engine)
        self.name = role
        self.role = role
        self.address = host.address
        self.identity = new_identity(engine, role)

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        result: CommandResult = self.transport.run(argv, timeout=timeout, env=env)
        return result

    def write_file(self, path: str, data: bytes) -> None:
        self.transport.upload_bytes(data, path)


def host_side_of(engine: Any) -> HostSide:
    """The engine's host side: one per engine, so its identity stays the same
    for every check (a new one per call would never match what the host's
    instance answers with)."""
    side = getattr(engine, "_host_side", None)
    if side is None:
        side = engine._host_side = HostSide(engine.host, engine.name)
    return side


def write_host_identity(engine: Any) -> None:
    """Write the host side's identity on the host, during prepare(), so that the
    saved clean-<engine> state holds it and every suite finds it there."""
    side = host_side_of(engine)
    side.write_file(IDENTITY, side.identity.encode("utf-8"))
