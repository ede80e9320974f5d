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
    serves="an interface registered in the container's endpoint mapper under a "
    "fresh UUID resolves and answers, locally and from the client machine",
    isolated="the host and the peer resolve that UUID to not registered (1753)",
    port=135,
)
DCOM = Service(
    name="dcom",
    title="DCOM activation of a local server",
    scm_names=("RpcSs",),
    windows_scm_names=("RpcEptMapper", "DcomLaunch", "RpcSs"),
    serves="CoCreateInstance(CLSCTX_LOCAL_SERVER) starts our COM server registered "
    "only in the container; its answer carries the container's identity",
    isolated="the peer gets REGDB_E_CLASSNOTREG; when both register the class, each "
    "activates its own server",
)
IIS = Service(
    name="iis",
    title="IIS core: HTTP.sys URL registration",
    scm_names=("HTTP",),
    windows_scm_names=("HTTP", "WAS", "W3SVC"),
    serves="an HTTP GET from the client machine to the container's address returns "
    "the container's identity",
    isolated="the same URL registered in the peer works only with network "
    "isolation; the host's listener is unaffected",
    port=8180,
)
SPOOLER = Service(
    name="spooler",
    title="Print Spooler",
    scm_names=("Spooler",),
    serves="a printer added in the container prints a job to a file; the same print "
    "fails once the container's spooler is stopped",
    isolated="the host and the peer cannot open that printer (1801)",
)
EVENTLOG = Service(
    name="eventlog",
    title="Event Log",
    scm_names=("EventLog",),
    serves="an event with a unique text written through the container's log is "
    "read back there",
    isolated="the host and the peer cannot find it",
)
SCHEDULE = Service(
    name="schedule",
    title="Task Scheduler",
    scm_names=("Schedule",),
    serves="a task registered in the container is read back (on Windows: it runs)",
    isolated="the peer cannot find the task",
)
WMI = Service(
    name="wmi",
    title="Windows Management Instrumentation",
    scm_names=("winmgmt",),
    serves="a WQL query on Win32_Service lists the container's ordinary service "
    "with its state",
    isolated="the peer's query does not list it",
)
BITS = Service(
    name="bits",
    title="Background Intelligent Transfer Service",
    scm_names=("BITS",),
    serves="a transfer job created in the container is listed there",
    isolated="the peer does not list it",
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
