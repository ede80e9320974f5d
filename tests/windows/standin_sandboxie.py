"""Recorded Sandboxie-Plus programs for the stand-in: its installer, Start.exe and
SbieIni.exe, with their state in files of the host's disk.

* The installer (``Sandboxie-Plus-x64-v<version>.exe /VERYSILENT ...``) puts the
  programs into C:\\Program Files\\Sandboxie-Plus (or ``/DIR=``) and registers the
  service SbieSvc; without /VERYSILENT it would wait for a person, so it fails.
* SbieIni.exe ``set BOX KEY VALUE`` and ``query BOX KEY`` edit
  C:\\Windows\\Sandboxie.ini (an INI file, as the real one).
* Start.exe ``/box:NAME [/wait] [/silent] [/hide_window] [/env:K=V] PROGRAM ...``
  runs the rest of its command line, as written, in the box: reads fall through to
  the host's disk, writes land under the box's FileRootPath (``drive\\C\\...``), and
  the boxed program's console output does not reach Start.exe.  With /wait it
  exits with the program's exit code.  ``/reload``, ``/terminate`` and
  ``delete_sandbox_silent`` are recorded too.  Every program needs SbieSvc
  running; a box that is not defined and enabled in the ini does not start.
"""

from __future__ import annotations

import configparser
import io
import shutil
import threading
from typing import Any

from tests.windows.standin import (
    NULL,
    SCM_FILE,
    BoxView,
    Process,
    read_json,
    write_json,
)
from tests.windows.standin_cmd import run_simple, split_head
from tests.windows.standin_programs import program_file

INI = "C:\\Windows\\Sandboxie.ini"
INSTALL_DIR = "C:\\Program Files\\Sandboxie-Plus"
PROGRAMS_INSTALLED = ("Start", "SbieIni", "SbieSvc", "SbieCtrl")
SBIE_VERSION = "5.70.4"  # the version resource of Sandboxie-Plus 1.15.4's programs


def _service_running(proc: Process) -> bool:
    service = read_json(proc.machine.host_view, SCM_FILE, {}).get("SbieSvc", {})
    return service.get("state") == "RUNNING"


def _ini(proc: Process) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    path = proc.machine.path(INI)
    if path.is_file():
        parser.read_string(path.read_text("utf-16"))
    return parser


def _save(proc: Process, parser: configparser.ConfigParser) -> None:
    text = io.StringIO()
    parser.write(text)
    path = proc.machine.host_view.write(INI)
    path.write_text(text.getvalue(), "utf-16")  # Sandboxie.ini is UTF-16


def sbieini_main(proc: Process, argv: list[str], rest: str) -> int:
    if not _service_running(proc):
        proc.write_err("SBIE1301 The Sandboxie service is not running\r\n")
        return 1
    parser = _ini(proc)
    match argv[1:]:
        case ["set", box, key, value]:
            if not parser.has_section(box):
                parser.add_section(box)
            parser.set(box, key, value)
            _save(proc, parser)
            return 0
        case ["query", box, key]:
            proc.print(parser.get(box, key, fallback="") + "\r\n")
            return 0
    proc.write_err("usage: SbieIni set|query SECTION KEY [VALUE]\r\n")
    return 1


def start_main(proc: Process, argv: list[str], rest: str) -> int:
    if not _service_running(proc):
        return 1
    options: dict[str, Any] = {"env": {}}
    while rest:
        words, after = split_head(rest, 1)
        word = words[0] if words else ""
        lowered = word.lower()
        if lowered.startswith("/box:"):
            options["box"] = word[5:]
        elif lowered.startswith("/env:"):
            key, _, value = word[5:].partition("=")
            options["env"][key] = value
        elif lowered in ("/wait", "/silent", "/hide_window", "/reload", "/terminate"):
            options[lowered[1:]] = True
        elif lowered == "delete_sandbox_silent":
            options["delete"] = True
        else:
            break  # the program: the rest of the command line goes to it as written
        rest = after
    return _start(proc, options, rest)


def _start(proc: Process, options: dict[str, Any], command: str) -> int:
    if options.get("reload"):
        return 0
    box = options.get("box")
    parser = _ini(proc)
    if not box or parser.get(box, "Enabled", fallback="n") != "y":
        return 1  # SBIE: the box is not defined (with /silent, no message)
    root = parser.get(box, "FileRootPath", fallback=f"C:\\Sandbox\\vagrant\\{box}")
    if options.get("delete"):
        shutil.rmtree(proc.machine.path(root), ignore_errors=True)
        return 0
    if options.get("terminate") or not command:
        return 0
    view = BoxView(proc.machine, box, proc.machine.path(root))

    def boxed() -> int:
        with proc.inside(view, options["env"]), proc.redirected(NULL, NULL):
            return run_simple(proc, command)

    if not options.get("wait"):
        threading.Thread(target=boxed, daemon=True).start()
        return 0
    return boxed()


def installer_main(proc: Process, argv: list[str], rest: str) -> int:
    """Inno Setup's silent install of Sandboxie-Plus."""
    switches = [a.upper() for a in argv[1:]]
    if "/VERYSILENT" not in switches:
        proc.write_err(
            "stand-in: without /VERYSILENT the installer waits for a person\r\n"
        )
        return 1
    folder = next(
        (a[5:] for a in argv[1:] if a.upper().startswith("/DIR=")), INSTALL_DIR
    )
    for name in PROGRAMS_INSTALLED:
        path = proc.view.write(f"{folder}\\{name}.exe")
        path.write_bytes(program_file(name, SBIE_VERSION))
    services = read_json(proc.view, SCM_FILE, {})
    services["SbieSvc"] = {
        "state": "RUNNING",
        "pid": 4242,
        "binpath": f"{folder}\\SbieSvc.exe",
    }
    write_json(proc.view, SCM_FILE, services)
    return 0


PROGRAMS = [
    ("start", start_main),
    ("sbieini", sbieini_main),
    (r"sandboxie-plus-x64-v[\d.]+", installer_main),
]
