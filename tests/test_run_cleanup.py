"""Which runs count as crashed (their owner process is gone, a zombie, or its pid
now belongs to another process), and which processes and runs cleanup finds."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness import cleanup
from harness.run import Run, owner_alive

ROOT = Path(__file__).resolve().parent.parent


def test_a_live_owner_keeps_its_run(private_state):
    assert owner_alive(Run.create().state)


def test_a_zombie_owner_counts_as_dead(private_state):
    # A killed owner whose parent has not reaped it yet (an init that reaps slowly)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    run = Run.create(owner=child.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{child.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    else:
        raise AssertionError("the child never became a zombie")
    try:
        assert not owner_alive(run.state)
    finally:
        child.wait()


def test_a_reused_pid_counts_as_dead(private_state):
    run = Run.create(owner=os.getpid())
    pid, started = (run.state / "owner.pid").read_text().split()
    assert int(pid) == os.getpid()
    (run.state / "owner.pid").write_text(f"{pid} {int(started) + 1}\n")
    assert not owner_alive(run.state)


def test_a_missing_or_damaged_owner_file_counts_as_dead(private_state):
    run = Run.create()
    (run.state / "owner.pid").write_text("not a pid\n")
    assert not owner_alive(run.state)
    (run.state / "owner.pid").unlink()
    assert not owner_alive(run.state)


LEADER_GONE = """\
import ctypes, sys, threading, time
threading.Thread(target=time.sleep, args=(60,)).start()
print("ready", flush=True)
ctypes.CDLL(None).pthread_exit(None)  # the main thread ends, the other lives on
"""


def test_a_process_whose_main_thread_ended_is_still_found_and_ended():
    # Wine's winedevice can end up so: a zombie leader whose threads still run.
    env = {**os.environ, cleanup.RUN_VARIABLE: "20260101T000000Z-zzzzzz"}
    child = subprocess.Popen(
        [sys.executable, "-c", LEADER_GONE], env=env, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
        assert cleanup.processes_of("20260101T000000Z-zzzzzz") == [child.pid]
        assert cleanup.kill_processes("20260101T000000Z-zzzzzz") == 0
        assert child.wait(timeout=10) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()


OTHER_USER = """\
import os
from harness import cleanup
os.setgid(65534); os.setuid(65534)  # imports first: this Python lives in /root
print(cleanup.remove_stale())
"""


@pytest.fixture
def shared_folder():
    """A folder every user can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="harness-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_runs_of_another_user_are_left_alone_without_an_error(shared_folder):
    tmp_path = shared_folder
    index, root_runs = tmp_path / "index", tmp_path / "root-runs"
    env = {**os.environ, "HARNESS_REGISTRY": str(index)}
    env["HARNESS_STATE"] = str(root_runs)
    subprocess.run(
        [sys.executable, "-c", "from harness.run import Run; Run.create('r1')"],
        env=env, check=True, cwd=ROOT,
    )  # fmt: skip
    (root_runs / "r1" / "owner.pid").write_text("999999999\n")  # a crashed run
    root_runs.chmod(0o700)
    index.chmod(0o755)
    mine = tmp_path / "nobody"
    mine.mkdir(mode=0o777)
    done = subprocess.run(
        [sys.executable, "-c", OTHER_USER],
        env={**env, "HARNESS_STATE": str(mine), "HOME": str(mine)},
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (root_runs / "r1").exists(), "another user's run was touched"
