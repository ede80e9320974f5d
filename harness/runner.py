"""`harness run`'s pytest child: start it, watch it, read what it left and turn
that into the run's exit code (harness.errors.ExitCode), said on the console.

    summary = run_pytest(argv, cwd, run_dir, total, show, signals)
    code = exit_code(summary, run_dir)
    record_exit_code(run_dir / "summary.json", run_id, code, summary)
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from harness import settings
from harness.errors import ExitCode
from harness.watch import Forwarder, merge_worker_logs, say, watch


def run_pytest(
    argv: list[str],
    cwd: Path,
    run_dir: Path,
    total: int,
    show: bool,
    signals: Forwarder,
) -> dict[str, Any]:
    """Run pytest in a child process, logging to pytest.log, with a progress bar
    and the run's log records at HARNESS_LOG's level (default WARNING) on the
    console.

    The first SIGINT or SIGTERM is passed on to pytest, which tears its fixtures
    down (so containers, mounts and namespaces are removed) and keeps the results
    so far; later ones do not interrupt that (harness/stopping.py).
    """
    with open(run_dir / "pytest.log", "wb") as log_file:
        # A shell starts background jobs with SIGINT ignored; pytest must not
        # inherit that, or Ctrl-C and the forwarded signals would not stop it.
        # It stays in this process group: a SIGKILL to the group ends it too.
        child = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            preexec_fn=functools.partial(_default_signals, os.getpid()),
        )
        signals.started(child)
        watch(child, run_dir, total, show, settings.log_level())
    try:
        merge_worker_logs(run_dir / "harness.log")
    except OSError as error:  # the workers' files stay as they are
        say(f"harness.log: the workers' logs could not be merged: {error}", "yellow")
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary["returncode"] = child.returncode
    summary["signalled"] = bool(signals.received)
    return summary


# prctl(2) of the C library, loaded before any fork: the child only calls it.
_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _default_signals(parent: int) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    # When the harness command dies (a SIGKILL of its pid alone), pytest gets a
    # SIGTERM and stops the run as for any SIGTERM: containers removed, results
    # kept.  A parent that died before this line is caught by the pid check.
    _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def record_exit_code(
    path: Path, run_id: str, code: ExitCode, summary: dict[str, Any]
) -> None:
    """Add the harness's exit code to summary.json, beside pytest's exit status
    (a summary pytest could not write gets the little that is known)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {
            "run_id": run_id,
            "pytest_exitstatus": summary.get("returncode"),
            "interrupted": summary.get("signalled", False),
            "cells": {},
        }
    data["exit_code"] = int(code)
    path.write_text(json.dumps(data, indent=1))


def exit_code(summary: dict[str, Any], run_dir: Path) -> ExitCode:
    """The run's exit code from its summary, with the outcome counts and each
    failed or broken cell's message said on the console."""
    outcomes = [c["outcome"] for c in summary.get("cells", {}).values()]
    log_tail = (run_dir / "pytest.log").read_text(errors="replace")[-3000:]
    # The plugin says whether a signal stopped the run (one that came during its
    # own end stopped nothing); without its summary, a signal that came counts.
    written = "cells" in summary
    if summary.get("interrupted") if written else summary.get("signalled"):
        say("interrupted: the results so far are kept", "yellow")
        return ExitCode.INTERRUPTED
    if summary.get("returncode") == 4 or "cells" not in summary:
        say(f"pytest could not run:\n{log_tail}", "red")
        return ExitCode.USAGE if summary.get("returncode") == 4 else ExitCode.BROKEN
    _print_summary(summary)
    if summary.get("collection_errors"):
        say("a case module could not be collected:", "red")
        for error in summary["collection_errors"]:
            say(error)
        return ExitCode.FAILED if "failed" in outcomes else ExitCode.BROKEN
    if "failed" in outcomes:
        return ExitCode.FAILED
    if "broken" in outcomes:
        return ExitCode.BROKEN
    if not outcomes:
        return ExitCode.NO_CELLS
    return ExitCode.OK


MESSAGE_LINES = 6  # of a failure's message, on the console


def _print_summary(summary: dict[str, Any]) -> None:
    counts: dict[str, int] = {}
    for cell in summary["cells"].values():
        counts[cell["outcome"]] = counts.get(cell["outcome"], 0) + 1
    say(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no cell ran")
    for nodeid, cell in summary["cells"].items():
        if cell["outcome"] in ("failed", "broken"):
            lines = [line for line in cell["message"].splitlines() if line.strip()]
            shown = "\n    ".join(lines[:MESSAGE_LINES])
            more = len(lines) - MESSAGE_LINES
            say(f"  {cell['outcome']}: {nodeid.split('@')[0]}\n    {shown}")
            if more > 0:
                say(f"    ... {more} more lines in the dashboard and pytest.log")
