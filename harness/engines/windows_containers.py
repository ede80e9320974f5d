"""The windows-containers engine: Windows Server containers through `docker`.

    engines:
      windows-containers:
        kind: windows-containers
        platforms: [win2022]
        options:
          isolation: process        # or hyperv
          images:                   # per platform; `image` is the fallback
            win2022: mcr.microsoft.com/windows/servercore:ltsc2022
          network: transparent      # or nat: see windows_docker_net.py
          addresses: {win2022: 192.168.56.120-192.168.56.129}

Each container is created stopped, gets the guest tools copied into C:\\harness,
then starts with a command that keeps it alive; commands run through `docker exec`.
Process isolation shares the host's kernel, so the image must be of the host's
Windows build: a mismatch is a configuration error naming both builds.  Everything
carries the label ``harness.run=<run label>`` so that close() finds what a run made.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from harness import matrix
from harness.engines import EngineInfo
from harness.engines import options as engine_options
from harness.engines import windows_common as common
from harness.engines.windows_client import WindowsClient
from harness.engines.windows_docker_net import DockerNetwork
from harness.errors import ConfigError, EngineError
from harness.run import Run
from harness.services import Service
from harness.targets import Host
from harness.transports import CommandResult

log = logging.getLogger(__name__)
ISOLATIONS = engine_options.DOCKER_ISOLATIONS
KEEP_ALIVE = ["cmd.exe", "/c", "ping", "-t", "localhost"]
ADDRESS = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"


class DockerContainer(common.GuestTools):
    """One Windows container; guest tools run inside through `docker exec`."""

    role = "container"

    def __init__(self, engine: WindowsContainersEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.docker_name = f"{engine.run.label}-{re.sub(r'[^A-Za-z0-9_.-]', '-', name)}"
        self.identity = common.new_identity(engine.name, name)
        self.address: str | None = None
        self.lab_address: str | None = None  # from the transparent network's pool

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        variables = [f"--env={key}={value}" for key, value in (env or {}).items()]
        return self.engine.docker(
            ["exec", *variables, self.docker_name, *argv], timeout=timeout
        )

    def write_file(self, path: str, data: bytes) -> None:
        """Stage the file on the host, then `docker cp` it in.

        A known limit: copying into a running Hyper-V isolated container is not
        supported by docker on Windows; with isolation hyperv this raises.
        """
        staged = f"{common.GUEST_HOME}\\staging\\{secrets.token_hex(6)}"
        self.engine.transport.upload_bytes(data, staged)
        common.checked(
            self.engine.docker(["cp", staged, f"{self.docker_name}:{path}"]),
            f"docker cp into {self.docker_name}",
        )


class WindowsContainersEngine(common.WindowsEngine):
    """The Engine contract for docker's Windows containers on one host."""

    def __init__(self, host: Host, name: str, config: matrix.Engine, run: Run) -> None:
        super().__init__(host, name, config, run)
        options = config.options
        images = options.get("images") or {}
        image = images.get(host.platform) or options.get("image")
        if not image:
            raise ConfigError(
                f"{self.where}.options: no image for {host.platform}: "
                f"set images.{host.platform} or image (e.g. "
                "mcr.microsoft.com/windows/servercore:ltsc2022)"
            )
        self.image = str(image)
        self.isolation = str(options.get("isolation", "process"))
        if self.isolation not in ISOLATIONS:
            raise ConfigError(
                f"{self.where}.options.isolation: {self.isolation!r}; "
                f"allowed values: {', '.join(ISOLATIONS)}"
            )
        self.network = DockerNetwork(options, host, self.where)
        self.containers: dict[str, DockerContainer] = {}

    def docker(self, args: Sequence[str], *, timeout: float = 300.0) -> CommandResult:
        result: CommandResult = self.transport.run(["docker", *args], timeout=timeout)
        return result

    def prepare(self) -> EngineInfo:
        artifact = common.deploy_artifact(
            self.transport, self.name, self.config, self.where
        )
        common.require_service(self.transport, self.name, "docker", self.where)
        tools = common.upload_guest_tools(self.transport)
        version = common.checked(
            self.docker(["version", "--format", "{{.Server.Version}}"]),
            "docker version",
        )
        details: dict[str, Any] = {
            "image": self.image,
            "isolation": self.isolation,
            "artifact": artifact,
            "guest_tools": tools,
        }
        details.update(self._check_builds())
        details.update(self.network.prepare(self))
        common.write_host_identity(self)
        return EngineInfo(
            self.name, version.stdout.strip(), self.host.platform, details
        )

    def _check_builds(self) -> dict[str, Any]:
        """Pull the image if needed and compare its build with the host's."""
        inspect = ["image", "inspect", "--format", "{{.OsVersion}}", self.image]
        result = self.docker(inspect)
        if result.exit_code != 0:
            common.checked(
                self.docker(["pull", self.image], timeout=3600),
                f"docker pull {self.image}",
            )
            result = self.docker(inspect)
        image_build = _build_of(common.checked(result, "docker image inspect").stdout)
        host_build = self._host_build()
        if self.isolation == "process" and image_build != host_build:
            raise ConfigError(
                f"{self.where}: image {self.image} is Windows build {image_build} but "
                f"{self.host.platform} is build {host_build}; process isolation needs "
                "the same build: choose the image tag of the host's release, or "
                "isolation: hyperv"
            )
        return {"image_build": image_build, "host_build": host_build}

    def _host_build(self) -> int | None:
        build = self.host.facts.get("build") or self.host.facts.get("os_build")
        return int(build) if build is not None else None

    def host_side(self) -> common.HostSide:
        return common.host_side_of(self)

    def client(self) -> WindowsClient:
        return WindowsClient(self.host, self.name, self.network.no_address())

    def create_container(self, name: str) -> DockerContainer:
        container = DockerContainer(self, name)
        network, wanted = self.network.attach()
        create = [
            "create",
            f"--name={container.docker_name}",
            f"--label=harness.run={self.run.label}",
            f"--isolation={self.isolation}",
            f"--hostname={name[:15]}",
            *network,
            self.image,
            *KEEP_ALIVE,
        ]
        container.lab_address = wanted
        try:
            common.checked(
                self.docker(create), f"docker create {container.docker_name}"
            )
        except EngineError:
            self.network.release(wanted)
            raise
        self.containers[name] = container
        common.checked(
            # Into a C:\\harness that does not exist yet: it becomes the folder.
            self.docker(
                [
                    "cp",
                    common.GUEST_TOOLS,
                    f"{container.docker_name}:{common.GUEST_HOME}",
                ]
            ),
            "copy the guest tools in",
        )
        common.checked(
            self.docker(["start", container.docker_name]),
            f"docker start {container.docker_name}",
        )
        container.address = self._address(container)
        return container

    def _address(self, container: DockerContainer) -> str | None:
        """The container's address where the client machine reaches it."""
        shown = common.checked(
            self.docker(["inspect", "--format", ADDRESS, container.docker_name]),
            "docker inspect",
        ).stdout.split()
        if container.lab_address and container.lab_address not in shown:
            raise EngineError(
                f"{container.docker_name} did not get its lab address "
                f"{container.lab_address} (docker inspect: {' '.join(shown)})"
            )
        if container.lab_address or self.network.no_address():
            return container.lab_address
        return shown[0] if shown else None

    def duplicate(
        self, container: DockerContainer, service: Service
    ) -> list[CommandResult]:
        return common.duplicate(container, service)

    def destroy(self, container: DockerContainer) -> None:
        common.checked(
            self.docker(["rm", "--force", container.docker_name]),
            f"docker rm {container.docker_name}",
        )
        self.network.release(container.lab_address)
        self.containers.pop(container.name, None)

    def close(self) -> None:
        """Remove every container carrying this run's label (also a crash's)."""
        listed = self.docker(
            ["ps", "--all", "--quiet", f"--filter=label=harness.run={self.run.label}"]
        )
        for container_id in listed.stdout.split():
            result = self.docker(["rm", "--force", container_id])
            if result.exit_code != 0:
                log.error(
                    "%s: container %s not removed: %s",
                    self.name,
                    container_id,
                    result.stderr.strip()[-300:],
                )
        self.containers.clear()


def _build_of(os_version: str) -> int:
    """The build number of an OsVersion such as 10.0.20348.2700."""
    parts = os_version.strip().split(".")
    if len(parts) < 3 or not parts[2].isdigit():
        raise EngineError(f"cannot read a Windows build from {os_version.strip()!r}")
    return int(parts[2])
