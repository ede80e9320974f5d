"""BITS duplicated into a container.

A transfer job created through the container's BITS service (IBackgroundCopyManager
CreateJob) under a name carrying the container's identity must be listed there
(EnumJobs) with the id CreateJob gave; the host and the peer must not list it,
and the same job name must work in the peer.
"""

from __future__ import annotations

import secrets
from typing import Any

from harness.checks import system_service_starts
from harness.probe import probe
from harness.services import BITS

SERVICE = "bits"
NAME = BITS.scm_names[0]


def states(containers: list[Any]) -> dict[str, str | None]:
    """The BITS service's state in each container, by container name."""
    return {c.name: probe(c, "scm", "query", NAME).get("state") for c in containers}


def create_job(container: Any, job: str) -> str:
    """Create a download job named `job`; returns its id."""
    created = probe(container, "bits", "create", job)
    assert created["ok"] and created.get("id"), (
        f"{container.name} cannot create a job: {created}"
    )
    return created["id"]


def jobs(container: Any) -> list[dict[str, Any]]:
    answer = probe(container, "bits", "list")
    assert answer["ok"], f"{container.name} cannot list jobs: {answer}"
    return answer["jobs"]


def unique_job(container: Any) -> str:
    return f"harness job {container.identity} {secrets.token_hex(4)}"


def test_starts(suite, placement):
    system_service_starts(suite)


def test_serves(suite, placement):
    job = unique_job(suite.container)
    job_id = create_job(suite.container, job)
    try:
        listed = [j for j in jobs(suite.container) if j.get("name") == job]
        assert [j.get("id") for j in listed] == [job_id], (
            f"the container does not list its job {job_id}: {listed}"
        )
    finally:
        probe(suite.container, "bits", "cancel", job)


def test_isolated(suite, placement):
    job = unique_job(suite.container)
    mine = {job, create_job(suite.container, job)}  # its name and its id
    others = [suite.host, suite.peer]
    before = states(others)
    try:
        for other in others:
            seen = [j for j in jobs(other) if mine & {j.get("id"), j.get("name")}]
            assert seen == [], f"{other.name} lists the container's job: {seen}"
        peer_id = create_job(suite.peer, job)
        running = states(others)
        stopped = probe(suite.container, "scm", "stop", NAME)
        assert stopped.get("state") == "STOPPED", f"could not stop {NAME}: {stopped}"
        after = states(others)
        assert after == running, f"stopping {NAME} in the container changed {after}"
        assert peer_id in [j.get("id") for j in jobs(suite.peer)], (
            f"the peer lost its job of the same name {peer_id}"
        )
    finally:
        probe(suite.container, "scm", "start", NAME)
        probe(suite.container, "bits", "cancel", job)
        probe(suite.peer, "bits", "cancel", job)
        for other in others:
            if before[other.name] == "STOPPED":
                probe(other, "scm", "stop", NAME)
