"""Targets: how a platform's machine comes to exist.

    target = targets.driver("local")(platform_config, run)
    host = target.up()        # a Host with a connected transport
    ...
    target.down(passed=True)  # what happens to the machine depends on --destroy

A target is found by name and imported on first use (python-vagrant is only needed
for `vagrant`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from harness.transports import Transport, _load


@dataclasses.dataclass
class Host:
    """A running machine of a platform, reached through its transport."""

    platform: str
    name: str
    transport: Transport
    address: str | None = None  # where clients on the lab network reach it
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)  # OS build, ...


class Target(Protocol):
    def up(self) -> Host:
        """Bring the machine up (or reuse a running one) and connect its transport."""

    def revert(self) -> None:
        """Return the machine to its clean state before a service suite, if it can."""

    def down(self, *, passed: bool) -> None:
        """Close the transport; halt or destroy the machine as configured."""

    def status(self) -> str:
        """One word: running, stopped, absent, unknown."""


DRIVERS = {
    "local": "harness.targets.local:LocalTarget",
    "vagrant": "harness.targets.vagrant:VagrantTarget",
    "inventory": "harness.targets.inventory:InventoryTarget",
}


def driver(name: str) -> type:
    """The target class for `name`, imported on first use."""
    return _load(DRIVERS, name, "target")
