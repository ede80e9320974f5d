"""The wine engine on real Wine: containers made, isolated, removed without trace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import cleanup
from harness.engines.wine import WineEngine
from harness.matrix import Engine as EngineConfig
from harness.run import Run
from harness.targets.local import LocalTarget

pytestmark = pytest.mark.wine


def make_engine(network: str, run: Run) -> WineEngine:
    config = EngineConfig(
        kind="wine", platforms=["wine-8"], options={"network": network}
    )
    host = LocalTarget("wine-8", None, run).up()  # type: ignore[arg-type]
    return WineEngine(host, f"t-{network}", config, run)


def leftovers(run: Run) -> dict[str, list[str]]:
    """What of a run still exists on this machine."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    mounts = Path("/proc/mounts").read_text()
    return {
        "netns": [n.split()[0] for n in netns.stdout.splitlines() if run.label in n],
        "mounts": [m for m in mounts.splitlines() if str(run.state) in m],
        "processes": [str(p) for p in cleanup.processes_of(run.id)],
        "folders": [str(p) for p in run.state.glob("*/*")],
    }


NOTHING = {"netns": [], "mounts": [], "processes": [], "folders": []}


@pytest.fixture
def run(private_state) -> Run:
    return Run.create()


@pytest.mark.parametrize("network", ["isolated", "shared"])
def test_containers_have_their_own_identity_and_vanish(run, network):
    engine = make_engine(network, run)
    info = engine.prepare()
    assert info.version.startswith("wine-")
    one, two = engine.create_container("one"), engine.create_container("two")
    answers = [json.loads(c.guest("probe", "info").stdout) for c in (one, two)]
    assert [a["identity"] for a in answers] == [one.identity, two.identity]
    assert one.identity != two.identity
    if network == "isolated":
        assert one.namespace != two.namespace and one.address != two.address
    else:
        assert one.namespace == two.namespace and one.address == two.address
    assert leftovers(run) != NOTHING
    engine.close()
    assert leftovers(run) == NOTHING


def test_a_service_created_in_one_container_is_unknown_in_another(run):
    engine = make_engine("isolated", run)
    engine.prepare()
    try:
        one, two = engine.create_container("one"), engine.create_container("two")
        created = one.guest(
            "probe", "scm", "create", "Marker", "C:\\harness\\probe.exe"
        )
        assert created.exit_code == 0, created.stdout
        assert json.loads(one.guest("probe", "scm", "query", "Marker").stdout)["ok"]
        other = json.loads(two.guest("probe", "scm", "query", "Marker").stdout)
        assert other["error"]["code"] == 1060
    finally:
        engine.close()


def test_the_client_reaches_each_container_at_its_own_address(run):
    engine = make_engine("isolated", run)
    engine.prepare()
    try:
        one = engine.create_container("one")
        client = engine.client()
        # A refused connection (111) proves the address answers on the lab network.
        probe = [sys.executable, "-m", "harness.netclient", "tcp", one.address, "9"]
        inside = json.loads(client.native(probe, timeout=20).stdout)
        assert inside.get("errno") == 111, inside
        outside = json.loads(subprocess.run(probe, capture_output=True).stdout)
        assert outside.get("errno") != 111, "the lab network leaked into this namespace"
    finally:
        engine.close()


CRASHER = """\
import sys
from harness.run import Run
from tests.test_wine_engine import make_engine
run = Run.create(sys.argv[1])
engine = make_engine("isolated", run)
engine.prepare()
engine.create_container("one")
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.fault
def test_a_killed_run_is_cleaned_up_by_the_next_and_only_it(private_state, reliability):
    live = Run.create("20260101T000000Z-aaaaaa")  # owned by this (live) process
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CRASHER), "20260101T000000Z-bbbbbb"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
        env={**os.environ},
    )
    assert child.stdout.readline().strip() == b"ready"
    killed = Run("20260101T000000Z-bbbbbb", private_state / "20260101T000000Z-bbbbbb")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert leftovers(killed) != NOTHING
    removed = cleanup.remove_stale()
    assert killed.id in removed and live.id not in removed
    left = [f"{kind} {x}" for kind, found in leftovers(killed).items() for x in found]
    assert reliability.left(left) == []
    assert not killed.state.exists()
    assert live.state.exists(), "a live run's state was removed"


NOT_ROOT = """\
import os, sys
from harness.errors import EngineError
from harness.run import Run
from tests.test_wine_engine import make_engine
engine = make_engine("isolated", Run.create())
os.setgid(65534); os.setuid(65534)  # imports first: this Python lives in /root
try:
    engine.prepare()
except EngineError as error:
    print(error)
    sys.exit(3)
"""


def test_without_root_the_isolated_engine_is_broken_with_the_reason(tmp_path):
    tmp_path.chmod(0o777)
    result = subprocess.run(
        [sys.executable, "-c", NOT_ROOT],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        env={
            **os.environ,
            "HARNESS_STATE": str(tmp_path),
            "HOME": str(tmp_path),
            "HARNESS_REGISTRY": str(tmp_path / "registry"),
        },
    )
    assert result.returncode == 3, result.stderr
    assert "network isolation needs root" in result.stdout
