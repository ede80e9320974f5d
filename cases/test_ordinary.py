"""The ordinary service: an own-process service of ours (dupsvc.exe) duplicated into
a container.  It answers each TCP connection with the identity that the harness wrote
into its container, so an answer proves which instance served it (PIDs and host names
collide between Wine prefixes and prove nothing).
"""

from __future__ import annotations

import json

import pytest

from harness.checks import hung_in, require_running
from harness.probe import error_code, probe, tcp_ask
from harness.services import ORDINARY

SERVICE = "ordinary"
NAME = ORDINARY.scm_names[0]
PORT = ORDINARY.port
NOT_FOUND = 1060  # ERROR_SERVICE_DOES_NOT_EXIST


def test_starts(suite, placement):
    hung = hung_in(suite.duplicated)
    if hung:
        pytest.fail(f"{NAME} hung in {hung} while starting", pytrace=False)
    require_running(probe(suite.container, "scm", "query", NAME), NAME)
    for other in (suite.host, suite.peer):
        answer = probe(other, "scm", "query", NAME)
        assert error_code(answer) == NOT_FOUND, (
            f"{NAME} of {suite.container.name} is visible in {other.name}: {answer}"
        )


def test_serves(suite, placement):
    reply = tcp_ask(suite.client, suite.container.address, PORT)
    assert reply["ok"], f"no answer from {suite.container.address}:{PORT}: {reply}"
    answer = json.loads(reply["answer"])
    assert answer.get("identity") == suite.container.identity, (
        f"the answer came from another instance: {answer}"
    )


def test_isolated(suite, placement):
    for other in (suite.host, suite.peer):
        answer = probe(other, "scm", "query", NAME)
        assert error_code(answer) == NOT_FOUND, f"{other.name} sees {NAME}: {answer}"
    suite.engine.duplicate(suite.peer, suite.service)
    try:
        peer = probe(suite.peer, "scm", "query", NAME)
        assert peer.get("state") == "RUNNING", (
            f"the same service name and port do not work in the peer: {peer}"
        )
        stopped = probe(suite.container, "scm", "stop", NAME)
        if stopped.get("hung"):
            pytest.fail(f"{NAME} hung in {stopped['hung']}", pytrace=False)
        assert stopped.get("state") == "STOPPED", f"could not stop: {stopped}"
        peer = probe(suite.peer, "scm", "query", NAME)
        assert peer.get("state") == "RUNNING", (
            f"stopping the container's instance stopped the peer's: {peer}"
        )
        reply = tcp_ask(suite.client, suite.peer.address, PORT)
        assert reply["ok"] and json.loads(reply["answer"]).get("identity") == (
            suite.peer.identity
        ), f"the peer's instance does not answer: {reply}"
        host = probe(suite.host, "scm", "query", NAME)
        assert error_code(host) == NOT_FOUND, f"the host changed: {host}"
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.peer, "scm", "stop", NAME)
        probe(suite.peer, "scm", "delete", NAME)
