"""The local target: this Linux machine, already up; nothing to bring up or down."""

from __future__ import annotations

import platform as pyplatform
import socket

from harness.matrix import Platform
from harness.run import Run
from harness.targets import Host
from harness.transports.local import LocalTransport


class LocalTarget:
    def __init__(self, name: str, platform: Platform, run: Run, **_: object) -> None:
        self.name = name
        self.platform = platform
        self.run = run

    def up(self) -> Host:
        return Host(
            platform=self.name,
            name=socket.gethostname(),
            transport=LocalTransport(),
            facts={"kernel": pyplatform.release(), "machine": pyplatform.machine()},
        )

    def revert(self, state: str = "clean") -> bool:
        """This machine has no saved states: engines keep what they prepared."""
        return False

    def save(self, state: str) -> bool:
        return False

    def down(self, *, passed: bool) -> None:
        return None

    def status(self) -> str:
        return "running"
