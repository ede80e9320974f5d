"""Secrets: credentials held in a type that never shows its value by accident, and
where the WinRM credentials of inventory hosts come from.

A password read from the environment goes straight into a `Secret`; printing,
formatting or logging it shows ``******``.  Only `reveal()` returns the value, and it
is called at the last moment, where a library needs the plain text (pywinrm's
password argument).  A secret never goes on a command line, into a log record or
into an exception message.

    >>> password = Secret("hunter2")
    >>> f"connecting with {password}"
    'connecting with ******'
    >>> password.reveal()
    'hunter2'

Credentials never come from matrix.yaml: they come from the environment, per
platform first, then for all platforms, then from a file named by
HARNESS_WINRM_CREDENTIALS holding the same names as ``NAME=value`` lines:

    HARNESS_WINRM_USER_WIN2022_LAB / HARNESS_WINRM_PASSWORD_WIN2022_LAB
    HARNESS_WINRM_USER / HARNESS_WINRM_PASSWORD

This module imports no WinRM library, so that `preflight` can check the
credentials of a run's platforms before anything starts.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

log = logging.getLogger(__name__)
MASK = "******"
# Shorter values are masked only where they stand alone: "p" inside "port" is no
# password, and masking it there would garble the text and hint at the letters.
MASK_ANYWHERE = 8
FILE_VARIABLE = "HARNESS_WINRM_CREDENTIALS"


class Secret:
    """A string that prints masked; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)

    def reveal(self) -> str:
        """The plain value, for the one call that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> tuple[type, tuple[str]]:
        # Pickling (pytest-xdist, multiprocessing) carries the masked text only, so a
        # secret never crosses a process boundary by accident; read it again there.
        return (Secret, (MASK,))


def mask(text: str, secrets: Iterable[Secret | None]) -> str:
    """`text` with each secret's value replaced by the mask.

    Used on messages of library exceptions before they are wrapped, because a
    library may quote what it was given.  A value of MASK_ANYWHERE characters or
    more is masked wherever it occurs; a shorter one only as a whole word (not
    inside a longer run of letters, digits or '_'), so that a short password does
    not turn "port=5986" into "******ort=5986".

    >>> mask("port=5986 user=p", [Secret("p")])
    'port=5986 user=******'
    """
    for secret in secrets:
        value = secret.reveal() if secret is not None else ""
        if len(value) >= MASK_ANYWHERE:
            text = text.replace(value, MASK)
        elif value:
            whole = rf"(?<!\w){re.escape(value)}(?!\w)"
            text = re.sub(whole, MASK, text)
    return text


# --- WinRM credentials -------------------------------------------------------------


def credentials(platform_name: str) -> tuple[str, Secret]:
    """User and password for a platform's hosts, from the environment or its file;
    ConfigError names the variables to set, or the one that is set but empty."""
    suffix = re.sub(r"[^A-Za-z0-9]", "_", platform_name).upper()
    sources = [("the environment", os.environ), _credentials_file()]
    user = _lookup(sources, [f"HARNESS_WINRM_USER_{suffix}", "HARNESS_WINRM_USER"])
    password = _lookup(
        sources, [f"HARNESS_WINRM_PASSWORD_{suffix}", "HARNESS_WINRM_PASSWORD"]
    )
    if user is None or password is None:
        raise ConfigError(
            f"no WinRM credentials for {platform_name}: set HARNESS_WINRM_USER and "
            f"HARNESS_WINRM_PASSWORD (or HARNESS_WINRM_USER_{suffix} and "
            f"HARNESS_WINRM_PASSWORD_{suffix}), or name a file of such lines in "
            f"{FILE_VARIABLE}"
        )
    return user, Secret(password)


def preflight(platforms: Mapping[str, Any], selected: Iterable[str]) -> None:
    """Check, before a run starts, that every selected platform and the client
    machine it names can get its credentials; one ConfigError lists each that
    cannot.  Only inventory platforms need them (a Vagrant machine brings its own),
    and only their presence is checked: whether a host accepts them shows when it
    is first reached.

    `platforms` is the matrix's ``platforms`` mapping (name -> Platform).
    """
    names = set(selected)
    names |= {platforms[n].client for n in names if n in platforms}
    problems = []
    for name in sorted(n for n in names if n in platforms):
        if platforms[name].target == "inventory":
            try:
                credentials(name)
            except ConfigError as error:
                problems.append(str(error))
    if problems:
        raise ConfigError("\n".join(problems))


Source = tuple[str, Mapping[str, str]]


def _lookup(sources: list[Source], names: list[str]) -> str | None:
    for name in names:  # a platform's own name wins over the general one
        for where, values in sources:
            if name not in values:
                continue
            if not values[name]:
                raise ConfigError(
                    f"{name} is set but empty (in {where}): an empty user or "
                    "password is refused; set it, or unset it to use the next one"
                )
            return values[name]
    return None


def _credentials_file() -> Source:
    name = os.environ.get(FILE_VARIABLE)
    if not name:
        return (FILE_VARIABLE, {})
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as error:
        raise ConfigError(
            f"{FILE_VARIABLE}={name}: cannot read: {error.strerror}"
        ) from error
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s is readable by other users; chmod 600 it", name)
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return (f"{FILE_VARIABLE}={name}", values)
