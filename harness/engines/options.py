"""The `options` of each engine kind in matrix.yaml, validated when the matrix is
loaded: a misspelled key, a value outside its choices, a template with an unknown
placeholder or an address range that is not one is a configuration error naming the
file, the line and the allowed keys or values, before anything runs.

The engine modules take their choices and checks from here, so each exists once.
This module imports neither the matrix nor the engines (both import it).

    >>> template_problem("docker rm {containr}", ["container"])
    'unknown placeholder {containr}; known: {container}'
    >>> address_range("192.168.56.120-192.168.56.122")
    ['192.168.56.120', '192.168.56.121', '192.168.56.122']
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_args

import pydantic

WineNetwork = Literal["isolated", "shared"]
DockerNetwork = Literal["nat", "transparent"]
DockerIsolation = Literal["process", "hyperv"]
Shell = Literal["cmd", "powershell"]
WINE_NETWORKS: tuple[str, ...] = get_args(WineNetwork)
DOCKER_NETWORKS: tuple[str, ...] = get_args(DockerNetwork)
DOCKER_ISOLATIONS: tuple[str, ...] = get_args(DockerIsolation)
SHELLS: tuple[str, ...] = get_args(Shell)
# template key: (required, placeholders it may use)
TEMPLATES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "create": (True, ("container", "name", "label")),
    "exec": (True, ("container", "name", "label", "argv")),
    "destroy": (True, ("container", "name", "label")),
    "address": (False, ("container", "name", "label")),
    "copy": (False, ("container", "name", "label", "source", "dest")),
    "duplicate": (False, ("container", "name", "label", "service", "scm_name")),
    "version": (False, ("label",)),
}
INSTALL_PLACEHOLDERS = ("artifact",)  # an engine's `install` command
# The `os` of the platforms each kind runs on: wine drives local Wine prefixes, the
# others drive Windows hosts through WinRM.
OS_OF_KIND: dict[str, str] = {
    "wine": "wine",
    "windows-containers": "windows",
    "sandboxie": "windows",
    "command": "windows",
}
MAX_RANGE = 1024  # addresses in one container pool
Loc = tuple[str | int, ...]


def template_problem(template: str, placeholders: Sequence[str]) -> str | None:
    """What is wrong with a command template, or None: an unknown placeholder or
    unbalanced braces.  Pure parsing, so that the matrix checks templates when it
    is loaded and the engines check them the same way."""
    if not template.strip():
        return "a command template (text) is expected"
    try:
        fields = [
            f for _, f, _, _ in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as error:
        return f"{error} (write {{{{ and }}}} for braces)"
    for field in fields:
        if field not in placeholders:
            known = ", ".join("{" + p + "}" for p in placeholders)
            return f"unknown placeholder {{{field}}}; known: {known}"
    return None


def address_range(value: str) -> list[str]:
    """FIRST-LAST (or one address) as the list of its addresses; ValueError says
    what a range must look like."""
    first, _, last = str(value).partition("-")
    example = "e.g. 192.168.56.120-192.168.56.129"
    try:
        start = ipaddress.ip_address(first.strip())
        end = ipaddress.ip_address((last or first).strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a range FIRST-LAST of IP addresses ({example})"
        ) from None
    size = int(end) - int(start) + 1
    if start.version != end.version or not 0 < size <= MAX_RANGE:
        raise ValueError(
            f"{value!r} is not a range FIRST-LAST of one IP version, FIRST not "
            f"after LAST, at most {MAX_RANGE} addresses ({example})"
        )
    return [str(start + i) for i in range(size)]


def _range(value: str) -> str:
    address_range(value)
    return value


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a network such as 192.168.56.0/24"
        ) from None


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


class _Options(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class WineOptions(_Options):
    network: WineNetwork = "isolated"


class WindowsContainersOptions(_Options):
    isolation: DockerIsolation = "process"
    images: dict[str, str] = {}  # platform -> image
    image: str | None = None  # for platforms without an entry in images
    network: DockerNetwork = "nat"
    # platform -> "first-last" lab addresses
    addresses: dict[str, Annotated[str, pydantic.AfterValidator(_range)]] = {}
    subnet: Annotated[str, pydantic.AfterValidator(_network)] | None = None
    gateway: Annotated[str, pydantic.AfterValidator(_address)] | None = None


class SandboxieOptions(_Options):
    install_dir: str | None = None
    box_root: str | None = None


class CommandOptions(_Options):
    shell: Shell = "cmd"
    create: str
    exec: str
    destroy: str
    address: str | None = None
    copy_: str | None = pydantic.Field(None, alias="copy")  # .copy is pydantic's
    duplicate: str | None = None
    version: str | None = None

    @pydantic.field_validator(*(key for key in TEMPLATES if key != "copy"), "copy_")
    @classmethod
    def _placeholders(cls, value: str | None, info: pydantic.ValidationInfo) -> Any:
        key = (info.field_name or "").rstrip("_")
        problem = None if value is None else template_problem(value, TEMPLATES[key][1])
        if problem:
            raise ValueError(problem)
        return value


BY_KIND: dict[str, type[_Options]] = {
    "wine": WineOptions,
    "windows-containers": WindowsContainersOptions,
    "sandboxie": SandboxieOptions,
    "command": CommandOptions,
}


def placement_problems(
    kind: str, options: Mapping[str, Any], platforms: Sequence[str]
) -> list[tuple[Loc, str]]:
    """What an engine's (valid) options say wrongly about its platforms: a per
    platform entry for a platform the engine does not run on, or none for one it
    does where it needs one.  Locations are under the engine's `options`."""
    if kind != "windows-containers":
        return []
    problems: list[tuple[Loc, str]] = []
    listed = ", ".join(sorted(platforms))
    for key in ("images", "addresses"):
        for platform in options.get(key) or {}:
            if platform not in platforms:
                problems.append(
                    (
                        (key, platform),
                        f"names platform {platform!r}, which is not in the "
                        f"engine's platforms; allowed values: {listed}",
                    )
                )
    images = options.get("images") or {}
    transparent = options.get("network") == "transparent"
    for platform in platforms:
        if platform not in images and not options.get("image"):
            problems.append(
                (
                    ("images",),
                    f"no image for {platform}: set images.{platform} or image "
                    "(e.g. mcr.microsoft.com/windows/servercore:ltsc2022)",
                )
            )
        if transparent and platform not in (options.get("addresses") or {}):
            problems.append(
                (
                    ("addresses",),
                    f"network: transparent needs the containers' lab addresses "
                    f"of {platform} (addresses.{platform}: FIRST-LAST)",
                )
            )
    return problems
