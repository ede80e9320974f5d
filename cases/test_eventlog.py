"""The Event Log duplicated into a container.

An information event whose text carries the container's identity and a fresh token
is written through the container's log (RegisterEventSource, ReportEvent) and must
be read back there (ReadEventLog); the host's and the peer's logs must not hold it.
Wine's Event Log accepts events but stores none, so neither check can pass there:
matrix.yaml declares both gaps.
"""

from __future__ import annotations

import secrets
from typing import Any

from harness.checks import system_service_starts
from harness.probe import probe
from harness.services import EVENTLOG

SERVICE = "eventlog"
NAME = EVENTLOG.scm_names[0]
SOURCE = "HarnessProbe"
LOG = "Application"


def states(containers: list[Any]) -> dict[str, str | None]:
    """The Event Log's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def write_event(container: Any) -> str:
    """Write a unique event through the container's log; returns its text."""
    text = f"harness event {container.identity} {secrets.token_hex(4)}"
    written = probe(container, "evt", "write", SOURCE, text)
    assert written["ok"], f"{container.name} cannot write an event: {written}"
    return text


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement):
    text = write_event(suite.container)
    found = probe(suite.container, "evt", "find", LOG, text)
    assert found.get("found") is True, (
        f"the container's log does not give back the event it accepted: {found}"
    )


def test_isolated(suite, placement):
    text = write_event(suite.container)
    found = probe(suite.container, "evt", "find", LOG, text)
    assert found.get("found") is True, (
        f"nothing to isolate: the container's log does not hold its event: {found}"
    )
    for other in (suite.host, suite.peer):
        answer = probe(other, "evt", "find", LOG, text)
        assert answer["ok"] and answer.get("found") is False, (
            f"{other.name} finds the event of {suite.container.name}: {answer}"
        )
    peer_text = write_event(suite.peer)
    before = states([suite.host, suite.peer])
    try:
        stopped = probe(suite.container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        after = states([suite.host, suite.peer])
        assert after == before, f"stopping {NAME} in the container changed {after}"
        peer = probe(suite.peer, "evt", "find", LOG, peer_text)
        assert peer.get("found") is True, f"the peer lost its own event: {peer}"
    finally:
        probe(suite.container, "scm", "start", NAME)
