"""Evaluation licences: an expired one is an infrastructure error with its reason.

Windows evaluation editions (the public Vagrant boxes are ones) expire; the
Windows Licensing Monitoring Service then logs event 100 and shuts the machine
down every hour.  Without a check that shows as a host that "did not come back" or
as commands failing at random, so the transport checks the licence when the host
is first ready and after a reboot, and remembers the evaluation's end date so that
a host that stopped answering after it is reported for what it is.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, NoReturn

from harness.errors import TargetError, TransportError
from harness.transports.winrm_scripts import LICENCE

REBUILD = "rebuild the machine from a current box"


def check(transport: Any, since: str) -> None:
    """TargetError when the evaluation licence has expired: the licensing service
    logged so since `since`, or the evaluation's end date is past."""
    result = transport.powershell(LICENCE, {"Since": since}, timeout=120)
    try:
        info = json.loads(result.stdout) if result.exit_code == 0 else {}
    except ValueError:
        info = {}
    if info.get("evaluation_end"):
        transport.facts["evaluation_end"] = info["evaluation_end"]
    if info.get("expired"):
        raise TargetError(
            f"{transport.name}: the Windows evaluation licence has expired: the "
            f"licensing service (WLMS, event {info.get('event_id')} at "
            f"{info.get('time')}) shuts the machine down every hour; {REBUILD}"
        )
    if past(info.get("evaluation_end")):
        raise TargetError(
            f"{transport.name}: the Windows evaluation licence has expired (it "
            f"ended at {info['evaluation_end']}): the licensing service shuts the "
            f"machine down every hour; {REBUILD}"
        )


def gave_up(transport: Any, message: str, error: BaseException) -> NoReturn:
    """Stop waiting for a host: TargetError naming the licence when the evaluation
    end date known from an earlier check is past (the licensing service shut the
    machine down), else TransportError with `message`."""
    end = transport.facts.get("evaluation_end")
    if past(end):
        raise TargetError(
            f"{transport.name}: the Windows evaluation licence expired at {end}, "
            f"and the licensing service shuts an expired machine down: {message}; "
            f"{REBUILD}"
        ) from error
    raise TransportError(message) from error


def past(moment: str | None) -> bool:
    """Whether an ISO 8601 time (as PowerShell's ToString('o') writes it) is past.

    >>> past("2001-01-01T00:00:00.0000000Z"), past(None)
    (True, False)
    """
    if not moment:
        return False
    # PowerShell writes 7 digits of fraction; datetime reads at most 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", moment.strip().replace("Z", "+00:00"))
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when <= dt.datetime.now(dt.UTC)
