"""Where Windows containers sit on the network, so that the client machine reaches
them.

    options:
      network: transparent            # or nat (docker's default)
      addresses:                      # per platform: the containers' lab addresses
        win2022: 192.168.56.120-192.168.56.129
      subnet: 192.168.56.0/24         # default: the /24 of the host's lab address
      gateway: 192.168.56.1           # default: the subnet's first address

``nat`` gives every container an address on docker's NAT network inside the host:
the host reaches it, another machine does not (nothing routes there, and publishing
ports cannot give two containers the same port, which the isolation checks need).
With a separate client machine such containers have no lab address, and every check
that asks over the network is broken with that reason.

``transparent`` puts the containers on the lab network itself: prepare() creates a
docker network of the transparent driver on the host's lab adapter (the one holding
the host's lab address) and each container gets its own address from the
platform's pool, so the client machine reaches each container's own port 135, 80 or
8135.  The hypervisor must let the VM's lab adapter carry other MAC addresses:
VirtualBox promiscuous mode "allow-all" (vms/Vagrantfile sets it), MAC address
spoofing on Hyper-V (by hand).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from harness.engines import options as engine_options
from harness.engines import windows_common as common
from harness.errors import ConfigError, EngineError
from harness.targets import Host

NETWORKS = engine_options.DOCKER_NETWORKS
LAB_NETWORK = "harness-lab"
SHIM = "com.docker.network.windowsshim.interface"

LAB_ADAPTER = """# hx:lab-adapter
param($Address)
(Get-NetIPAddress -IPAddress $Address -ErrorAction Stop).InterfaceAlias"""


class DockerNetwork:
    """The network option of the windows-containers engine on one host."""

    def __init__(self, options: Mapping[str, Any], host: Host, where: str) -> None:
        self.host = host
        self.where = f"{where}.options"
        self.kind = str(options.get("network", "nat"))
        if self.kind not in NETWORKS:
            raise ConfigError(
                f"{self.where}.network: {self.kind!r}; allowed values: "
                f"{', '.join(NETWORKS)}"
            )
        self.pool: list[str] = []
        self.used: set[str] = set()
        if self.kind == "transparent":
            self._configure(options)

    def _configure(self, options: Mapping[str, Any]) -> None:
        platform = self.host.platform
        pools = options.get("addresses") or {}
        if not isinstance(pools, dict) or platform not in pools:
            raise ConfigError(
                f"{self.where}.addresses.{platform}: network: transparent needs "
                "the containers' lab addresses per platform, e.g. "
                "192.168.56.120-192.168.56.129"
            )
        self.pool = _addresses(pools[platform], f"{self.where}.addresses.{platform}")
        if not self.host.address:
            raise ConfigError(
                f"{self.where}.network: transparent needs the host's lab address "
                f"(matrix.yaml: platforms.{platform}.address)"
            )
        default = ipaddress.ip_network(f"{self.host.address}/24", strict=False)
        self.subnet = str(options.get("subnet") or default)
        self.gateway = str(options.get("gateway") or next(default.hosts()))

    def no_address(self) -> str | None:
        """Why containers have no address the client machine reaches (None: they do)."""
        client = self.host.facts.get("client_host")
        if self.kind == "nat" and client is not None and client is not self.host:
            return (
                "windows-containers with network: nat gives containers docker NAT "
                "addresses, which only their host reaches; use network: transparent"
            )
        return None

    def prepare(self, engine: Any) -> dict[str, Any]:
        """Create the transparent network on the lab adapter unless it exists."""
        if self.kind == "nat":
            return {"network": "nat"}
        if engine.docker(["network", "inspect", LAB_NETWORK]).exit_code != 0:
            adapter = common.checked(
                engine.transport.powershell(
                    LAB_ADAPTER, {"Address": self.host.address}, timeout=60
                ),
                f"the adapter of {self.host.address}",
            ).stdout.strip()
            create = [
                "network",
                "create",
                "--driver=transparent",
                f"--subnet={self.subnet}",
                f"--gateway={self.gateway}",
                f"--opt={SHIM}={adapter}",
                LAB_NETWORK,
            ]
            common.checked(engine.docker(create), "docker network create")
        return {"network": "transparent", "subnet": self.subnet}

    def attach(self) -> tuple[list[str], str | None]:
        """docker create's network arguments, and the address they give."""
        if self.kind == "nat":
            return [], None
        free = [a for a in self.pool if a not in self.used]
        if not free:
            raise EngineError(
                f"{self.where}.addresses.{self.host.platform}: all "
                f"{len(self.pool)} container addresses are in use"
            )
        self.used.add(free[0])
        return [f"--network={LAB_NETWORK}", f"--ip={free[0]}"], free[0]

    def release(self, address: str | None) -> None:
        self.used.discard(address or "")


def _addresses(value: Any, where: str) -> list[str]:
    """FIRST-LAST or a list of addresses, validated (the matrix checks ranges when
    it is loaded; this check stays for configurations made elsewhere)."""
    try:
        if isinstance(value, list):
            return [str(ipaddress.ip_address(str(a))) for a in value]
        return engine_options.address_range(str(value))
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
