"""The reports folder (``--out``) and the run folders in it, made when missing.

A folder that cannot be made or written is infrastructure trouble (exit code 3,
like a history store that cannot be used): the error names the folder and says
why in words, instead of a bare ``[Errno 2]``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from harness.errors import HarnessError


class ReportsFolderError(HarnessError):
    """A reports or run folder cannot be made or written; ``reason`` says why."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"cannot write the reports folder {folder}: {reason}")
        self.folder = folder
        self.reason = reason


def make_folder(folder: Path) -> Path:
    """``folder`` made (with its parents) when missing, and writable; else a
    ReportsFolderError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportsFolderError(folder, _why(folder, error)) from error
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportsFolderError(folder, "it is not writable (permission denied)")
    return folder


def _why(folder: Path, error: OSError) -> str:
    """Why ``mkdir`` failed, in words that name the path at fault."""
    if isinstance(error, FileExistsError):
        return "it exists and is not a folder"
    blocker = next((p for p in folder.parents if p.exists()), None)
    if isinstance(error, NotADirectoryError) and blocker and not blocker.is_dir():
        return f"{blocker} is a file, not a folder"
    if error.errno == errno.ENOENT and blocker and blocker.is_dir():
        # The nearest existing folder refuses new entries (/proc, /sys do).
        return f"{blocker} does not allow new folders in it ({error.strerror})"
    return error.strerror or str(error)
