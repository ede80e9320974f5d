"""Expectations shared by the case modules, with messages that say what went wrong.

A hung service is its own reason ("hung in START_PENDING"), not a generic mismatch:

    answer = probe(container, "scm", "start", "HarnessDup")
    require_running(answer, "HarnessDup")
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.transports import CommandResult


def require_running(answer: dict[str, Any], name: str) -> None:
    """Fail the check unless the SCM answer says RUNNING with a process id."""
    hung = answer.get("hung")
    if hung:
        pytest.fail(
            f"{name} hung in {hung} (wait hint {answer.get('wait_hint')} ms, "
            f"checkpoint {answer.get('checkpoint')})",
            pytrace=False,
        )
    state = answer.get("state")
    if state != "RUNNING":
        code = answer.get("win32_exit_code") or (answer.get("error") or {}).get("code")
        pytest.fail(
            f"{name} is {state or 'not there'} (code {code}): {answer}", pytrace=False
        )
    if not answer.get("pid"):
        pytest.fail(f"{name} is RUNNING without a process id: {answer}", pytrace=False)


def hung_in(results: list[CommandResult]) -> str | None:
    """The pending state a duplicate() step hung in, if any."""
    for result in results:
        try:
            answer = json.loads(result.stdout)
        except ValueError:
            continue
        if isinstance(answer, dict) and answer.get("hung"):
            return str(answer["hung"])
    return None


def scm_names(container: Any, service: Any) -> tuple[str, ...]:
    """What must be RUNNING for `service` there: Windows often needs more services
    (IIS: HTTP, WAS, W3SVC) than Wine has (HTTP)."""
    from harness.probe import probe

    on_wine = probe(container, "info").get("wine") is not None
    return (
        service.scm_names
        if on_wine or not service.windows_scm_names
        else (service.windows_scm_names)
    )


def system_service_starts(suite: Any, *, need_pid: bool = True) -> None:
    """The `starts` check of a system service: each of its SCM names RUNNING in the
    container (with a process id unless it is a driver), and the host's own
    instance as it was before the service was duplicated (same state, same
    process): duplication neither started, stopped nor restarted it.

    The host is compared with itself, not with an untouched container: whether a
    fresh Wine prefix has started a demand-start service such as RpcSs yet is a
    race, so a peer's state proves nothing about the host."""
    from harness.probe import probe

    for name in scm_names(suite.container, suite.service):
        status = probe(suite.container, "scm", "query", name)
        if need_pid:
            require_running(status, name)
        elif status.get("state") != "RUNNING":
            pytest.fail(f"{name} is not running: {status}", pytrace=False)
        host = probe(suite.host, "scm", "query", name)
        now, before = (host.get("state"), host.get("pid")), suite.host_before[name]
        assert now[0] is not None and now == before, (
            f"duplicating changed the host's {name}: (state, pid) was {before}, "
            f"is {now}"
        )
