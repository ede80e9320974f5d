"""`harness doctor`: what the local Wine engines need, and which of them can run.

A need of every local run (Wine, MinGW-w64, make) that is missing fails the
command (exit 1).  What only some engines need (root and iproute2 for the network
namespaces and overlay mounts of engine `wine`) or only the test suite needs
(chromium, ruby) is a warning: the engines that can still run are named.
"""

from __future__ import annotations

import os
import shutil
from typing import NamedTuple

import typer
from rich.console import Console
from rich.table import Table


class Need(NamedTuple):
    name: str
    found: bool
    needed_by: str  # who needs it, as the table says
    fix: str
    stops: str  # what cannot run without it: "all", "wine" or "tests"


def needs() -> list[Need]:
    """Everything doctor looks for, on this machine, now."""

    def on_path(program: str) -> bool:
        return shutil.which(program) is not None

    root = os.geteuid() == 0
    # As root both engines make network namespaces; without it only engine wine
    # would, and it cannot run anyway.
    ip_for = ("both engines (as root)", "all") if root else ("engine wine", "wine")
    return [
        Need("wine", on_path("wine"), "every run", "apt-get install wine64", "all"),
        Need(
            "MinGW-w64",
            on_path("x86_64-w64-mingw32-gcc"),
            "every run",
            "apt-get install gcc-mingw-w64-x86-64",
            "all",
        ),
        Need("make", on_path("make"), "every run", "apt-get install make", "all"),
        Need("root", root, "engine wine", "run as root (sudo)", "wine"),
        Need(
            "ip (iproute2)",
            on_path("ip"),
            ip_for[0],
            "apt-get install iproute2",
            ip_for[1],
        ),
        Need(
            "chromium",
            on_path("chromium"),
            "make test",
            "apt-get install chromium",
            "tests",
        ),
        Need("ruby", on_path("ruby"), "make test", "apt-get install ruby", "tests"),
    ]


def runnable(found: list[Need]) -> list[str]:
    """The local engines that can run with what was found."""
    stopped = {n.stops for n in found if not n.found}
    if "all" in stopped:
        return []
    return ["wine-shared"] if "wine" in stopped else ["wine", "wine-shared"]


def doctor() -> None:
    """Check what the local Wine engines need, say how to get what is missing and
    which engines can run here.

    Exit codes: 0 a local engine can run (the output names which; a missing need
    of engine wine or of `make test` is a warning), 1 something every run needs
    is missing.  Without root, engine wine cannot run (network namespaces,
    overlay mounts) but wine-shared can.
    """
    found = needs()
    table = Table("need", "needed by", "found", "how to get it")
    for need in found:
        colour = "red" if need.stops == "all" else "yellow"
        shown = "yes" if need.found else f"[{colour}]no[/{colour}]"
        table.add_row(need.name, need.needed_by, shown, "" if need.found else need.fix)
    console = Console()
    console.print(table)
    engines = runnable(found)
    if not engines:
        console.print("[red]no local engine can run here[/red]: get what is missing")
        raise typer.Exit(1)
    lacking = [n.name for n in found if n.stops == "wine" and not n.found]
    if lacking:
        console.print(
            f"[yellow]warning[/yellow]: engine wine needs {' and '.join(lacking)}; "
            f"wine-shared runs without {'it' if len(lacking) == 1 else 'them'}"
        )
    console.print(f"engines that can run here: {', '.join(engines)}")
