"""The service catalogue: every service the matrix can name, and what its checks mean.

A service here is what an engine must duplicate into each container.  The catalogue
says which SCM names must be RUNNING for `starts` (with the dependencies) and, in
words, what `serves` and `isolated` prove; the case module in cases/ does the work.
"""

from __future__ import annotations

import dataclasses

CHECKS = ("starts", "serves", "isolated")


@dataclasses.dataclass(frozen=True)
class Service:
    name: str
    title: str
    scm_names: tuple[str, ...]  # what must be RUNNING in the container, in start order
    serves: str
    isolated: str
    windows_scm_names: tuple[str, ...] = ()  # when Windows needs more than Wine has
    port: int | None = None  # the fixed port the service listens on, if any


ORDINARY = Service(
    name="ordinary",
    title="Ordinary own-process service (dupsvc.exe)",
    scm_names=("HarnessDup",),
    serves="a TCP client gets the identity of the container whose instance answered",
    isolated="host and peer cannot open the service (1060); stopping it in one "
    "container leaves the other running; the same port is usable in the peer",
    port=8135,
)

# System services.  Each entry is owned by its case module in cases/; the texts say
# what the checks prove, the names what must be RUNNING for `starts`.
RPCSS = Service(
    name="rpcss",
    title="RPC endpoint mapper (RPCSS)",
    scm_names=("RpcSs",),
    windows_scm_names=("RpcEptMapper", "DcomLaunch", "RpcSs"),
    serves="our RPC server registers in the container's endpoint mapper under a "
    "fresh interface UUID; resolving it and calling returns the container's "
    "identity, locally (ncalrpc) and from the client machine through TCP 135 "
    "(the probe in the client's own prefix, and impacket)",
    isolated="the host and the peer resolve that UUID to not registered (1753); "
    "the peer's own server with the same UUID, endpoint name and port answers for "
    "the peer, and stopping or crashing the container's RpcSs leaves the peer's "
    "mapper and server and the host's mapper untouched",
    port=135,
)
DCOM = Service(
    name="dcom",
    title="DCOM activation of a local server",
    scm_names=("RpcSs",),
    windows_scm_names=("RpcEptMapper", "DcomLaunch", "RpcSs"),
    serves="CoCreateInstance(CLSCTX_LOCAL_SERVER) starts our COM server registered "
    "only in the container; its answer carries the container's identity",
    isolated="the host and the peer get REGDB_E_CLASSNOTREG (0x80040154); when both "
    "containers register the class, each activates its own server; stopping or "
    "crashing the container's RpcSs leaves the peer's activation and the host "
    "untouched",
)
IIS = Service(
    name="iis",
    title="IIS core: HTTP.sys URL registration",
    scm_names=("HTTP",),
    windows_scm_names=("HTTP", "WAS", "W3SVC"),
    serves="our HTTP Server API server registers http://+:8180/dup/ in the "
    "container; an HTTP GET from the client machine to the container's address "
    "returns the container's identity",
    isolated="the container's URL does not answer at the peer's or the host's "
    "address; the same URL registered in the peer works only with network "
    "isolation (HttpAddUrl 32 otherwise); stopping or crashing the container's "
    "HTTP instance leaves the peer's and the host's listeners untouched",
    port=8180,
)
SPOOLER = Service(
    name="spooler",
    title="Print Spooler",
    scm_names=("Spooler",),
    serves="a printer added in the container (port FILE:, RAW) prints a job carrying "
    "the container's identity to a file; the same print fails once the container's "
    "spooler is stopped",
    isolated="the host and the peer cannot open that printer (1801); the peer adds "
    "and prints to the same printer name; stopping the container's spooler leaves "
    "the host's and the peer's untouched",
)
EVENTLOG = Service(
    name="eventlog",
    title="Event Log",
    scm_names=("EventLog",),
    serves="an event whose text carries the container's identity and a fresh token, "
    "written through the container's log, is read back there (ReadEventLog)",
    isolated="the host's and the peer's logs do not hold it; the peer writes through "
    "the same source; stopping the container's log leaves theirs untouched",
)
SCHEDULE = Service(
    name="schedule",
    title="Task Scheduler",
    scm_names=("Schedule",),
    serves="a task registered in the container (ITaskService, ASCII XML) is read "
    "back with its description; on Windows it also runs and its output is read",
    isolated="the host and the peer cannot find the task (0x80070002); the peer "
    "registers the same name; stopping or crashing the container's Schedule "
    "leaves theirs and their tasks untouched",
)
WMI = Service(
    name="wmi",
    title="Windows Management Instrumentation",
    scm_names=("winmgmt",),
    serves="a WQL query on Win32_Service in the container lists the container's "
    "ordinary service with the state and process id its SCM reports, and sees it "
    "stop; the same query fails once the container's Winmgmt is disabled and "
    "stopped",
    isolated="the host's and the peer's queries do not list it; the peer's own "
    "service of that name is listed there; stopping the container's Winmgmt "
    "leaves theirs untouched",
)
BITS = Service(
    name="bits",
    title="Background Intelligent Transfer Service",
    scm_names=("BITS",),
    serves="a transfer job named with the container's identity, created there, is "
    "listed there with its id",
    isolated="the host and the peer do not list it; the peer creates a job of the "
    "same name; stopping the container's BITS leaves theirs untouched",
)

CATALOGUE: dict[str, Service] = {
    s.name: s
    for s in (ORDINARY, RPCSS, DCOM, IIS, SPOOLER, EVENTLOG, SCHEDULE, WMI, BITS)
}


def get(name: str) -> Service:
    """The catalogue entry for `name` (KeyError lists the known names)."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"unknown service {name!r}; known: {known}") from None
