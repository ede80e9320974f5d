"""The WinRM side of a platform in matrix.yaml, checked when the matrix is loaded:
the hosts of an inventory platform and the WinRM options every host will get.

Without this a misspelled host key, a port that is no number or ``auth: basic``
over plain HTTP would pass `harness list` and only break the platform's cells when
a run first builds its transport.  This module imports no WinRM library.

    >>> host_entry("platforms.lab.hosts", 0, {"address": "192.0.2.10"}).port is None
    True
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from harness.errors import ConfigError
from harness.secrets import FILE_VARIABLE
from harness.transports.winrm_options import WinRMOptions

HOST_KEYS = ("name", "address", "port", "scheme", "transport", "options")
SECRET_KEYS = re.compile(r"pass|secret|credential|token|key", re.I)
Loc = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class HostEntry:
    name: str
    address: str
    port: int | None
    scheme: str
    options: dict[str, Any]


def host_entry(where: str, index: int, raw: dict[str, Any]) -> HostEntry:
    """One validated `hosts` item; ConfigError names the key and what is allowed."""
    at = f"{where}[{index}]"
    if not isinstance(raw.get("options") or {}, dict):
        raise ConfigError(f"{at}.options: a mapping of WinRM options is expected")
    options = raw.get("options") or {}
    for key in [*raw, *options]:
        if SECRET_KEYS.search(str(key)):
            raise ConfigError(
                f"{at}.{key}: credentials never go in matrix.yaml; set "
                "HARNESS_WINRM_USER and HARNESS_WINRM_PASSWORD (or a "
                f"file named by {FILE_VARIABLE})"
            )
        if key not in HOST_KEYS and key not in options:
            raise ConfigError(
                f"{at}: unknown key {key!r}; allowed keys: {', '.join(HOST_KEYS)}"
            )
    if not raw.get("address"):
        raise ConfigError(f"{at}: required key 'address' is missing")
    if raw.get("transport", "winrm") != "winrm":
        raise ConfigError(
            f"{at}.transport: {raw['transport']!r}; allowed values: winrm"
        )
    return HostEntry(
        name=str(raw.get("name") or raw["address"]),
        address=str(raw["address"]),
        port=_port(at, raw.get("port")),
        scheme=str(raw.get("scheme", "http")),
        options=dict(options),
    )


def _port(at: str, value: Any) -> int | None:
    if value is None:
        return None
    number = value if isinstance(value, int) else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(value, bool) or number is None or not 0 < number < 65536:
        raise ConfigError(f"{at}.port: {value!r}; allowed values: 1 to 65535")
    return number


def problems(name: str, platform: Any) -> list[tuple[Loc, str]]:
    """What a run would refuse about a platform's WinRM configuration: each as
    (location, text naming the key), the text as the transport would say it.

    Inventory hosts are checked one by one with the platform's `winrm` options
    merged into their own; a Vagrant machine's options with the scheme the Vagrant
    target connects with (http).
    """
    at: Loc = ("platforms", name)
    where = f"platforms.{name}"
    found: list[tuple[Loc, str]] = []
    if platform.target == "vagrant":
        found += _options(at + ("winrm",), platform.winrm, "http", f"{where}.winrm")
    if platform.target != "inventory":
        return found
    if not platform.hosts:
        found.append((at + ("hosts",), f"{where}.hosts: lists at least one host"))
    for i, raw in enumerate(platform.hosts):
        try:
            entry = host_entry(f"{where}.hosts", i, raw)
        except ConfigError as error:
            found.append((at + ("hosts", i), str(error)))
            continue
        merged = {**platform.winrm, **entry.options}
        found += _options(
            at + ("hosts", i), merged, entry.scheme, f"{where}.hosts[{i}]"
        )
    return found


def _options(
    loc: Loc, options: dict[str, Any], scheme: str, where: str
) -> list[tuple[Loc, str]]:
    try:
        WinRMOptions.from_mapping(options, scheme=scheme, where=where)
    except ConfigError as error:
        return [(loc, str(error))]
    return []
