"""The model of the stateful isolation machine: markers, names and what each place
should see.  Pure data and functions, no engine; cases/test_isolation_state.py
drives the live engine and compares what the probe observes with this model.

A *marker* is something a container plants through one of its own services: a
service registration (SCM), a named mutex or event (object manager), a named pipe,
a registry value, a printer (spooler), a scheduled task, a COM class, or an RPC
interface registered in the endpoint mapper (RPCSS).  Isolation means that a
marker is visible in the container that planted it and nowhere else: not in a
peer, not on the host side, and not in a later container that gets the same name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

DUP_SERVICE = "HarnessDup"
REG_KEY = "HKLM\\Software\\HarnessIsolation"
# where `com register {CLSID}` names comsrv.exe (str.format with the CLSID)
CLSID_KEY = "HKLM\\Software\\Classes\\CLSID\\{}\\LocalServer32"
TASK_NAME = r"[A-Za-z0-9._-]+"
UUID = r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
CLSID = r"\{" + UUID + r"\}"
PRESENT, ABSENT, OTHER_KIND, EITHER = "present", "absent", "other kind", "either"
# An RPC interface whose server is gone but whose mapper entry stayed: it
# resolves, and the call finds nobody (1722).  On Wine 8 a removed interface is
# left so (RpcEpUnregister changes nothing there), so in the container that
# removed it the model accepts this or ABSENT: GONE.
STALE, GONE = "stale", "gone"


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of marker and the naming rules Windows documents for it."""

    name: str
    limit: int  # most UTF-16 code units a name may have
    forbidden: str  # characters a name may not contain
    folds_case: bool  # whether names differing only in case are the same name
    namespace: str  # kinds sharing a namespace collide on the same name
    pattern: str = ""  # when set, a name must match this regular expression whole


KINDS = {
    k.name: k
    for k in (
        # CreateService: at most 256 characters; '/' and '\' are not allowed.
        Kind("service", 256, "/\\", True, "service"),
        # Mutexes and events share the object namespace; MAX_PATH; '\' separates
        # the Global\ and Local\ prefixes, so a plain name has none.
        Kind("mutex", 260, "\\", False, "object"),
        Kind("event", 260, "\\", False, "object"),
        # \\.\pipe\NAME is at most 256 characters in all; names ignore case.
        Kind("pipe", 256 - len("\\\\.\\pipe\\"), "\\", True, "pipe"),
        # A value name is at most 16383 characters and may hold anything.
        Kind("registry", 16383, "", True, "registry"),
        # Printer names: at most 220 characters, no backslash, ',' or '!' (the
        # spooler parses server names and "NAME,Job N").
        Kind("printer", 220, "\\,!", True, "printer"),
        # Task names may not hold \ / : * ? " < > |; the probe's `task register`
        # also writes the name unescaped into a file name and XML, so it accepts
        # letters, digits and -_. only (TASK_NAME).  The limit keeps
        # C:\Windows\System32\Tasks\NAME within MAX_PATH.
        Kind("task", 232, '\\/:*?"<>|', True, "task", TASK_NAME),
        # A CLSID in registry form, {8-4-4-4-12 hex digits}; case does not matter.
        Kind("com", 38, "", True, "com", CLSID),
        # An interface UUID, 8-4-4-4-12 hex digits without braces, as the
        # endpoint mapper takes it; case does not matter.
        Kind("rpc", 36, "", True, "rpc", UUID),
    )
}


