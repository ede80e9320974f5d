"""A recorded docker for the stand-in: the CLI of docker 27 on Windows, as far as
the windows-containers engine uses it, with its state in files of the host's disk.

* The CLI needs its service (``docker``) running, as the real one needs dockerd.
* Images come from a small registry of Windows base images (their OsVersion);
  ``create`` of a missing image pulls it, as docker does.
* A container's C: is a folder of the host's disk; ``cp`` copies into it with
  docker's rules (a folder onto a missing destination becomes that destination),
  ``exec`` runs a program inside it (the program must be there), ``start`` refuses
  process isolation when the image's build is not the host's, as Windows does.
* Networks: ``nat`` (addresses 172.20.x.y) and user networks; ``--ip`` only on a
  user network and inside its subnet; a transparent network needs an existing
  adapter (``--opt com.docker.network.windowsshim.interface``).
* Every flag is checked: an unknown one fails with exit 125 as docker's does.

The installer ``docker-setup-<version>.exe /quiet`` puts docker.exe into
C:\\Program Files\\docker, adds it to the PATH and registers the service.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
from pathlib import Path
from typing import Any

from tests.windows.standin import SCM_FILE, Process, RootView, read_json, write_json
from tests.windows.standin_cmd import run_simple
from tests.windows.standin_programs import program_file

STATE = "C:\\ProgramData\\docker\\hx-docker.json"
HOME = "C:\\ProgramData\\docker\\containers"
INSTALL_DIR = "C:\\Program Files\\docker"
ADAPTER = "Ethernet 2"  # the stand-in's lab adapter
SHIM = "com.docker.network.windowsshim.interface"
ADDRESS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
REGISTRY = {
    "mcr.microsoft.com/windows/servercore:ltsc2016": "10.0.14393.7159",
    "mcr.microsoft.com/windows/servercore:ltsc2019": "10.0.17763.6293",
    "mcr.microsoft.com/windows/servercore:ltsc2022": "10.0.20348.2700",
    "mcr.microsoft.com/windows/servercore:ltsc2025": "10.0.26100.1742",
}
# subcommand -> {flag: takes a value}
FLAGS: dict[str, dict[str, bool]] = {
    "version": {"--format": True},
    "image inspect": {"--format": True},
    "inspect": {"--format": True},
    "pull": {},
    "network inspect": {},
    "network create": {
        "--driver": True,
        "--subnet": True,
        "--gateway": True,
        "--opt": True,
    },
    "create": {
        "--name": True,
        "--label": True,
        "--isolation": True,
        "--hostname": True,
        "--network": True,
        "--ip": True,
    },
    "cp": {},
    "start": {},
    "exec": {"--env": True},
    "rm": {"--force": False},
    "ps": {"--all": False, "--quiet": False, "--filter": True},
}


class DockerError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def docker_main(proc: Process, argv: list[str], rest: str) -> int:
    if not _service_running(proc):
        proc.write_err(
            "error during connect: this error may indicate that the docker daemon "
            "is not running\r\n"
        )
        return 1
    words = argv[1:]
    command = " ".join(words[:2]) if " ".join(words[:2]) in FLAGS else words[0]
    if command not in FLAGS:
        proc.write_err(
            f"docker: '{words[0] if words else ''}' is not a docker command.\r\n"
        )
        return 1
    try:
        options, args = _parse(command, words[len(command.split()) :])
        state = read_json(proc.view, STATE, _empty())
        code = COMMANDS[command](proc, state, options, args)
        write_json(proc.view, STATE, state)
        return code
    except DockerError as error:
        proc.write_err(f"{error}\r\n")
        return error.code


def _service_running(proc: Process) -> bool:
    service = read_json(proc.machine.host_view, SCM_FILE, {}).get("docker", {})
    return service.get("state") == "RUNNING"


def _empty() -> dict[str, Any]:
    return {"images": {}, "containers": {}, "networks": {}, "next_nat": 2}


def _parse(command: str, words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """docker's flags before the positional arguments (exec/create stop at the
    image or container, whose own argv follows)."""
    known, options, i = FLAGS[command], {}, 0
    while i < len(words) and words[i].startswith("-"):
        name, equal, value = words[i].partition("=")
        if name not in known:
            raise DockerError(f"unknown flag: {name}", 125)
        if known[name] and not equal:
            i += 1
            if i == len(words):
                raise DockerError(f"flag needs an argument: {name}", 125)
            value = words[i]
        options.setdefault(name, []).append(value if known[name] else "true")
        i += 1
    return options, words[i:]


def _one(options: dict[str, list[str]], name: str, default: str = "") -> str:
    return options.get(name, [default])[-1]


def _find(state: dict[str, Any], ref: str) -> str:
    for cid, record in state["containers"].items():
        if ref in (record["name"], cid) or (len(ref) >= 12 and cid.startswith(ref)):
            return cid
    raise DockerError(f"Error response from daemon: No such container: {ref}")


def _root(proc: Process, cid: str) -> Path:
    return proc.machine.path(f"{HOME}\\{cid}")


# --- the subcommands ----------------------------------------------------------------


def _version(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if _one(options, "--format") != "{{.Server.Version}}":
        raise DockerError("stand-in: only --format {{.Server.Version}} is recorded")
    text = proc.view.read(f"{INSTALL_DIR}\\docker.exe").read_text()
    proc.print(text.split("version=")[1].split()[0] + "\r\n")
    return 0


def _image_inspect(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if _one(options, "--format") != "{{.OsVersion}}" or len(args) != 1:
        raise DockerError("stand-in: only --format {{.OsVersion}} IMAGE is recorded")
    if args[0] not in state["images"]:
        raise DockerError(f"Error: No such image: {args[0]}")
    proc.print(state["images"][args[0]] + "\r\n")
    return 0


def _pull(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if len(args) != 1:
        raise DockerError('"docker pull" requires exactly 1 argument.')
    if args[0] not in REGISTRY:
        raise DockerError(
            f"Error response from daemon: manifest for {args[0]} not found"
        )
    state["images"][args[0]] = REGISTRY[args[0]]
    proc.print(f"Status: Downloaded newer image for {args[0]}\r\n")
    return 0


def _network_inspect(proc: Process, state: dict, options: dict, args: list) -> int:
    if not args or args[0] not in state["networks"]:
        raise DockerError(f"Error: No such network: {args[0] if args else ''}")
    proc.print(json.dumps([{"Name": args[0], **state["networks"][args[0]]}]) + "\r\n")
    return 0


def _network_create(proc: Process, state: dict, options: dict, args: list) -> int:
    if len(args) != 1:
        raise DockerError('"docker network create" requires exactly 1 argument.')
    if args[0] in state["networks"]:
        raise DockerError(
            f"Error response from daemon: network with name {args[0]} already exists"
        )
    driver = _one(options, "--driver", "nat")
    opts = dict(o.partition("=")[::2] for o in options.get("--opt", []))
    if driver == "transparent" and opts.get(SHIM) != ADAPTER:
        raise DockerError(
            "Error response from daemon: HNS failed with error : The network "
            f"adapter {opts.get(SHIM)!r} was not found"
        )
    subnet = ipaddress.ip_network(_one(options, "--subnet", "10.99.0.0/24"))
    state["networks"][args[0]] = {"Driver": driver, "Subnet": str(subnet)}
    proc.print(hashlib.sha256(args[0].encode()).hexdigest() + "\r\n")
    return 0


def _create(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if not args:
        raise DockerError('"docker create" requires at least 1 argument.')
    name, image = _one(options, "--name"), args[0]
    if any(r["name"] == name for r in state["containers"].values()):
        raise DockerError(
            "Error response from daemon: Conflict. The container name "
            f'"/{name}" is already in use'
        )
    if _one(options, "--isolation", "process") not in ("process", "hyperv"):
        raise DockerError("Error response from daemon: invalid isolation", 125)
    if image not in state["images"]:
        _pull(proc, state, {}, [image])
    network, ip = _one(options, "--network", "nat"), _one(options, "--ip") or None
    _check_address(state, network, ip)
    cid = hashlib.sha256(f"{name}{len(state['containers'])}".encode()).hexdigest()
    state["containers"][cid] = {
        "name": name or cid[:12],
        "image": image,
        "isolation": _one(options, "--isolation", "process"),
        "labels": dict(lab.partition("=")[::2] for lab in options.get("--label", [])),
        "network": network,
        "ip": ip,
        "state": "created",
    }
    # The image's C: drive; its service database is the image's own.
    image_view = RootView(proc.machine, name, _root(proc, cid))
    image_view.write("C:\\Windows\\System32\\config\\.keep").write_bytes(b"")
    proc.print(cid + "\r\n")
    return 0


def _check_address(state: dict, network: str, ip: str | None) -> None:
    if network != "nat" and network not in state["networks"]:
        raise DockerError(f"Error response from daemon: network {network} not found")
    if ip is None:
        return
    if network == "nat":
        raise DockerError(
            "Error response from daemon: user specified IP address is supported on "
            "user defined networks only"
        )
    subnet = ipaddress.ip_network(state["networks"][network]["Subnet"])
    if ipaddress.ip_address(ip) not in subnet:
        raise DockerError(
            f"Error response from daemon: no configured subnet contains IP address {ip}"
        )
    if any(r["ip"] == ip for r in state["containers"].values()):
        raise DockerError(f"Error response from daemon: Address already in use: {ip}")


def _cp(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if len(args) != 2 or ":" not in args[1][2:]:
        raise DockerError(
            "stand-in: only docker cp HOSTPATH CONTAINER:PATH is recorded"
        )
    ref, _, dest = args[1].partition(":")
    cid = _find(state, ref)
    record = state["containers"][cid]
    if record["isolation"] == "hyperv" and record["state"] == "running":
        raise DockerError(
            "Error response from daemon: filesystem operations against a running "
            "Hyper-V container are not supported"
        )
    source = proc.view.read(args[0])
    if not source.exists():
        raise DockerError(f"stat {args[0]}: The system cannot find the file specified.")
    target = RootView(proc.machine, cid, _root(proc, cid)).read(dest)
    if target.is_dir():
        target = target / source.name
    elif not target.parent.is_dir():
        raise DockerError(f"Error response from daemon: {dest}: no such directory")
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)
    return 0


def _start(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    cid = _find(state, args[0] if args else "")
    record = state["containers"][cid]
    image_build = int(state["images"][record["image"]].split(".")[2])
    if record["isolation"] == "process" and image_build != proc.machine.build:
        raise DockerError(
            f"Error response from daemon: hcs::CreateComputeSystem {record['name']}: "
            "The container operating system does not match the host operating system."
        )
    if record["network"] == "nat" and not record.get("nat_ip"):
        record["nat_ip"] = (
            f"172.20.{state['next_nat'] // 250}.{state['next_nat'] % 250}"
        )
        state["next_nat"] += 1
    record["state"] = "running"
    proc.print(args[0] + "\r\n")
    return 0


def _inspect(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if _one(options, "--format") != ADDRESS_FORMAT or len(args) != 1:
        raise DockerError("stand-in: only the harness's address format is recorded")
    record = state["containers"][_find(state, args[0])]
    shown = record["ip"] if record["network"] != "nat" else record.get("nat_ip", "")
    proc.print(f"{shown} \r\n" if shown else "\r\n")
    return 0


def _exec(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if len(args) < 2:
        raise DockerError('"docker exec" requires at least 2 arguments.')
    cid = _find(state, args[0])
    if state["containers"][cid]["state"] != "running":
        raise DockerError(f"Error response from daemon: container {cid} is not running")
    env = dict(e.partition("=")[::2] for e in options.get("--env", []))
    view = RootView(proc.machine, state["containers"][cid]["name"], _root(proc, cid))
    with proc.inside(view, env):
        return run_simple(proc, " ".join(_escape_arg(a) for a in args[1:]))


def _escape_arg(arg: str) -> str:
    """How docker (Go's syscall.EscapeArg) joins argv into a Windows command line."""
    if arg and not any(c in arg for c in ' \t"'):
        return arg
    out, slashes = ['"'], 0
    for char in arg:
        if char == "\\":
            slashes += 1
            continue
        out.append(
            "\\" * (2 * slashes + 1) + '"' if char == '"' else "\\" * slashes + char
        )
        slashes = 0
    out.append("\\" * (2 * slashes) + '"')
    return "".join(out)


def _rm(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    for ref in args:
        cid = _find(state, ref)
        if state["containers"][cid]["state"] == "running" and "--force" not in options:
            raise DockerError(
                f"Error response from daemon: cannot remove container {ref}: "
                "container is running"
            )
        del state["containers"][cid]
        shutil.rmtree(_root(proc, cid), ignore_errors=True)
        proc.print(ref + "\r\n")
    return 0


def _ps(proc: Process, state: dict, options: dict, args: list[str]) -> int:
    if "--quiet" not in options or "--all" not in options:
        raise DockerError("stand-in: only docker ps --all --quiet is recorded")
    wanted = [f.removeprefix("label=") for f in options.get("--filter", [])]
    for cid, record in state["containers"].items():
        labels = [f"{k}={v}" for k, v in record["labels"].items()]
        if all(w in labels for w in wanted):
            proc.print(cid[:12] + "\r\n")
    return 0


COMMANDS = {
    "version": _version,
    "image inspect": _image_inspect,
    "pull": _pull,
    "network inspect": _network_inspect,
    "network create": _network_create,
    "create": _create,
    "cp": _cp,
    "start": _start,
    "inspect": _inspect,
    "exec": _exec,
    "rm": _rm,
    "ps": _ps,
}


def installer_main(proc: Process, argv: list[str], rest: str) -> int:
    """docker-setup-<version>.exe /quiet: docker.exe, the PATH, the service."""
    if [a.lower() for a in argv[1:]] != ["/quiet"]:
        proc.write_err("stand-in: the installer is recorded with /quiet only\r\n")
        return 1
    version = proc.view.read(argv[0]).read_text().split("version=")[1].split()[0]
    for name in ("docker", "dockerd"):
        path = proc.view.write(f"{INSTALL_DIR}\\{name}.exe")
        path.write_bytes(program_file(name, version))
    proc.machine.add_to_path(INSTALL_DIR)
    services = read_json(proc.view, SCM_FILE, {})
    services["docker"] = {
        "state": "RUNNING",
        "pid": 4711,
        "binpath": f"{INSTALL_DIR}\\dockerd.exe --run-service",
    }
    write_json(proc.view, SCM_FILE, services)
    return 0


PROGRAMS = [("docker", docker_main), (r"docker-setup-[\d.]+", installer_main)]
