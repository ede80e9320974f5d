"""The `options` of each engine kind in matrix.yaml, validated when the matrix is
loaded: a misspelled key or a value outside its choices is a configuration error
naming the file, the line and the allowed keys or values, before anything runs.

The engine modules take their choices from here, so the lists exist once.
"""

from __future__ import annotations

from typing import Literal, get_args

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


class _Options(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class WineOptions(_Options):
    network: WineNetwork = "isolated"


class WindowsContainersOptions(_Options):
    isolation: DockerIsolation = "process"
    images: dict[str, str] = {}  # platform -> image
    image: str | None = None  # for platforms without an entry in images
    network: DockerNetwork = "nat"
    addresses: dict[str, str] = {}  # platform -> "first-last" lab addresses
    subnet: str | None = None
    gateway: str | None = None


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


BY_KIND: dict[str, type[_Options]] = {
    "wine": WineOptions,
    "windows-containers": WindowsContainersOptions,
    "sandboxie": SandboxieOptions,
    "command": CommandOptions,
}
