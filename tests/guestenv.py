"""Scratch Wine prefixes for the guest tools' own tests.

A deliberately small stand-in for the Wine engine: it creates a fresh prefix, keeps
it alive with ``agent.exe --forever``, copies the guest tools into C:\\harness,
writes the identity file and runs ``probe.exe`` or a resident ``agent.exe``.

Example::

    prefix = Prefix.boot(tmp_dir, identity="test-A")
    exit_code, answer = prefix.probe("scm", "query", "Spooler")
    prefix.close()
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

GUEST = Path(__file__).resolve().parents[1] / "guest"
BUILD = GUEST / "build"
TOOLS = ("probe.exe", "agent.exe", "dupsvc.exe")
HARNESS_DIR = "C:\\harness"
PROBE = HARNESS_DIR + "\\probe.exe"
AGENT = HARNESS_DIR + "\\agent.exe"
DUPSVC = HARNESS_DIR + "\\dupsvc.exe"


class GuestEnvError(RuntimeError):
    """The test environment itself failed (build, boot, agent), not a guest tool."""


def build() -> Path:
    """Runs ``make -C guest`` and returns the build folder."""
    for tool in ("make", "x86_64-w64-mingw32-gcc", "wine", "wineserver"):
        if not shutil.which(tool):
            raise GuestEnvError(
                f"{tool} not found: install the Debian packages make, "
                "gcc-mingw-w64-x86-64 and wine64"
            )
    done = subprocess.run(["make", "-C", str(GUEST)], capture_output=True, text=True)
    if done.returncode != 0:
        raise GuestEnvError(f"make -C guest failed:\n{done.stdout}\n{done.stderr}")
    return BUILD


def wine_env(prefix_dir: Path) -> dict[str, str]:
    """Environment for Wine commands in one prefix.

    A UTF-8 locale matters: Wine converts a Unix argv to UTF-16 with the locale's
    code page, so non-ASCII arguments only survive under a UTF-8 locale.
    """
    env = dict(os.environ)
    env.update(
        WINEPREFIX=str(prefix_dir),
        WINEDEBUG="-all",
        WINEDLLOVERRIDES="mscoree,mshtml=",
        LC_ALL="C.UTF-8",
        DISPLAY="",
    )
    return env


class LineReader:
    """Reads lines from a child's stdout with a timeout (no thread, no buffering)."""

    def __init__(self, stream: Any) -> None:
        self.fd = stream.fileno()
        self.pending = b""

    def readline(self, timeout: float) -> bytes:
        """One line without its newline; b"" at end of output."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise GuestEnvError(f"no answer within {timeout} s")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line, self.pending = self.pending, b""
                return line
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line


class Agent:
    """A resident ``agent.exe`` speaking JSON lines over stdin/stdout."""

    def __init__(
        self, env: dict[str, str], exe: str, *args: str, timeout: float
    ) -> None:
        self.proc = subprocess.Popen(
            ["wine", exe, *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self.reader = LineReader(self.proc.stdout)
        self.next_id = 0
        self.ready = self.read(timeout)
        if self.ready.get("ready") is not True:
            raise GuestEnvError(f"agent did not say ready: {self.ready}")

    def read(self, timeout: float = 60) -> dict[str, Any]:
        line = self.reader.readline(timeout)
        if not line:
            raise GuestEnvError("agent closed its output")
        return json.loads(line)

    def send(self, request: dict[str, Any] | bytes) -> None:
        data = request if isinstance(request, bytes) else json.dumps(request).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def request(self, request: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        """Sends one request (an "id" is added) and returns the whole answer line."""
        self.next_id += 1
        self.send({"id": self.next_id, **request})
        answer = self.read(timeout)
        if answer.get("id") != self.next_id:
            raise GuestEnvError(f"answer to another request: {answer}")
        return answer

    def call(self, *argv: str, timeout: float = 60) -> tuple[int, dict[str, Any]]:
        """Like ``Prefix.probe`` but through the agent: (exit status, answer)."""
        answer = self.request({"argv": list(argv)}, timeout)
        return answer["exit"], answer["result"]

    def close(self, timeout: float = 10) -> int:
        """Closes stdin (the agent exits on EOF) and returns its exit status."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Prefix:
    """One booted scratch prefix: a container in the small."""

    def __init__(self, root: Path, identity: str) -> None:
        self.root = root
        self.identity = identity
        self.env = wine_env(root)
        self.harness = root / "drive_c" / "harness"
        self.agents: list[Agent] = []
        self.keep_alive: Agent | None = None

    @classmethod
    def boot(cls, root: Path, identity: str) -> Prefix:
        """Creates the prefix, copies the tools, writes the identity.

        The keep-alive is the prefix's first process and creates it: after a separate
        ``wineboot --init`` the old services.exe may still be shutting down when the
        next process starts, and two service control managers then answer on one
        prefix (a service created through one is 1060 in the other).
        """
        prefix = cls(root, identity)
        launcher = root.parent / f"{root.name}-keepalive.exe"
        shutil.copy2(BUILD / "agent.exe", launcher)
        prefix.keep_alive = prefix.agent(str(launcher), "--forever", timeout=300)
        prefix.harness.mkdir(parents=True, exist_ok=True)
        for tool in TOOLS:
            shutil.copy2(BUILD / tool, prefix.harness / tool)
        (prefix.harness / "identity.txt").write_text(identity + "\n", encoding="utf-8")
        return prefix

    def probe(self, *args: str, timeout: float = 120) -> tuple[int, dict[str, Any]]:
        """Runs ``probe.exe ARGS`` in a new process: (exit status, parsed answer)."""
        done = self.run_probe(*args, timeout=timeout)
        lines = done.stdout.decode("utf-8").splitlines()
        if len(lines) != 1:
            raise GuestEnvError(f"probe printed {len(lines)} lines: {done.stdout!r}")
        return done.returncode, json.loads(lines[0])

    def run_probe(
        self, *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["wine", PROBE, *args], env=self.env, capture_output=True, timeout=timeout
        )

    def agent(self, exe: str = AGENT, *args: str, timeout: float = 60) -> Agent:
        """Starts an agent (``exe`` may be a Windows or a Unix path)."""
        agent = Agent(self.env, exe, *args, timeout=timeout)
        self.agents.append(agent)
        return agent

    def close(self) -> None:
        """Ends every process of this prefix (its own wineserver only), removes it."""
        for agent in self.agents:
            if agent.proc.poll() is None:
                agent.proc.kill()
            agent.proc.wait()
        for flag in ("-k", "-w"):  # kill, then wait until the server is gone
            subprocess.run(
                ["wineserver", flag], env=self.env, capture_output=True, timeout=60
            )
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root.parent / f"{self.root.name}-keepalive.exe").unlink(missing_ok=True)
