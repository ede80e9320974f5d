"""What `harness run` does while its pytest child runs: pass signals on once, show
a progress bar, and copy the run's log records to the console.

    with Forwarder() as signals:
        child = subprocess.Popen(argv, ...)
        signals.started(child)
        watch(child, run_dir, total=len(cells), show=True, log_level=logging.INFO)
    signals.received    # the signals that came meanwhile
"""

from __future__ import annotations

import heapq
import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from harness.stopping import ALREADY, SIGNALS

# Messages carry user text (paths, "[0]", ":100:"): never read them as markup.
# soft_wrap: a long message stays one line in a CI log, where it is searched.
console = Console(
    stderr=True, emoji=False, markup=False, highlight=False, soft_wrap=True
)


def say(text: str, style: str | None = None) -> None:
    """Print a message on stderr, coloured by `style` when it is a terminal."""
    console.print(text, style=style)


class Forwarder:
    """SIGINT and SIGTERM of the `harness` command while a run lasts.

    The first one is passed on to pytest, which stops the run and cleans up
    (harness/stopping.py); later ones are only noted.  Ctrl-C in a terminal also
    reaches pytest directly, which is why pytest ignores signals after its first.
    """

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None
        self.received: list[signal.Signals] = []
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Forwarder:
        self._old = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)

    def started(self, child: subprocess.Popen) -> None:
        """The run's pytest: a signal that came while it was being started is
        passed on now."""
        self.child = child
        if self.received:
            child.send_signal(self.received[0])

    def _handle(self, signum: int, frame: Any) -> None:
        self.received.append(signal.Signals(signum))
        name = signal.Signals(signum).name
        if self.child is not None and self.child.poll() is not None:
            say(f"{name}: the run has ended; writing its dashboard", "yellow")
        elif len(self.received) > 1:
            say(f"{name}: {ALREADY}", "yellow")
        else:
            say(
                f"{name}: stopping the run: removing containers, keeping the results "
                "so far (SIGKILL stops at once; the next run removes what is left)",
                "yellow",
            )
            if self.child is not None:
                self.child.send_signal(signum)


# harness.log's record format (pytest's log_file_format, with its default date
# format %H:%M:%S), and how a record's first line is told from its continuation.
LOG_FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RECORD = re.compile(r"^\d\d:\d\d:\d\d ([A-Z]+) ")
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class LogTail:
    """The records of harness.log at `level` and above, as the run writes them;
    a record's continuation lines (command output at DEBUG) go with it."""

    def __init__(self, path: Path, level: int) -> None:
        self.path, self.level = path, level
        self._offset = 0
        self._partial = ""
        self._showing = False

    def new_lines(self) -> list[str]:
        """The lines to show that were written since the last call."""
        try:
            with open(self.path, encoding="utf-8", errors="replace") as file:
                if file.seek(0, 2) < self._offset:  # truncated: a new writer
                    self._offset, self._partial = 0, ""
                file.seek(self._offset)
                text = file.read()
                self._offset = file.tell()
        except OSError:
            return []
        *complete, self._partial = (self._partial + text).split("\n")
        shown = []
        for line in complete:
            found = RECORD.match(line)
            if found:
                self._showing = LEVELS.get(found.group(1), 0) >= self.level
            if self._showing:
                shown.append(line)
        return shown


class LogTails:
    """LogTail over harness.log and the worker logs (harness.gw0.log, ...) that
    pytest-xdist workers write beside it, each file found as it appears."""

    def __init__(self, run_dir: Path, level: int) -> None:
        self.run_dir, self.level = run_dir, level
        self.tails: dict[Path, LogTail] = {}

    def new_lines(self) -> list[str]:
        for path in sorted(self.run_dir.glob("harness*.log")):
            if path not in self.tails:
                self.tails[path] = LogTail(path, self.level)
        return [line for tail in self.tails.values() for line in tail.new_lines()]


def worker_log(path: Path, worker: str) -> Path:
    """Where worker `worker` of pytest-xdist writes what would go to `path`."""
    return path.with_name(f"{path.stem}.{worker}{path.suffix}")


def merge_worker_logs(path: Path) -> None:
    """Fold the worker logs beside `path` into it, record by record in time order
    (each file is in order already), then remove them.

    Known limit: records carry the time of day only, so a run across midnight
    puts the first records after midnight before the last ones before it.
    """
    workers = sorted(path.parent.glob(f"{path.stem}.gw*{path.suffix}"))
    if not workers:
        return
    files = [path, *workers] if path.exists() else workers
    merged = heapq.merge(
        *(_records(file) for file in files), key=lambda record: record[:8]
    )
    temporary = path.with_name(path.name + ".merging")
    with open(temporary, "w", encoding="utf-8") as out:
        out.writelines(merged)
    temporary.replace(path)
    for file in workers:
        file.unlink()


def _records(path: Path) -> list[str]:
    """A log file's records, each with its continuation lines."""
    records: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            if not line.endswith("\n"):
                line += "\n"
            if RECORD.match(line) or not records:
                records.append(line)
            else:
                records[-1] += line
    return records


def watch(
    child: subprocess.Popen, run_dir: Path, total: int, show: bool, log_level: int
) -> None:
    """A bar of finished cells with the count of each outcome so far and the cell
    that finished last, until the child ends; its log records above the bar.

    The bar's total starts as the selection's `total` and becomes what pytest
    collected (after -k, -m or --deselect) from the first line of progress.jsonl.
    """
    # A log (no terminal) is 80 columns wide: the counts fit, the last cell not.
    last = "  {task.fields[last]}" if console.is_terminal else ""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}" + last),
    )
    log = LogTails(run_dir, log_level)
    with Progress(*columns, console=console, disable=not show, transient=False) as bar:
        task = bar.add_task("cells", total=total, counts="", last="")
        progress = _Progress(bar, task, run_dir / "progress.jsonl")
        while True:
            done = child.poll() is not None
            for line in log.new_lines():
                say(line)
            progress.update()
            if done:
                break
            time.sleep(0.1)


class _Progress:
    """progress.jsonl read as it grows, shown on the bar."""

    def __init__(self, bar: Progress, task: Any, path: Path) -> None:
        self.bar, self.task, self.path = bar, task, path
        self.seen = 0
        self.counts: dict[str, int] = {}

    def update(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return
        lines = text.split("\n")[:-1]  # a line still being written waits
        for line in lines[self.seen :]:
            item = json.loads(line)
            if "collected" in item:
                self.bar.update(self.task, total=item["collected"])
                continue
            outcome = item["outcome"]
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            self.bar.update(
                self.task,
                advance=1,
                counts=", ".join(f"{n} {k}" for k, n in sorted(self.counts.items())),
                last=f"last: {cell_name(item['nodeid'])} {outcome}",
            )
        self.seen = len(lines)


def cell_name(nodeid: str) -> str:
    """'cases/test_iis.py::test_serves[wine-8/wine]' -> 'iis serves wine-8/wine'."""
    module, _, test = nodeid.rpartition("::")
    service = Path(module).stem.removeprefix("test_")
    check, _, placement = test.partition("[")
    return f"{service} {check.removeprefix('test_')} {placement.rstrip(']')}".strip()
