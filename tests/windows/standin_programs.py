"""The stand-in's installed programs: recorded stand-ins that exist as files.

A program runs only when its file is on the disk of the view that runs it (an
engine's program once its installer ran, a guest tool once it was uploaded or
copied into a container).  Which recording runs is decided by the file's name;
its content carries what Windows would read from a version resource
(``version=``).  Each recording keeps its state in files of the disk, as the real
program keeps it in files and registry hives, and checks its argv: an option it
does not know is an error, as it is for the real program.

* probe.exe: the guest tool's ``info`` and ``scm`` subcommands, answering JSON the
  way guest/probe does, on the service database of the view it runs in.
* docker.exe: standin_docker.py.  Start.exe, SbieIni.exe and the Sandboxie-Plus
  installer: standin_sandboxie.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.windows.standin import SCM_FILE, Process, Program, read_json, write_json
from tests.windows.standin_cmd import argv_split, program_name

ERROR_FILE_NOT_FOUND = 2
ERROR_INVALID_PARAMETER = 87
ERROR_SERVICE_ALREADY_RUNNING = 1056
ERROR_SERVICE_NOT_ACTIVE = 1062
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_SERVICE_EXISTS = 1073
IDENTITY = "C:\\harness\\identity.txt"


def program_file(kind: str, version: str = "1.0") -> bytes:
    """What a stand-in program's file holds."""
    return f"MZ stand-in {kind} version={version}\n".encode()


def program_at(proc: Process, windows: str) -> Program | None:
    """The recording for the program file at `windows`, None when no file is there."""
    if not proc.view.read(windows).is_file():
        return None
    name = program_name(windows)
    for pattern, program in _table():
        if re.fullmatch(pattern, name):
            return program
    return _no_recording


def _table() -> list[tuple[str, Program]]:
    from tests.windows import standin_docker, standin_sandboxie

    return [
        ("probe", probe_main),
        *standin_docker.PROGRAMS,
        *standin_sandboxie.PROGRAMS,
    ]


def _no_recording(proc: Process, argv: list[str], rest: str) -> int:
    proc.write_err(f"stand-in: no recording of {argv[0]}\r\n")
    return 1


# --- probe.exe ----------------------------------------------------------------------


def probe_main(proc: Process, argv: list[str], rest: str) -> int:
    answer: dict[str, Any] = {}
    match argv[1:]:
        case ["info"]:
            code = _info(proc, answer)
        case ["scm", verb, *args] if verb in SCM:
            code = SCM[verb](proc, answer, args)
        case _:
            code = _error(answer, "usage", ERROR_INVALID_PARAMETER, 2)
    proc.print(json.dumps({"ok": code == 0, **answer}) + "\n")
    return code


def _error(answer: dict[str, Any], call: str, code: int, exit_code: int = 1) -> int:
    answer["error"] = {"call": call, "code": code}
    return exit_code


def _info(proc: Process, answer: dict[str, Any]) -> int:
    identity = proc.view.read(IDENTITY)
    answer.update(
        computer_name=proc.machine.computer_name,
        build=proc.machine.build,
        view=proc.view.name,
        identity=identity.read_text("utf-8") if identity.is_file() else None,
    )
    return 0


def _services(proc: Process) -> dict[str, dict[str, Any]]:
    return dict(read_json(proc.view, SCM_FILE, {}))


def _service(proc: Process, answer: dict[str, Any], args: list[str]) -> Any:
    """The service record named by args[0], or None with the error in `answer`."""
    if len(args) != 1 or args[0].startswith("-"):
        _error(answer, "usage", ERROR_INVALID_PARAMETER)
        return None
    answer["name"] = args[0]
    found = {k.lower(): k for k in _services(proc)}.get(args[0].lower())
    if found is None:
        _error(answer, "OpenServiceW", ERROR_SERVICE_DOES_NOT_EXIST)
    return found


def _status(answer: dict[str, Any], record: dict[str, Any]) -> None:
    answer.update(state=record["state"], pid=record.get("pid", 0))


def _query(proc: Process, answer: dict[str, Any], args: list[str]) -> int:
    name = _service(proc, answer, args)
    if name is None:
        return 1
    _status(answer, _services(proc)[name])
    return 0


def _start(proc: Process, answer: dict[str, Any], args: list[str]) -> int:
    name = _service(proc, answer, args)
    if name is None:
        return 1
    services = _services(proc)
    record = services[name]
    if record["state"] == "RUNNING":
        _status(answer, record)
        return _error(answer, "StartServiceW", ERROR_SERVICE_ALREADY_RUNNING)
    program = argv_split(record.get("binpath", ""))[:1]
    if program and not proc.view.read(program[0]).is_file():
        _status(answer, record)
        return _error(answer, "StartServiceW", ERROR_FILE_NOT_FOUND)
    record.update(state="RUNNING", pid=1000 + len(services))
    write_json(proc.view, SCM_FILE, services)
    _status(answer, record)
    return 0


def _stop(proc: Process, answer: dict[str, Any], args: list[str]) -> int:
    name = _service(proc, answer, args)
    if name is None:
        return 1
    services = _services(proc)
    if services[name]["state"] != "RUNNING":
        _status(answer, services[name])
        return _error(answer, "ControlService", ERROR_SERVICE_NOT_ACTIVE)
    services[name].update(state="STOPPED", pid=0)
    write_json(proc.view, SCM_FILE, services)
    _status(answer, services[name])
    return 0


def _create(proc: Process, answer: dict[str, Any], args: list[str]) -> int:
    """scm create NAME BINPATH [--display T] [--start demand|auto] [--depend A,B]:
    any other option is a usage error, as in guest/probe/scm_config.c."""
    options = args[2:]
    known = {"--display", "--start", "--depend"}
    if len(args) < 2 or args[0].startswith("-") or args[1].startswith("-"):
        return _error(answer, "usage", ERROR_INVALID_PARAMETER, 2)
    if len(options) % 2 or any(o not in known for o in options[::2]):
        return _error(answer, "usage", ERROR_INVALID_PARAMETER, 2)
    answer["name"] = args[0]
    services = _services(proc)
    if args[0].lower() in {k.lower() for k in services}:
        return _error(answer, "CreateServiceW", ERROR_SERVICE_EXISTS)
    services[args[0]] = {"state": "STOPPED", "pid": 0, "binpath": args[1]}
    write_json(proc.view, SCM_FILE, services)
    answer.update(binpath=args[1], start="demand")
    return 0


def _delete(proc: Process, answer: dict[str, Any], args: list[str]) -> int:
    name = _service(proc, answer, args)
    if name is None:
        return 1
    services = _services(proc)
    del services[name]
    write_json(proc.view, SCM_FILE, services)
    return 0


SCM = {
    "query": _query,
    "start": _start,
    "stop": _stop,
    "create": _create,
    "delete": _delete,
}
