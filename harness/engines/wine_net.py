"""The lab network: Linux network namespaces that the harness creates and removes.

The client machine is a namespace holding a bridge (198.18.N.1); each container
namespace hangs on it through a veth pair and gets the next address.  Nothing is
added to the machine's own namespace, so concurrent runs cannot collide, and the
addresses (198.18.0.0/15, reserved for benchmarking) exist only in these namespaces.

    lab = LabNetwork(run, "wine", record)
    lab.create()                     # client namespace + bridge
    ns, address = lab.attach("c1")   # a namespace for container c1
    lab.remove()
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from harness.errors import EngineError
from harness.run import Run

log = logging.getLogger(__name__)
SUBNET = "198.18.0"
CLIENT_ADDRESS = f"{SUBNET}.1"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")


def check_name(name: str) -> None:
    """EngineError unless `name` can label a folder and a network namespace."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise EngineError(
            f"container name {name!r}: use 1-20 of a-z, 0-9 and '-', "
            "not starting with '-'"
        )


def check_available() -> None:
    """EngineError unless this process can create network namespaces."""
    if os.geteuid() != 0:
        raise EngineError(
            "network isolation needs root: run as root, or choose the "
            "engine wine-shared (see the README)"
        )
    if not shutil.which("ip"):
        raise EngineError(
            "network isolation needs `ip`: install the Debian package iproute2"
        )


def ip(*args: str) -> None:
    """Run one `ip` command; EngineError with its message when it fails."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise EngineError(f"ip {' '.join(args)}: {result.stderr.strip()}")


class LabNetwork:
    def __init__(self, run: Run, engine: str, record: Callable[[str, str], None]):
        if not _NAME.fullmatch(engine):
            raise EngineError(f"engine name {engine!r} cannot label a namespace")
        self.prefix = f"{run.label}-{engine}"
        self.record = record
        self.client_ns = f"{self.prefix}-client"
        self._next = 2
        self._links = 0  # veth names used so far (each attach takes a new one)
        self._lock = threading.Lock()
        self._free: list[int] = []  # host numbers of removed namespaces
        self.index: dict[str, int] = {}
        self.created: list[str] = []

    def create(self) -> None:
        self._add_namespace(self.client_ns)
        ip("-n", self.client_ns, "link", "add", "br0", "type", "bridge")
        ip("-n", self.client_ns, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", "br0")
        ip("-n", self.client_ns, "link", "set", "br0", "up")

    def attach(self, name: str) -> tuple[str, str]:
        """A new namespace on the lab network; returns (namespace, address)."""
        check_name(name)
        with self._lock:  # containers are created from several threads at once
            if self._free:
                index = self._free.pop(0)
            elif self._next > 254:
                raise EngineError("the lab network is full (253 containers at once)")
            else:
                index = self._next
                self._next += 1
            # A fresh link name each time: after `ip netns del` the kernel removes
            # the old namespace's veth a moment later, so reusing the address's
            # number as the name could meet a link that still exists.
            self._links += 1
            veth = f"v{self._links}"
        namespace, address = f"{self.prefix}-{name}", f"{SUBNET}.{index}"
        self.index[namespace] = index
        self._add_namespace(namespace)
        ip(
            "-n",
            self.client_ns,
            "link",
            "add",
            veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            namespace,
        )
        ip("-n", self.client_ns, "link", "set", veth, "master", "br0", "up")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        return namespace, address

    def _add_namespace(self, namespace: str) -> None:
        self.record("netns", namespace)
        ip("netns", "add", namespace)
        self.created.append(namespace)
        ip("-n", namespace, "link", "set", "lo", "up")

    def remove(self, namespace: str | None = None) -> None:
        """Remove one namespace (its veth goes with it), or all of them."""
        for name in [namespace] if namespace else list(reversed(self.created)):
            if Path("/run/netns", name).exists():
                subprocess.run(
                    ["ip", "netns", "del", name], capture_output=True, timeout=30
                )
            if name in self.created:
                self.created.remove(name)
            self._release_address(name)

    def _release_address(self, namespace: str) -> None:
        """Hand a removed container's address to the next one.  The client forgets
        the old owner's hardware address, so the new owner is reachable at once."""
        index = self.index.pop(namespace, None)
        if index is None:
            return
        if Path("/run/netns", self.client_ns).exists():
            subprocess.run(
                [
                    "ip",
                    "-n",
                    self.client_ns,
                    "neigh",
                    "flush",
                    "to",
                    f"{SUBNET}.{index}",
                ],
                capture_output=True,
                timeout=30,
            )
        with self._lock:
            self._free.append(index)


def netns_argv(namespace: str | None, argv: list[str]) -> list[str]:
    """argv run inside `namespace` (unchanged when None)."""
    return ["ip", "netns", "exec", namespace, *argv] if namespace else argv
