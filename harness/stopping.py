"""How a run stops on SIGINT or SIGTERM: at the first signal, and only once.

The first signal raises KeyboardInterrupt where the run is, so pytest tears its
fixtures down (containers, mounts and namespaces are removed) and the results so
far are kept.  Later signals while the run cleans up are noted and otherwise
ignored: a KeyboardInterrupt inside the teardown would leave containers behind, a
half-written allure result and a summary that does not say the run was stopped.

Later signals are common: Ctrl-C in a terminal reaches every process of the
group, the `harness` command and pytest alike, and the command passes it on to
pytest as well.  Every step of the cleanup has a timeout, so it ends; SIGKILL
still stops everything at once, and the next run removes what was left.

    stopper = Stopper()
    stopper.install()         # in pytest_sessionstart
    stopper.cleaning_up()     # the run's own end: no signal interrupts it now
    stopper.signal            # the signal that stopped the run, or None
"""

from __future__ import annotations

import contextlib
import signal
import sys
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
ALREADY = "already stopping: removing containers"
ENDING = "the run is ending: removing containers"


class Stopper:
    """The SIGINT and SIGTERM handler of one pytest session."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None  # the one that stopped the run
        self.cleaning = False  # tearing down: a signal must not interrupt now
        self._old: dict[int, Any] = {}

    def install(self) -> None:
        """Handle both signals (in the main thread; elsewhere Python cannot)."""
        with contextlib.suppress(ValueError):
            for signum in SIGNALS:
                self._old[signum] = signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        """Give the signals back their earlier handlers (pytest run in-process)."""
        with contextlib.suppress(ValueError):
            for signum, handler in self._old.items():
                signal.signal(signum, handler)
        self._old.clear()

    def cleaning_up(self) -> None:
        """The session's end has begun: signals from now on are only noted."""
        self.cleaning = True

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.cleaning:
            # Stopped by an earlier signal, or at the session's own end, when
            # every selected cell has run already.
            said = ALREADY if self.signal else ENDING
            print(f"harness: {name}: {said}", file=sys.stderr, flush=True)
            return
        self.signal, self.cleaning = signal.Signals(signum), True
        raise KeyboardInterrupt(f"signal {name}")
