"""The guest tools: where they are built, their version, and the agent protocol.

The guest tools are small Windows programs (guest/, C, MinGW-w64) copied into every
host and container.  `tools()` builds them when their sources changed (make decides)
and returns where they are and their version, the hash of their sources.

The agent (agent.exe) is a resident process per container: the controller writes
one JSON line per request on its stdin and reads one JSON line per answer, so a probe
subcommand costs a pipe round trip instead of a new Windows process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from harness.errors import CommandTimeout, GuestError

log = logging.getLogger(__name__)
GUEST_DIR = Path(__file__).resolve().parent.parent / "guest"
TOOLS = (
    "probe.exe",
    "agent.exe",
    "dupsvc.exe",
    "rpcsrv.exe",
    "comsrv.exe",
    "httpsrv.exe",
)


@dataclasses.dataclass(frozen=True)
class GuestTools:
    folder: Path
    version: str

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("*.exe"))


def tools(source: Path | None = None) -> GuestTools:
    """Build the guest tools if needed; GuestError names what is missing.

    HARNESS_GUEST_DIR points at another source folder (e.g. a released copy).
    """
    source = source or Path(os.environ.get("HARNESS_GUEST_DIR") or GUEST_DIR)
    build = source / "build"
    if shutil.which("x86_64-w64-mingw32-gcc") and shutil.which("make"):
        result = subprocess.run(
            ["make", "-s", "-C", str(source)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise GuestError(
                f"building the guest tools failed:\n{result.stderr[-3000:]}"
            )
    missing = [name for name in TOOLS if not (build / name).is_file()]
    if missing:
        raise GuestError(
            f"guest tools missing in {build}: {', '.join(missing)}; install "
            "gcc-mingw-w64-x86-64 and make, then run `make -C guest`"
        )
    version = (build / "VERSION").read_text().strip()
    return GuestTools(build, version)


class AgentClient:
    """Talk to a running agent.exe over its stdin/stdout (JSON lines).

    One request at a time; a timeout ends the agent (GuestError for the caller),
    because an agent that stopped answering cannot be trusted with the next call.
    """

    def __init__(self, process: subprocess.Popen, name: str) -> None:
        self.process = process
        self.name = name
        self._lock = threading.Lock()
        self._answers: queue.Queue[bytes | None] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(line)
        self._answers.put(None)

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        answer = self._get(timeout, "start")
        if not answer.get("ready"):
            raise GuestError(f"{self.name}: agent did not say ready: {answer}")
        return answer

    def call(self, argv: list[str], timeout: float) -> tuple[int, dict[str, Any], str]:
        """Send one request; returns (exit status, result object, raw line)."""
        with self._lock:
            self._next_id += 1
            request = {"id": self._next_id, "argv": argv}
            self._send(request)
            answer = self._answer_to(self._next_id, timeout, " ".join(argv))
            return (
                int(answer.get("exit", -1)),
                answer.get("result") or {},
                answer["_raw"],
            )

    def put(self, path: str, data: bytes, timeout: float = 30) -> None:
        import base64

        with self._lock:
            self._next_id += 1
            self._send(
                {
                    "id": self._next_id,
                    "put": path,
                    "data_b64": base64.b64encode(data).decode(),
                }
            )
            answer = self._answer_to(self._next_id, timeout, f"put {path}")
            if answer.get("exit") != 0:
                raise GuestError(f"{self.name}: put {path} failed: {answer}")

    def _answer_to(self, request_id: int, timeout: float, what: str) -> dict[str, Any]:
        """The answer to `request_id`; answers to earlier requests whose caller gave
        up (an interrupted check) are read and dropped."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self._get(max(deadline - time.monotonic(), 0.01), what)
            answered = answer.get("id")
            if answered == request_id:
                return answer
            if not isinstance(answered, int) or answered > request_id:
                raise GuestError(f"{self.name}: agent answered out of turn: {answer}")
            log.debug("%s: dropping a late answer to request %s", self.name, answered)

    def _send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise GuestError(
                f"{self.name}: the agent is gone (exit {self.process.poll()})"
            ) from error

    def _get(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise CommandTimeout(
                f"{self.name}: agent gave no answer to {what!r} within "
                f"{timeout:g}s; the agent was ended"
            ) from None
        if line is None:
            raise GuestError(
                f"{self.name}: the agent exited ({self.process.poll()}) during {what!r}"
            )
        try:
            answer = json.loads(line)
        except ValueError:
            raise GuestError(
                f"{self.name}: agent printed non-JSON: {line[:300]!r}"
            ) from None
        answer["_raw"] = line.decode("utf-8", "replace").strip()
        return answer

    def stop(self) -> None:
        """Close stdin (the agent exits on EOF), then end its process group if it
        lingers; returns once the agent has exited."""
        try:
            if self.process.stdin:
                self.process.stdin.close()
            self.process.wait(timeout=3)
        except (subprocess.TimeoutExpired, OSError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
