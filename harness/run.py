"""The run: its id, its label and the folders it owns.

Everything a run creates (mounts, namespaces, processes, folders) carries its label
so that the next run can find and remove what a crashed run left behind, and only
that.  A run's state folder holds `owner.pid`; a state folder whose owner is dead
belongs to a crashed run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import shutil
import tempfile
from pathlib import Path

LABEL_PREFIX = "hx"


def cache_root() -> Path:
    """Where cached artefacts live (golden prefixes, built guest tools)."""
    if os.environ.get("HARNESS_CACHE"):
        return Path(os.environ["HARNESS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "harness"


def state_root() -> Path:
    """Where runs keep their live state (container folders, mount points)."""
    if os.environ.get("HARNESS_STATE"):
        return Path(os.environ["HARNESS_STATE"])
    return cache_root() / "runs"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id such as 20261203T183400Z-3f9a1c."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclasses.dataclass
class Run:
    """One execution of a selection of cells."""

    id: str
    state: Path  # this run's folder under state_root()

    @property
    def label(self) -> str:
        """Short label for names with length limits (network namespaces): hx<6 hex>."""
        return LABEL_PREFIX + self.id.rsplit("-", 1)[-1]

    @classmethod
    def create(cls, run_id: str | None = None, owner: int | None = None) -> Run:
        """The run's state folder, owned by `owner` (default: this process).

        The first process to create it names the owner; pytest-xdist workers pass
        their controller's pid, which outlives them.
        """
        run_id = run_id or new_run_id()
        state = state_root() / run_id
        if not state.is_dir():
            _create_owned(state, owner or os.getpid())
        from harness.cleanup import register

        register(run_id, state)
        return cls(run_id, state)


def _create_owned(state: Path, pid: int) -> None:
    """Make a state folder that holds owner.pid from the moment it exists, so a
    concurrent run's cleanup never sees it without an owner and takes it for a
    crashed run's.  When another process made it first, theirs stays."""
    state.parent.mkdir(parents=True, exist_ok=True)
    draft = Path(tempfile.mkdtemp(prefix=f".{state.name}.", dir=state.parent))
    (draft / "owner.pid").write_text(f"{pid} {_start_time(pid) or ''}".rstrip() + "\n")
    try:
        draft.rename(state)
    except OSError:  # made meanwhile by another process of the run
        shutil.rmtree(draft, ignore_errors=True)
        if not state.is_dir():
            raise


def _start_time(pid: int) -> str | None:
    """The start time of a live process in clock ticks since boot (None when it is
    gone or a zombie): with the pid it names one process, even after pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def owner_alive(state: Path) -> bool:
    """True when the process that owns a run's state folder is still running.

    A killed owner can linger as a zombie until an init that reaps slowly gets to
    it, and its pid can be reused: both count as dead.
    """
    try:
        pid_text, *started = (state / "owner.pid").read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    now = _start_time(pid)
    if now is None:
        return False
    return not started or started[0] == now
