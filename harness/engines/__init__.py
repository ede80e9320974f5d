"""Engines: the duplication engine under test.

An engine creates containers on a host and duplicates services into them:

    engine = engines.driver("wine")(host, config, run)
    engine.prepare()                          # deploy/install, record version
    c1 = engine.create_container("c1")
    engine.duplicate(c1, services.get("ordinary"))
    c1.guest("probe", "scm", "query", "dupsvc")  # CommandResult of a guest tool
    engine.destroy(c1)
    engine.close()                            # remove everything it made

`host_side()` is the host's own instance of every service (on Wine, the base prefix)
and `client()` the client machine on the lab network.  Everything an engine creates
carries the run's label so that a crashed run's leftovers can be found and removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from harness.transports import CommandResult, _load


class Container(Protocol):
    """One place services run in: a container, the host side, or the client machine."""

    name: str
    role: str  # "container", "host" or "client"
    address: str | None  # address on the lab network, None when it has none
    identity: str  # the identity written into it; answers that carry it came from here

    def guest(
        self,
        tool: str,
        *args: str,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run a guest tool (probe, dupsvc, ...) inside; never raises on exit code."""

    def run(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        """Run any command inside (Windows command line)."""

    def write_file(self, path: str, data: bytes) -> None:
        """Write a file inside, at a Windows path such as C:/harness/identity.txt."""


class Client(Container, Protocol):
    """The client machine: guest tools as a client, plus native client programs."""

    def native(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        """Run a program of the controller's OS on the client machine's network."""


@dataclasses.dataclass
class EngineInfo:
    """What the run's metadata records about a prepared engine."""

    name: str
    version: str
    platform: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


class Engine(Protocol):
    name: str

    def prepare(self) -> EngineInfo: ...

    def host_side(self) -> Container: ...

    def client(self) -> Client: ...

    def create_container(self, name: str) -> Container: ...

    def duplicate(self, container: Container, service: Any) -> None: ...

    def destroy(self, container: Container) -> None: ...

    def close(self) -> None: ...


DRIVERS = {
    "wine": "harness.engines.wine:WineEngine",
    "windows-containers": "harness.engines.windows_containers:WindowsContainersEngine",
    "sandboxie": "harness.engines.sandboxie:SandboxieEngine",
    "command": "harness.engines.command:CommandEngine",
}


def driver(kind: str) -> type:
    """The engine class for `kind`, imported on first use."""
    return _load(DRIVERS, kind, "engine")
