"""Parse `vagrant ... --machine-readable` output, robustly.

Each line is ``timestamp,target,type,data...``.  Vagrant escapes a comma inside a
value as ``%!(VAGRANT_COMMA)`` and a newline as a literal backslash-n; the target is
empty for lines about no machine in particular (even in multi-machine output);
providers name states in their own words (libvirt's ``shutoff``).  Lines that do not
have that shape (warnings from plugins, Ruby deprecation notices) and line types we
do not know are ignored, never fatal: `parse` accepts any text.

    >>> lines = parse("1700000000,win2022,state,shutoff\\n")
    >>> machine_states(lines)
    {'win2022': 'shutoff'}
    >>> normalize_state("shutoff")
    'stopped'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

COMMA = "%!(VAGRANT_COMMA)"

RUNNING = ("running",)
STOPPED = (
    "poweroff",
    "shutoff",
    "saved",
    "aborted",
    "stopped",
    "paused",
    "frozen",
    "suspended",
    "off",
    "inaccessible",
    "gurumeditation",
    "crashed",
)
ABSENT = ("not_created", "not created")


@dataclasses.dataclass(frozen=True)
class Line:
    """One machine-readable line; `data` holds the unescaped fields after the type."""

    timestamp: int
    target: str
    kind: str
    data: tuple[str, ...]


def unescape(field: str) -> str:
    """Undo Vagrant's escaping of commas, newlines and carriage returns."""
    return field.replace(COMMA, ",").replace("\\n", "\n").replace("\\r", "\r")


def parse_line(text: str) -> Line | None:
    """One line, or None when it is not a machine-readable line."""
    fields = text.rstrip("\r\n").split(",")
    if len(fields) < 3 or not fields[0].strip().isdigit() or not fields[2].strip():
        return None
    timestamp = int(fields[0].strip())
    target, kind = unescape(fields[1]), fields[2].strip()
    return Line(timestamp, target, kind, tuple(unescape(f) for f in fields[3:]))


def parse(text: str) -> list[Line]:
    """Every machine-readable line of `text`, in order; anything else is skipped.

    Lines end at a newline only: Vagrant leaves other line separators (U+2028,
    form feed, U+0085) unescaped inside values, so they are part of a field.
    """
    lines = (parse_line(raw) for raw in text.split("\n"))
    return [line for line in lines if line is not None]


def values(lines: Iterable[Line], kind: str, target: str | None = None) -> list[str]:
    """The first data field of every line of `kind` (for one target, if given)."""
    return [
        line.data[0] if line.data else ""
        for line in lines
        if line.kind == kind and (target is None or line.target == target)
    ]


def machine_states(lines: Iterable[Line]) -> dict[str, str]:
    """Provider state per machine, from `status`; lines without a target are skipped."""
    states: dict[str, str] = {}
    for line in lines:
        if line.kind == "state" and line.target and line.data:
            states[line.target] = line.data[0]
    return states


def normalize_state(state: str | None) -> str:
    """A provider's state as one word of the Target contract.

    running, stopped, absent or unknown: VirtualBox says poweroff, libvirt shutoff,
    Hyper-V off; all of them are "stopped".
    """
    word = (state or "").strip().lower()
    if word in RUNNING:
        return "running"
    if word in STOPPED:
        return "stopped"
    if word in ABSENT:
        return "absent"
    return "unknown"


def errors(lines: Iterable[Line]) -> list[str]:
    """Messages of `error-exit` lines (the error class is in the first field)."""
    return [
        ": ".join(line.data[:2]) if len(line.data) > 1 else "".join(line.data)
        for line in lines
        if line.kind == "error-exit"
    ]


def ui_details(lines: Iterable[Line], target: str | None = None) -> list[str]:
    """Texts of ``ui,detail`` lines: how `snapshot list` names each snapshot."""
    return [
        line.data[1]
        for line in lines
        if line.kind == "ui"
        and len(line.data) > 1
        and line.data[0] == "detail"
        and (target is None or line.target == target)
    ]
