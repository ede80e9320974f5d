"""A tiny Windows stand-in: cmd.exe, a sliver of PowerShell and a few recorded
programs, run on this machine.

Nothing here can run Windows, so the loopback WS-Management server runs commands
with this stand-in instead.  It models the behaviour the harness depends on, as
Windows has it:

* cmd.exe (standin_cmd.py): the 8191-character limit, caret escapes, quotes, the
  ``&``/``&&``/``|`` operators (so an injection would really run a second command),
  ``>``/``2>`` redirections, ``exit N``, ``cmd /c`` with its rule for outer quotes,
  ``echo``, ``type`` (raw bytes, as on Windows), ``start ["title"] [/wait]``,
  ``timeout /t``, ``sc query`` (localized text, numeric exit code), ``shutdown /r``,
  9009 for an unknown program, and output in the shell's code page (``?`` for
  characters it cannot encode).
* The disk is a folder (C:\\x is root/C/x); the registry hives the harness touches
  are files on it (the service database, the machine's PATH), so a snapshot of the
  folder is a snapshot of the machine.  A process sees the disk through a view: the
  host's, a Windows container's own root, or a sandbox that reads through to the
  host and writes into its box.
* Installed programs exist only as files: a program named by path runs when its
  file is there, a bare name is looked up in the machine's PATH (System32 holds
  cmd, sc, powershell ...).  What each recorded program does is in
  standin_programs.py, standin_docker.py and standin_sandboxie.py.
* powershell.exe: standin_ps.py.  The harness's own scripts (``# hx:name``) are
  emulated there in Python: no PowerShell runs here, so their bodies never execute
  in these tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SYSTEM32 = "C:\\Windows\\System32"
SCM_FILE = f"{SYSTEM32}\\config\\hx-services.json"  # stands for the SYSTEM hive
ENV_FILE = f"{SYSTEM32}\\config\\hx-environment.json"
Program = Callable[["Process", list[str], str], int]


class Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Cancelled(Exception):
    """The process was terminated (Signal terminate, shell deleted)."""


# --- the disk and how processes see it ---------------------------------------------


def drive_path(root: Path, windows: str) -> Path:
    """Where a Windows path lives under `root` (C:\\x -> root/C/x)."""
    text = windows.replace("/", "\\")
    drive, _, rest = text.partition(":\\")
    parts = [p for p in rest.split("\\") if p and p != "."]
    return root.joinpath(drive.upper() or "C", *parts)


class View:
    """The host's own disk: reads and writes go to the same place."""

    def __init__(self, machine: Machine, name: str = "host") -> None:
        self.machine = machine
        self.name = name

    def read(self, windows: str) -> Path:
        return self.machine.path(windows)

    def write(self, windows: str) -> Path:
        path = self.read(windows)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


class RootView(View):
    """A Windows container: its own C: under `root`, nothing of the host's."""

    def __init__(self, machine: Machine, name: str, root: Path) -> None:
        super().__init__(machine, name)
        self.root = root

    def read(self, windows: str) -> Path:
        return drive_path(self.root, windows)


class BoxView(View):
    """A sandbox: reads fall through to the host, writes land in the box's folder."""

    def __init__(self, machine: Machine, name: str, box_root: Path) -> None:
        super().__init__(machine, name)
        self.box_root = box_root  # <FileRootPath>, as a path of this machine

    def read(self, windows: str) -> Path:
        copy = self._copy(windows)
        return copy if copy.exists() else self.machine.path(windows)

    def write(self, windows: str) -> Path:
        copy = self._copy(windows)
        copy.parent.mkdir(parents=True, exist_ok=True)
        return copy

    def _copy(self, windows: str) -> Path:
        return drive_path(self.box_root / "drive", windows)


def read_json(view: View, windows: str, default: Any) -> Any:
    path = view.read(windows)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def write_json(view: View, windows: str, value: Any) -> None:
    view.write(windows).write_text(json.dumps(value, indent=1), encoding="utf-8")


