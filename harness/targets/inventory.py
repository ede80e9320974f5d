"""The inventory target: existing Windows hosts listed in matrix.yaml.

    platforms:
      win2022-lab:
        target: inventory
        os: windows
        hosts:
          - {name: lab1, address: 192.0.2.10, scheme: https, port: 5986}
          - {name: lab2, address: 192.0.2.11, options: {validate: false}}

Credentials never come from matrix.yaml (a password key there is a configuration
error): they come from the environment or a file it names (harness/secrets.py, whose
`preflight` checks them before a run starts).

With several hosts, pytest-xdist worker N uses host N modulo their number, so that
workers of one platform do not share a machine.  Inventory hosts cannot be reverted:
a known limit, the suites of a run share each host's state (logged once).
"""

from __future__ import annotations

import logging
import os

from harness import matrix
from harness.errors import ConfigError, TransportError
from harness.run import Run
from harness.secrets import credentials
from harness.targets import Host
from harness.targets.winrm_config import HostEntry, host_entry
from harness.transports.winrm import WinRMTransport

log = logging.getLogger(__name__)


class InventoryTarget:
    """The Target contract for a host that already exists."""

    def __init__(
        self,
        platform_name: str,
        platform: matrix.Platform,
        run: Run,
        *,
        destroy: str = "never",
        **_: object,
    ) -> None:
        self.name = platform_name
        self.platform = platform
        self.run = run
        where = f"matrix.yaml: platforms.{platform_name}.hosts"
        if not platform.hosts:
            raise ConfigError(f"{where}: an inventory platform lists at least one host")
        self.entries = [
            host_entry(where, i, raw) for i, raw in enumerate(platform.hosts)
        ]
        self.host: Host | None = None
        self._warned = False

    def up(self) -> Host:
        """Connect to this worker's host and wait until it answers."""
        entry = self.entry()
        transport = self._transport(entry)
        try:
            transport.wait_ready(self.platform.boot_timeout)
        except BaseException:
            transport.close()
            raise
        facts = dict(transport.facts)
        facts.setdefault("os_build", facts.get("build"))
        self.host = Host(
            platform=self.name,
            name=entry.name,
            transport=transport,
            address=entry.address,
            facts=facts,
        )
        return self.host

    def revert(self, state: str = "clean") -> bool:
        """An existing host has no saved states (a known limit): False."""
        if not self._warned:
            log.info(
                "%s: inventory hosts are not reverted; the suites share the "
                "host's state",
                self.name,
            )
            self._warned = True
        return False

    def save(self, state: str) -> bool:
        return False

    def down(self, *, passed: bool) -> None:
        if self.host is not None:
            self.host.transport.close()
            self.host = None

    def status(self) -> str:
        """running when the host answers within a minute, else unknown."""
        with self._transport(self.entry()) as transport:
            try:
                transport.wait_ready(60)
            except TransportError as error:
                log.info("%s: %s", self.name, error)
                return "unknown"
        return "running"

    def entry(self) -> HostEntry:
        """The host of this pytest-xdist worker (the first one without xdist)."""
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        number = int(worker[2:]) if worker[2:].isdigit() else 0
        return self.entries[number % len(self.entries)]

    def _transport(self, entry: HostEntry) -> WinRMTransport:
        user, password = credentials(self.name)
        return WinRMTransport(
            f"{self.name}/{entry.name}",
            entry.address,
            port=entry.port,
            scheme=entry.scheme,
            user=user,
            password=password,
            options={**self.platform.winrm, **entry.options},
            where=f"matrix.yaml: platforms.{self.name}.hosts[{entry.name}]",
        )
