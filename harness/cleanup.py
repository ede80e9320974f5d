"""What a run created, and how to remove it: at the end of the run, or at the next
start when the run was killed.

Each creation is appended to the run's `resources.jsonl` *before* it is made, so a
run killed half-way still names it.  Processes are found by the `HARNESS_RUN`
variable that every process the harness starts carries in its environment.

    record(run.state, "netns", name)          # before `ip netns add name`
    remove_stale()                            # at start: runs whose owner is dead
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from harness.run import LABEL_PREFIX, owner_alive, state_root

log = logging.getLogger(__name__)
RUN_VARIABLE = "HARNESS_RUN"


def registry() -> Path:
    """The machine-wide index of runs: HARNESS_REGISTRY, default /run/harness."""
    return Path(os.environ.get("HARNESS_REGISTRY") or "/run/harness")


def record(state: Path, kind: str, value: str) -> None:
    """Note a resource (kind: mount, netns, dir) before creating it."""
    with open(state / "resources.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps({"kind": kind, "value": value}) + "\n")


def resources(state: Path) -> list[tuple[str, str]]:
    try:
        lines = (state / "resources.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            item = json.loads(line)
            found.append((str(item["kind"]), str(item["value"])))
        except (ValueError, KeyError, TypeError):
            log.warning("%s: skipping a damaged line: %r", state, line[:200])
    return found


def processes_of(run_id: str) -> list[int]:
    """Pids whose environment says they belong to run `run_id`."""
    marker = f"{RUN_VARIABLE}={run_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if marker in _environment(entry).split(b"\0"):
            pids.append(int(entry.name))
    return pids


def _environment(process: Path) -> bytes:
    """A process's environment.  When its main thread has exited (a zombie leader
    whose other threads still run, as Wine's winedevice can be), the process's own
    file cannot be read, but a live thread's can."""
    try:
        return (process / "environ").read_bytes()
    except OSError:
        pass
    try:
        tasks = list((process / "task").iterdir())
    except OSError:
        return b""
    for task in tasks:
        try:
            return (task / "environ").read_bytes()
        except OSError:
            continue
    return b""


def kill_processes(run_id: str, grace: float = 2.0) -> int:
    """End every process of a run: TERM, then KILL after `grace` seconds."""
    pids = processes_of(run_id)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (pids := processes_of(run_id)):
            time.sleep(0.05)
        if not pids:
            break
    return len(pids)


def release(state: Path) -> list[str]:
    """Remove everything of a run, newest first; returns what could not go.

    Besides what the run recorded, mounts below its folder and namespaces with its
    label are removed too, so a damaged record loses nothing.
    """
    run_id = state.name
    problems = []
    if kill_processes(run_id):
        problems.append(f"processes of {run_id} survived SIGKILL")
    found = [("mount", m) for m in _mounts_below(state)]
    found += [("netns", n) for n in _namespaces(LABEL_PREFIX + run_id[-6:] + "-")]
    for kind, value in [*reversed(resources(state)), *found]:
        try:
            _release_one(kind, value)
        except (OSError, subprocess.SubprocessError) as error:
            problems.append(f"{kind} {value}: {error}")
    shutil.rmtree(state, ignore_errors=True)
    unregister(run_id)
    if state.exists():
        problems.append(f"folder {state} could not be removed")
    return problems


def unmount(point: str) -> None:
    """Unmount `point` if it is a mount point; a busy one is detached (lazy)."""
    if os.path.ismount(point) and _quiet(["umount", point]) != 0:
        _quiet(["umount", "-l", point])


def _release_one(kind: str, value: str) -> None:
    if kind == "mount":
        unmount(value)
    elif kind == "netns" and Path("/run/netns", value).exists():
        _quiet(["ip", "netns", "del", value])
    elif kind == "dir":
        shutil.rmtree(value, ignore_errors=True)


def _mounts_below(folder: Path) -> list[str]:
    """Mount points inside `folder`, deepest first."""
    try:
        lines = Path("/proc/mounts").read_text(errors="replace").splitlines()
    except OSError:
        return []
    prefix = str(folder).rstrip("/") + "/"
    points = [line.split()[1] for line in lines if len(line.split()) > 1]
    inside = [p.replace("\\040", " ") for p in points if p.startswith(prefix)]
    return sorted(inside, key=len, reverse=True)


def _namespaces(prefix: str) -> list[str]:
    netns = Path("/run/netns")
    return sorted(p.name for p in netns.glob(prefix + "*")) if netns.is_dir() else []


def register(run_id: str, state: Path) -> None:
    """Note a run's state folder in a machine-wide index, so that the next run finds
    it after a crash even when it uses another HARNESS_STATE."""
    try:
        registry().mkdir(parents=True, exist_ok=True)
        link = registry() / run_id
        if not link.is_symlink():
            link.symlink_to(state.resolve())
    except OSError as error:
        log.debug("no machine-wide index of runs: %s", error)


def _registered() -> list[Path]:
    """The links of the machine-wide index (none when it cannot be read)."""
    try:
        return [link for link in registry().iterdir() if link.is_symlink()]
    except OSError:
        return []


def unregister(run_id: str) -> None:
    with contextlib.suppress(OSError):
        (registry() / run_id).unlink()


def _quiet(argv: list[str]) -> int:
    """The exit code of `argv`, or -1 when it did not finish within 30 s."""
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode
    except subprocess.TimeoutExpired:
        log.warning("%s did not finish within 30 s", " ".join(argv))
        return -1


def remove_stale(root: Path | None = None) -> list[str]:
    """Release the leftovers of every run whose owner process is dead.

    Runs whose owner is alive (a concurrent run) are never touched.
    """
    root = root or state_root()
    candidates = set(root.iterdir()) if root.is_dir() else set()
    for link in _registered():
        try:
            if not link.exists():
                unregister(link.name)  # its folder is gone: nothing left to find
            else:
                candidates.add(link.resolve())
        except PermissionError:
            log.debug("%s: not readable, left alone", link)
    removed = []
    for state in sorted(candidates, key=lambda p: p.name):
        try:
            crashed = state.is_dir() and not owner_alive(state)
        except PermissionError:
            # Another user's run (root's, seen from a user's run): not ours to judge.
            log.debug("%s: not readable, left alone", state)
            continue
        if crashed:
            log.warning("removing what the crashed run %s left behind", state.name)
            for problem in release(state):
                log.error("could not remove: %s", problem)
            removed.append(state.name)
    return removed
