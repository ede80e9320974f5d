"""The command engine: any engine whose commands are templates in matrix.yaml.

    engines:
      myengine:
        kind: command
        platforms: [win2022]
        artifact: engines/myengine-1.4.zip
        install: powershell -Command Expand-Archive {artifact} C:\\myengine
        options:
          shell: cmd                     # or powershell: how templates are run
          create: C:\\myengine\\me.exe create {container}
          exec: C:\\myengine\\me.exe exec {container} {argv}
          destroy: C:\\myengine\\me.exe rm {container}
          address: C:\\myengine\\me.exe ip {container}        # optional
          copy: C:\\myengine\\me.exe cp {source} {container} {dest}   # optional
          duplicate: C:\\myengine\\me.exe svc {container} {scm_name}  # optional
          version: C:\\myengine\\me.exe --version             # optional

Placeholders: {container} (the engine's name for it, carrying the run label),
{name}, {label}, {argv} (the command to run inside, each item quoted), {source},
{dest}, {service}, {scm_name}.  Every value is quoted for the template's shell.

Known limit of ``shell: powershell``: a value is a single-quoted PowerShell literal,
exact for cmdlets, but Windows PowerShell 5.1 hands a native program (an .exe) its
arguments without escaping embedded double quotes: ``say "hi" now`` arrives as
``say hi now``, and a value with a quote and a space can split in two.  Container
names and guest tool paths hold no double quotes, but probe arguments in {argv}
(event texts, the stateful machine's marker names) may, and would reach the probe
altered; ``shell: cmd`` quotes exactly for native programs and is the one to use
for exec templates.
Without `duplicate`, services are duplicated with the guest tools through `exec`;
without `copy`, the guest tools must already be visible inside the container (an
engine that shares the host's C:\\harness).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from harness import matrix
from harness.engines import EngineInfo
from harness.engines import options as engine_options
from harness.engines import windows_common as common
from harness.engines.windows_client import WindowsClient
from harness.errors import ConfigError, EngineError
from harness.run import Run
from harness.services import Service
from harness.targets import Host
from harness.transports import CommandResult

log = logging.getLogger(__name__)
TEMPLATES = engine_options.TEMPLATES


class CommandContainer(common.GuestTools):
    """A container of a templated engine; commands inside go through `exec`."""

    role = "container"

    def __init__(self, engine: CommandEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.container = f"{engine.run.label}-{name}"
        self.identity = common.new_identity(engine.name, name)
        self.address: str | None = None

    def values(self, **more: common.Value) -> dict[str, common.Value]:
        return {
            "container": self.container,
            "name": self.name,
            "label": self.engine.run.label,
            **more,
        }

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        if env:
            raise EngineError(
                f"{self.engine.name}: the exec template cannot pass "
                "environment variables"
            )
        return self.engine.template(
            "exec", self.values(argv=list(argv)), timeout=timeout
        )

    def write_file(self, path: str, data: bytes) -> None:
        """Write through `copy`: to a file on the host, then into the container."""
        if "copy" not in self.engine.templates:
            raise EngineError(
                f"{self.engine.name}: no copy template, so files cannot "
                "be written into its containers"
            )
        staged = f"{common.GUEST_HOME}\\staging\\{secrets.token_hex(6)}"
        self.engine.transport.upload_bytes(data, staged)
        common.checked(
            self.engine.template("copy", self.values(source=staged, dest=path)),
            f"copy into {self.container}",
        )


class CommandEngine(common.WindowsEngine):
    """The Engine contract, each step a template from the engine's options."""

    def __init__(self, host: Host, name: str, config: matrix.Engine, run: Run) -> None:
        super().__init__(host, name, config, run)
        self.shell = str(config.options.get("shell", "cmd"))
        if self.shell not in common.SHELLS:
            raise ConfigError(
                f"{self.where}.options.shell: {self.shell!r}; allowed "
                f"values: {', '.join(common.SHELLS)}"
            )
        self.templates = self._templates(config.options)
        self.containers: dict[str, CommandContainer] = {}

    def _templates(self, options: Mapping[str, Any]) -> dict[str, str]:
        unknown = sorted(set(options) - set(TEMPLATES) - {"shell"})
        if unknown:
            raise ConfigError(
                f"{self.where}.options: unknown key {unknown[0]!r}; "
                f"allowed keys: shell, {', '.join(TEMPLATES)}"
            )
        found = {}
        for key, (required, placeholders) in TEMPLATES.items():
            if key not in options:
                if required:
                    raise ConfigError(
                        f"{self.where}.options: required template {key!r} is missing"
                    )
                continue
            found[key] = common.check_template(
                f"{self.where}.options.{key}", options[key], placeholders, self.shell
            )
        return found

    def template(
        self, key: str, values: Mapping[str, common.Value], *, timeout: float = 300.0
    ) -> CommandResult:
        """Run one of the engine's templates (unchecked result)."""
        return common.run_template(
            self.transport, self.templates[key], values, self.shell, timeout=timeout
        )

    def prepare(self) -> EngineInfo:
        artifact = common.deploy_artifact(
            self.transport, self.name, self.config, self.where
        )
        tools = common.upload_guest_tools(self.transport)
        version = "unknown"
        if "version" in self.templates:
            result = common.checked(
                self.template("version", {"label": self.run.label}),
                "the version command",
            )
            version = (
                result.stdout.strip().splitlines()[0]
                if result.stdout.strip()
                else "unknown"
            )
        common.write_host_identity(self)
        return EngineInfo(
            self.name,
            version,
            self.host.platform,
            {"artifact": artifact, "guest_tools": tools, "shell": self.shell},
        )

    def host_side(self) -> common.HostSide:
        return common.host_side_of(self)

    def client(self) -> WindowsClient:
        reason = None
        if "address" not in self.templates:
            reason = f"{self.name} has no address template in {self.where}.options"
        return WindowsClient(self.host, self.name, reason)

    def create_container(self, name: str) -> CommandContainer:
        container = CommandContainer(self, name)
        common.checked(
            self.template("create", container.values()), f"create {container.container}"
        )
        self.containers[name] = container
        if "address" in self.templates:
            result = common.checked(
                self.template("address", container.values()),
                f"address of {container.container}",
            )
            container.address = result.stdout.strip() or None
        return container

    def duplicate(
        self, container: CommandContainer, service: Service
    ) -> list[CommandResult]:
        if "duplicate" not in self.templates:
            return common.duplicate(container, service)
        names = service.windows_scm_names or service.scm_names
        return [
            self.template(
                "duplicate", container.values(service=service.name, scm_name=scm)
            )
            for scm in names
        ]

    def destroy(self, container: CommandContainer) -> None:
        common.checked(
            self.template("destroy", container.values()),
            f"destroy {container.container}",
        )
        self.containers.pop(container.name, None)

    def close(self) -> None:
        """Destroy every container this engine made; problems are logged."""
        for container in list(self.containers.values()):
            try:
                self.destroy(container)
            except EngineError as error:
                log.error("%s: %s", self.name, error)
