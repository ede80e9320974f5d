"""One exception root for the harness, and the exit codes of `harness run`.

AssertionError is reserved for claims about the engine under test (a *failed* cell);
every HarnessError means the harness or its infrastructure could not check (a *broken*
cell).  Library exceptions are wrapped with the original kept as ``__cause__``.
"""

from __future__ import annotations

import enum


class HarnessError(Exception):
    """Root of everything the harness raises on purpose."""


class ConfigError(HarnessError):
    """matrix.yaml, a filter or an argument is wrong; the message says where and why."""


class TransportError(HarnessError):
    """A command or file could not reach a host, or did not come back in time."""


class CommandTimeout(TransportError):
    """A remote or guest command ran past its timeout; its process tree was ended."""


class TargetError(HarnessError):
    """A host could not be brought up, found, reverted or brought down."""


class EngineError(HarnessError):
    """The engine could not be prepared or could not create or destroy a container.

    This is infrastructure trouble (broken).  An engine that *runs* but duplicates a
    service wrongly shows up as a failed assertion in a case, not as this error.
    """


class GuestError(HarnessError):
    """A guest tool is missing, crashed or printed something that is not its JSON."""


class ExitCode(enum.IntEnum):
    """Exit codes of `harness run`, in one place (documented in the README)."""

    OK = 0  # every cell as expected (passed, skipped, or a declared known issue)
    FAILED = 1  # at least one cell failed: the engine is wrong somewhere
    USAGE = 2  # bad command line, matrix.yaml or filter
    BROKEN = 3  # no failure, but at least one cell broken: infrastructure trouble
    INTERRUPTED = 4  # the run was stopped by a signal; partial results were kept
    NO_CELLS = 5  # the filters selected no cell


def exit_code_for(error: BaseException) -> ExitCode:
    """Map an exception that escaped a command to its exit code."""
    if isinstance(error, ConfigError):
        return ExitCode.USAGE
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.BROKEN
