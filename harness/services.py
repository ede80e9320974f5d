"""The service catalogue: every service the matrix can name, and what its checks mean.

A service here is what an engine must duplicate into each container.  The catalogue
says which SCM names must be RUNNING for `starts` (with the dependencies) and, in
words, what `serves` and `isolated` prove; the case module in cases/ does the work.
"""

from __future__ import annotations

import dataclasses

CHECKS = ("starts", "serves", "isolated")


@dataclasses.dataclass(frozen=True)
class Service:
    name: str
    title: str
    scm_names: tuple[str, ...]  # what must be RUNNING in the container, in start order
    serves: str
    isolated: str
    windows_scm_names: tuple[str, ...] = ()  # when Windows needs more than Wine has
    port: int | None = None  # the fixed port the service listens on, if any


ORDINARY = Service(
    name="ordinary",
    title="Ordinary own-process service (dupsvc.exe)",
    scm_names=("HarnessDup",),
    serves="a TCP client gets the identity of the container whose instance answered",
    isolated="host and peer cannot open the service (1060); stopping it in one "
    "container leaves the other running; the same port is usable in the peer",
    port=8135,
)

CATALOGUE: dict[str, Service] = {s.name: s for s in (ORDINARY,)}


def get(name: str) -> Service:
    """The catalogue entry for `name` (KeyError lists the known names)."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(
            f"unknown service {name!r}; known: {', '.join(sorted(CATALOGUE))}"
        )
