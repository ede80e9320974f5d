"""The Print Spooler duplicated into a container.

A printer added through the container's spooler (port FILE:, WinPrint, RAW) prints
a job into a file inside the container; the job's bytes carry the container's
identity, and the same print must fail once the container's spooler is stopped,
which shows that its instance did the work.  The host and the peer do not know the
printer (1801).  Wine prints in the calling process, so there printing survives a
stopped spooler: matrix.yaml declares that gap.
"""

from __future__ import annotations

import secrets
from typing import Any

from harness.checks import system_service_starts
from harness.probe import error_code, probe
from harness.services import SPOOLER

SERVICE = "spooler"
NAME = SPOOLER.scm_names[0]
PRINTER = "HarnessPrinter"
OUTPUT = "C:\\harness\\spool-output.prn"
UNKNOWN_PRINTER = 1801  # ERROR_INVALID_PRINTER_NAME
PRINTER_EXISTS = 1802  # ERROR_PRINTER_ALREADY_EXISTS
WINDOWS_DRIVER = "Microsoft Print To PDF"


def states(containers: list[Any]) -> dict[str, str | None]:
    """The spooler's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def driver_args(container: Any) -> list[str]:
    """The printer driver to use: Wine's PostScript driver (the probe installs it)
    on Wine; on Windows a driver that ships installed.  A RAW job's bytes pass
    through any driver unchanged.

    Not yet measured on Windows: "Microsoft Print To PDF" is installed on Windows
    10 and Server 2016 and later; on a build without it `spool add` fails with
    1797 (unknown printer driver) and `serves` fails at its first step.
    """
    if probe(container, "info").get("wine") is not None:
        return []
    return ["--driver", WINDOWS_DRIVER]


def add_printer(container: Any) -> None:
    """Add PRINTER in `container` (kept when it exists already)."""
    added = probe(container, "spool", "add", PRINTER, *driver_args(container))
    assert added["ok"] or error_code(added) == PRINTER_EXISTS, (
        f"{container.name} cannot add a printer: {added}"
    )


def print_text(container: Any) -> tuple[str, dict[str, Any]]:
    """Print a unique text carrying the container's identity; (text, answer)."""
    text = f"harness print {container.identity} {secrets.token_hex(4)}"
    return text, probe(container, "spool", "print", PRINTER, OUTPUT, text)


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement):
    add_printer(suite.container)
    text, printed = print_text(suite.container)
    assert printed["ok"] and printed.get("output") == text, (
        f"the job did not reach its output file: {printed}"
    )
    stopped = probe(suite.container, "scm", "stop", NAME)
    assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
    try:
        _, again = print_text(suite.container)
        assert not again["ok"], (
            "printing works with the container's spooler stopped, so that "
            f"instance did not serve the job: {again}"
        )
    finally:
        probe(suite.container, "scm", "start", NAME)


def test_isolated(suite, placement):
    add_printer(suite.container)
    for other in (suite.host, suite.peer):
        answer = probe(other, "spool", "open", PRINTER)
        assert error_code(answer) == UNKNOWN_PRINTER, (
            f"{other.name} opens the printer of {suite.container.name}: {answer}"
        )
    peer_was = states([suite.peer])[suite.peer.name]
    try:
        probe(suite.peer, "scm", "start", NAME)
        add_printer(suite.peer)
        before = states([suite.host, suite.peer])
        stopped = probe(suite.container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        after = states([suite.host, suite.peer])
        assert after == before, f"stopping {NAME} in the container changed {after}"
        text, printed = print_text(suite.peer)
        assert printed.get("output") == text, (
            f"the same printer name does not work in the peer: {printed}"
        )
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.peer, "spool", "delete", PRINTER)
        if peer_was == "STOPPED":
            probe(suite.peer, "scm", "stop", NAME)