@dataclasses.dataclass
class Machine:
    """The stand-in host: a folder for its disk, code pages, boot time, what ran."""

    root: Path
    oem_codepage: int = 437
    ansi_codepage: int = 1252
    build: int = 20348
    computer_name: str = "HXSTANDIN"
    language: str = "en"
    boot_time: str = "2026-12-01T08:00:00.0000000Z"
    licence_expired_at: str | None = None  # when WLMS logged event 100
    evaluation_end: str | None = None  # SoftwareLicensingProduct.EvaluationEndDate
    lab_address: str | None = None  # the address of its lab network adapter
    unreachable: set[str] = dataclasses.field(default_factory=set)  # no route there
    executed: list[list[str]] = dataclasses.field(default_factory=list)
    command_lines: list[str] = dataclasses.field(default_factory=list)
    open_files: set[Path] = dataclasses.field(default_factory=set)
    corrupt_uploads: bool = False  # flip a byte of every upload (a damaged transfer)
    on_shutdown: Callable[[], None] | None = None

    def path(self, windows: str) -> Path:
        """Where a Windows path of the host lives on this machine."""
        return drive_path(self.root, windows)

    @property
    def host_view(self) -> View:
        return View(self)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        """The host's service database: name -> state, pid, binary path."""
        return dict(read_json(self.host_view, SCM_FILE, {}))

    @services.setter
    def services(self, value: set[str] | dict[str, dict[str, Any]]) -> None:
        if not isinstance(value, dict):
            value = {
                name: {"state": "RUNNING", "pid": 800 + i, "binpath": ""}
                for i, name in enumerate(sorted(value))
            }
        write_json(self.host_view, SCM_FILE, value)

    def add_to_path(self, folder: str) -> None:
        """What an installer does to the machine's PATH (new shells see it)."""
        env = read_json(self.host_view, ENV_FILE, {})
        env["Path"] = [*env.get("Path", []), folder]
        write_json(self.host_view, ENV_FILE, env)

    def search_path(self) -> list[str]:
        extra = read_json(self.host_view, ENV_FILE, {}).get("Path", [])
        return [SYSTEM32, "C:\\Windows", *extra]


# --- processes ----------------------------------------------------------------------


class Process:
    """One command running in a thread, with stdin, stdout, stderr and exit code."""

    def __init__(
        self,
        machine: Machine,
        line: str,
        codepage: int,
        env: dict[str, str],
        view: View | None = None,
    ) -> None:
        self.machine, self.line, self.codepage, self.env = machine, line, codepage, env
        self.view = view or machine.host_view
        self.stdin: queue.Queue[bytes | None] = queue.Queue()
        self.out, self.err = bytearray(), bytearray()
        self.sinks: list[tuple[Any, Any]] = []  # redirections, innermost last
        self.exit_code: int | None = None
        self.cancel = threading.Event()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        from tests.windows.standin_cmd import run_cmd

        try:
            code = run_cmd(self, self.line)
        except Cancelled:
            code = 0xC000013A  # STATUS_CONTROL_C_EXIT, as for a terminated process
        except Exception as error:  # noqa: BLE001 - a stand-in bug shows as output
            self.sinks.clear()
            self.write_err(f"stand-in error: {type(error).__name__}: {error}\r\n")
            code = 99
        with self.changed:
            self.exit_code = code
            self.changed.notify_all()

    def write(self, data: bytes) -> None:
        if self.sinks and self.sinks[-1][0] is not None:
            self.sinks[-1][0].write(data)
            return
        with self.changed:
            self.out += data
            self.changed.notify_all()

    def write_err(self, text: str | bytes) -> None:
        data = text if isinstance(text, bytes) else self.encode(text)
        if self.sinks and self.sinks[-1][1] is not None:
            self.sinks[-1][1].write(data)
            return
        with self.changed:
            self.err += data
            self.changed.notify_all()

    @contextlib.contextmanager
    def redirected(self, out: Any = None, err: Any = None) -> Iterator[None]:
        """Send output to file-like sinks (None keeps the current destination)."""
        current = self.sinks[-1] if self.sinks else (None, None)
        self.sinks.append((out or current[0], err or current[1]))
        try:
            yield
        finally:
            self.sinks.pop()

    @contextlib.contextmanager
    def inside(self, view: View, env: dict[str, str] | None = None) -> Iterator[None]:
        """Run the next commands in another view (a container, a sandbox)."""
        saved = self.view, self.env
        self.view, self.env = view, {**self.env, **(env or {})}
        try:
            yield
        finally:
            self.view, self.env = saved

    def encode(self, text: str, codepage: int | None = None) -> bytes:
        codepage = codepage or self.codepage
        codec = "utf-8" if codepage == 65001 else f"cp{codepage}"
        return text.encode(codec, errors="replace")

    def print(self, text: str) -> None:
        self.write(self.encode(text))

    def take(self, wait: float) -> tuple[bytes, bytes, int | None]:
        """Output so far, waiting up to `wait` seconds for some or for the end."""
        with self.changed:
            self.changed.wait_for(
                lambda: self.out or self.err or self.exit_code is not None, wait
            )
            out, err = bytes(self.out), bytes(self.err)
            self.out.clear()
            self.err.clear()
            return out, err, self.exit_code

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled()

    def terminate(self) -> None:
        self.cancel.set()
        self.stdin.put(None)


class _Null:
    def write(self, data: bytes) -> None:
        pass


NULL = _Null()


def utc_now(offset: float = 0.0) -> str:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
