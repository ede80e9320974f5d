"""Secrets: credentials held in a type that never shows its value by accident.

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
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

MASK = "******"


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
    """`text` with every occurrence of a secret's value replaced by the mask.

    Used on messages of library exceptions before they are wrapped, because a
    library may quote what it was given.
    """
    for secret in secrets:
        if secret is not None and secret.reveal():
            text = text.replace(secret.reveal(), MASK)
    return text
