"""Which runs count as crashed: their owner process is gone, a zombie, or its pid
now belongs to another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness.run import Run, owner_alive


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
