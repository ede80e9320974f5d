"""Fixtures of the Windows-path tests: the loopback WS-Management server, a
transport connected to it, a throw-away run, and the recorded vagrant."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import guest
from harness.run import Run
from harness.transports.winrm import WinRMTransport
from tests.windows.wsman_server import WSManServer

RECORDED = Path(__file__).resolve().parent / "recorded"
USER = "vagrant"
# A password that would be easy to spot in a log, an exception or a command line.
PASSWORD = "Fake-Pa55&word|\"hx'$(x)"
FAST = {
    "operation_timeout": 1,
    "read_timeout": 3,
    "warmup_delay": 0.05,
    "retry_interval": 0.1,
    "reboot_grace": 10,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WSManServer]:
    wsman = WSManServer(tmp_path, USER, PASSWORD).start()
    yield wsman
    wsman.stop()


def connect(server: WSManServer, **options: object) -> WinRMTransport:
    return WinRMTransport(
        "standin",
        "127.0.0.1",
        port=server.port,
        user=USER,
        password=PASSWORD,
        options={**FAST, **options},
    )


@pytest.fixture
def transport(server: WSManServer) -> Iterator[WinRMTransport]:
    with connect(server) as made:
        yield made


@pytest.fixture
def run(tmp_path: Path) -> Run:
    state = tmp_path / "run"
    state.mkdir()
    return Run("20261203T183400Z-abc123", state)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    # DEBUG everywhere, so the secret tests see every record the harness makes.
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def guest_tools(tmp_path, monkeypatch) -> Path:
    """Built guest tools as harness.guest finds them (a no-op Makefile)."""
    source = tmp_path / "guest"
    (source / "build").mkdir(parents=True)
    (source / "Makefile").write_text("all:\n\t@true\n")
    for name in guest.TOOLS:
        (source / "build" / name).write_bytes(b"MZ" + name.encode())
    (source / "build" / "VERSION").write_text("guest-1\n")
    monkeypatch.setenv("HARNESS_GUEST_DIR", str(source))
    return source / "build"


class FakeVagrant:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def set(self, **state: object) -> None:
        path = self.folder / "state.json"
        current = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**current, **state}))

    def calls(self) -> list[list[str]]:
        path = self.folder / "calls.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    def commands(self) -> list[str]:
        return [
            " ".join(a for a in call if not a.startswith("--")) for call in self.calls()
        ]


@pytest.fixture
def fake_vagrant(tmp_path, monkeypatch, server) -> FakeVagrant:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A launcher with this interpreter: faster than a shebang through version shims.
    launcher = bin_dir / "vagrant"
    launcher.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -S "{RECORDED / "vagrant"}" "$@"\n'
    )
    launcher.chmod(0o755)
    state = tmp_path / "vagrant-state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_VAGRANT_STATE", str(state))
    fake = FakeVagrant(state)
    fake.set(
        machine="win2022",
        state="not_created",
        provider="virtualbox",
        snapshots=[],
        host="127.0.0.1",
        port=server.port,
        user=USER,
        password=PASSWORD,
        hypervisor=f"http://127.0.0.1:{server.port}/standin/power",
    )
    return fake


@pytest.fixture
def vms(tmp_path) -> Path:
    folder = tmp_path / "vms"
    folder.mkdir()
    (folder / "Vagrantfile").write_text("# the recorded vagrant never reads it\n")
    return folder