def units(text: str) -> int:
    """Length in UTF-16 code units, the length Windows limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclasses.dataclass(frozen=True)
class MarkerName:
    """A drawn name: `seed` as is, or repeated to exactly `length` UTF-16 units.

    The repr is what a failing example prints, so a 16383-character name reads as
    name('é', 16383) instead of filling the screen.
    """

    seed: str
    length: int = 0

    def __repr__(self) -> str:
        if self.length:
            return f"name({self.seed!r}, {self.length})"
        return f"name({self.seed!r})"

    @property
    def text(self) -> str:
        if not self.length:
            return self.seed
        return fit(self.seed, self.length)

    def fits(self, kind: Kind) -> bool:
        """Whether this name is valid for `kind` by the documented rules."""
        text = self.text
        return (
            0 < units(text) <= kind.limit
            and not any(c in kind.forbidden for c in text)
            and (not kind.pattern or re.fullmatch(kind.pattern, text) is not None)
        )


def fit(seed: str, length: int) -> str:
    """`seed` repeated to exactly `length` UTF-16 units (padded with 'x' where a
    surrogate pair would not fit)."""
    out: list[str] = []
    used = 0
    while used < length:
        for char in seed:
            size = units(char)
            if used + size > length:
                break
            out.append(char)
            used += size
        else:
            continue
        break
    return "".join(out) + "x" * (length - used)


def same_name(kind: Kind, a: str, b: str) -> bool | None:
    """True/False when every platform agrees that `a` and `b` name the same marker,
    None when it depends on case folding rules (ASCII only, Unicode simple or full
    folding), which differ between Windows versions and Wine."""
    if a == b:
        return True
    if not kind.folds_case:
        return False
    foldings = (str.casefold, str.upper, str.lower, _ascii_lower)
    if _ascii_lower(a) == _ascii_lower(b):
        return True
    return None if any(f(a) == f(b) for f in foldings) else False


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


@dataclasses.dataclass(frozen=True, order=True)
class Marker:
    kind: str
    text: str

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 40 else f"{self.text[:37]}..."
        return f"{self.kind} {shown!r} ({units(self.text)} units)"


@dataclasses.dataclass
class Place:
    """What the model says one live container holds."""

    name: str
    markers: set[Marker] = dataclasses.field(default_factory=set)
    registry: dict[str, str] = dataclasses.field(default_factory=dict)  # name: data
    # what a task's description or a COM class's LocalServer32 should read
    content: dict[Marker, str] = dataclasses.field(default_factory=dict)
    dup: str | None = None  # state of the duplicated ordinary service, if any
    # RPC interfaces this container registered and then removed (see GONE)
    removed: set[Marker] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Model:
    """Live containers, every marker ever planted, and where the fixed port is."""

    shared_network: bool
    places: dict[str, Place] = dataclasses.field(default_factory=dict)
    planted: set[Marker] = dataclasses.field(default_factory=set)

    def clash(self, place: Place, marker: Marker) -> bool:
        """Whether `place` already holds this name in the marker's namespace (any
        folding), so planting it would test naming rules rather than isolation."""
        kind = KINDS[marker.kind]
        return any(
            KINDS[m.kind].namespace == kind.namespace
            and same_name(kind, m.text, marker.text) is not False
            for m in place.markers
        )

    def expected(self, place: Place | None, marker: Marker) -> str:
        """What `place` (None: the host side) should see for `marker`."""
        if place is None:
            return ABSENT
        kind = KINDS[marker.kind]
        verdicts = [
            (m, same_name(kind, m.text, marker.text))
            for m in place.markers
            if KINDS[m.kind].namespace == kind.namespace
        ]
        if any(m.kind == marker.kind and same for m, same in verdicts):
            return PRESENT
        if any(same_name(kind, m.text, marker.text) for m in place.removed):
            return GONE
        if any(same is None for _, same in verdicts):
            return EITHER
        return OTHER_KIND if any(same for _, same in verdicts) else ABSENT

    def port_owner(self) -> Place | None:
        """The container whose ordinary service holds the fixed port, if any."""
        running = [p for p in self.places.values() if p.dup == "RUNNING"]
        return running[0] if running else None

    def port_taken_for(self, place: Place) -> bool:
        """Whether `place`'s ordinary service cannot bind its port: only when the
        engine shares one network among containers and another one holds it."""
        owner = self.port_owner()
        return self.shared_network and owner is not None and owner is not place


def describe(markers: Iterable[Marker]) -> str:
    return ", ".join(str(m) for m in sorted(markers)) or "none"
