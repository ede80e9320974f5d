"""Calling guest tools from cases, with every call recorded as an allure step.

    status = probe(suite.container, "scm", "query", "HarnessDup")
    assert status["state"] == "RUNNING", status

Each call becomes a step named after the container and argv, with the argv, exit
code, duration and output attached.  What the guest tool said is returned as data;
only a tool that does not answer with its JSON raises (GuestError: broken).
"""

from __future__ import annotations

import json
from typing import Any

import allure

from harness.errors import GuestError
from harness.transports import CommandResult


def probe(container: Any, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run a probe subcommand inside `container`; returns its JSON object."""
    return guest_json(container, "probe", *args, timeout=timeout)


def guest_json(
    container: Any, tool: str, *args: str, timeout: float = 60.0
) -> dict[str, Any]:
    title = f"{container.name}: {tool} {' '.join(args)}"
    with allure.step(title):
        result = container.guest(tool, *args, timeout=timeout)
        attach(result)
        try:
            # Only "\n" ends the answer: names may hold U+2028 and friends.
            answer = json.loads(result.stdout.strip().split("\n")[-1])
        except (ValueError, IndexError):
            raise GuestError(
                f"{container.name}: {tool} {' '.join(args)} exited {result.exit_code} "
                f"without its JSON answer; stderr: {result.stderr.strip()[-500:]}"
            ) from None
        if not isinstance(answer, dict):
            raise GuestError(f"{container.name}: {tool} answered {answer!r}")
        answer.setdefault("exit", result.exit_code)
        return answer


def attach(result: CommandResult) -> None:
    """Attach one command's argv, exit code, duration and output to the step."""
    summary = (
        f"host: {result.host}\n"
        f"argv: {json.dumps(list(result.argv), ensure_ascii=False)}"
        f"\nexit code: {result.exit_code}\nduration: {result.duration:.3f} s\n"
    )
    allure.attach(summary, "command", allure.attachment_type.TEXT)
    if result.stdout:
        allure.attach(result.stdout, "stdout", allure.attachment_type.TEXT)
    if result.stderr:
        allure.attach(result.stderr, "stderr", allure.attachment_type.TEXT)


def native(client: Any, *argv: str, timeout: float = 60.0) -> CommandResult:
    """Run a Linux client program on the client machine, recorded as a step."""
    with allure.step(f"{client.name}: {' '.join(argv)}"):
        result = client.native(list(argv), timeout=timeout)
        attach(result)
        return result


def error_code(answer: dict[str, Any]) -> int | None:
    """The Win32 code of a failed guest call, None when it succeeded."""
    error = answer.get("error")
    return int(error["code"]) if isinstance(error, dict) and "code" in error else None


def tcp_ask(client: Any, address: str | None, port: int) -> dict[str, Any]:
    """Connect from the client machine and read the server's first line.

    Returns the netclient's JSON: {"ok": true, "answer": "..."} or
    {"ok": false, "errno": N, "error": "..."}; harness.netclient.ask says where it
    runs and when it raises instead (an address the client cannot reach).
    """
    from harness.netclient import ask

    return ask(client, "tcp", address, str(port))
