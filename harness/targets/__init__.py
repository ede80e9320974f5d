"""Targets: how a platform's machine comes to exist.

    target = targets.driver("local")(platform_config, run)
    host = target.up()        # a Host with a connected transport
    target.save(targets.prepared("wine"))    # after the engine's prepare()
    target.revert(targets.prepared("wine"))  # before each service suite
    target.down(passed=True)  # what happens to the machine depends on --destroy

Saved states are named: `clean` is the machine as provisioning left it, and
``clean-<engine>`` the clean machine with that engine prepared on it (its artifact
installed, the guest tools uploaded), so that every suite starts from the same
machine and still has what prepare() put there.

A target is found by name and imported on first use (python-vagrant is only needed
for `vagrant`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from harness.transports import Transport, _load

CLEAN = "clean"


def prepared(engine: str) -> str:
    """The name of the saved state of a clean machine with `engine` prepared."""
    return f"{CLEAN}-{engine}"


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

    def revert(self, state: str = CLEAN) -> bool:
        """Return the machine to a saved state; False when it has no such state
        (then the machine stays as it is)."""

    def save(self, state: str) -> bool:
        """Save the machine as it is now under `state`, replacing an older one of
        that name; False when the target cannot save states."""

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
