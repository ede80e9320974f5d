"""The data the report works on: cells, outcomes, verdicts, evidence and run metadata.

Everything here is plain data so that reading allure files, computing verdicts,
keeping history and rendering stay separate steps that can be tested on their own.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

NO_LONGER_REPRODUCES = "known issue no longer reproduces"
NOT_SELECTED = "not selected in this run"
INTERRUPTED = "interrupted: the run was stopped while this check ran"


class Outcome(enum.StrEnum):
    """What one cell did in one run; values are the tokens of matrix.json and SQL."""

    PASSED = "passed"
    FAILED = "failed"
    BROKEN = "broken"
    SKIPPED = "skipped"
    EXPECTED_FAILURE = "expected_failure"
    NOT_RUN = "not_run"

    @property
    def label(self) -> str:
        """The words shown to people: ``expected failure`` rather than the token."""
        return self.value.replace("_", " ")


class Verdict(enum.StrEnum):
    """What the dashboard publishes for one (platform, engine, service)."""

    SUPPORTED = "supported"
    PARTIAL = "partial"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class ServiceKey:
    """One (platform, engine, service): the unit a verdict is given for."""

    platform: str
    engine: str
    service: str


Parameters = tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class CellKey:
    """One (platform, engine, service, check), taken verbatim from the allure labels,
    and the test's parameters in the order allure recorded them.

    The key is a tuple of strings, never a joined string, so values with spaces,
    ``::``, tabs or an empty string stay distinct.  Two results with the same labels
    but other parameters (``(x, y)`` and ``(y, x)``, ``x`` and ``""``) are two cells;
    only results with identical parameters are retries of one cell.
    """

    platform: str
    engine: str
    service: str
    check: str
    parameters: Parameters = ()

    @classmethod
    def of(cls, labels: Iterable[str], parameters: Parameters = ()) -> CellKey:
        """A key from the four label values in label order."""
        platform, engine, service, check = labels
        return cls(platform, engine, service, check, parameters)

    @property
    def service_key(self) -> ServiceKey:
        """The (platform, engine, service) this check belongs to."""
        return ServiceKey(self.platform, self.engine, self.service)

    @property
    def labels_only(self) -> CellKey:
        """The key without parameters: what the run metadata selects and what a
        known issue in matrix.yaml names."""
        return CellKey(self.platform, self.engine, self.service, self.check)

    def as_list(self) -> list[str]:
        """The four label values in label order, for JSON and SQL rows."""
        return [self.platform, self.engine, self.service, self.check]

    def as_dict(self) -> dict[str, object]:
        """The four labels by name and the parameters as [name, value] pairs, for
        matrix.json and ``harness diff --format json``."""
        names = ("platform", "engine", "service", "check")
        return {
            **dict(zip(names, self.as_list(), strict=True)),
            "parameters": [list(pair) for pair in self.parameters],
        }

    @property
    def parameters_json(self) -> str:
        """The parameters as a JSON list of [name, value] pairs (``[]`` for none)."""
        return json.dumps([list(pair) for pair in self.parameters], ensure_ascii=False)

    @property
    def parameters_text(self) -> str:
        """``a='x', b=''``: every parameter; empty when there are none."""
        return ", ".join(f"{name}={value}" for name, value in self.parameters)

    @property
    def shown_parameters(self) -> Parameters:
        """The parameters people read: all but the harness's own ``placement``,
        whose value (``Placement(platform='wine-8', engine='wine')``) only repeats
        the platform and engine labels.  The key keeps it."""
        return tuple(p for p in self.parameters if not self._repeats_labels(*p))

    def _repeats_labels(self, name: str, value: str) -> bool:
        return (
            name == "placement"
            and f"platform={self.platform!r}" in value
            and f"engine={self.engine!r}" in value
        )

    @property
    def shown_text(self) -> str:
        """The shown parameters as ``a='x', b=''``; empty when there are none."""
        return ", ".join(f"{name}={value}" for name, value in self.shown_parameters)

    def title(self, separator: str = " / ") -> str:
        """The cell as people read it: the four labels, then the parameters that
        are not the placement, e.g. ``wine-8 / wine / rpcss / serves [port=135]``."""
        name = separator.join(value or '""' for value in self.as_list())
        return f"{name} [{self.shown_text}]" if self.shown_parameters else name

    @property
    def dom_id(self) -> str:
        """A stable HTML id derived from the values (safe in any attribute)."""
        values = self.as_list()
        if self.parameters:
            values.append(self.parameters_json)
        return "cell-" + stable_hash(values)


def parameters_from_json(text: str) -> Parameters:
    """The inverse of ``CellKey.parameters_json``."""
    return tuple((str(name), str(value)) for name, value in json.loads(text or "[]"))


def stable_hash(values: list[str]) -> str:
    """A short hex digest of a list of strings; the JSON encoding keeps them apart."""
    text = json.dumps(values, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass
class Attachment:
    """A file allure-pytest stored beside a result, with its text when it is text."""

    name: str
    source: str
    mime: str
    path: Path | None = None
    text: str | None = None
    truncated: bool = False
    missing: bool = False


@dataclass
class Step:
    """A step (or fixture) of a cell's evidence, nested like allure stores it."""

    name: str
    status: str
    duration_ms: int | None = None
    message: str = ""
    trace: str = ""
    steps: list[Step] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    # What each command call recorded in the step answered: "exit 1, code 1060
    # (OpenServiceW)" (see evidence.py).
    calls: list[str] = field(default_factory=list)

    @property
    def is_call(self) -> bool:
        """One recorded call and nothing else: its status only says that the call
        came back, so the evidence marks it as a call, not as passed."""
        return len(self.calls) == 1 and not self.steps


@dataclass
class Attempt:
    """One allure result of a cell; retries give several attempts per run."""

    key: CellKey
    status: str
    message: str
    trace: str
    start: int | None
    stop: int | None
    labels: dict[str, str]
    uuid: str
    file: Path
    steps: list[Step] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    fixtures: list[Step] = field(default_factory=list)
    name: str = ""
    full_name: str = ""

    @property
    def sort_time(self) -> int:
        """When the attempt ended; the latest attempt of a cell is its result."""
        return self.stop or self.start or 0


@dataclass
class CellResult:
    """A cell's outcome in one run, with the evidence of its deciding attempt."""

    key: CellKey
    outcome: Outcome
    note: str = ""
    known_issue: str = ""
    attempt: Attempt | None = None
    attempts: int = 0
    passed_after_retry: bool = False
    earlier_attempts: list[Attempt] = field(default_factory=list)
    recorded_message: str = ""  # a cell taken from history has no attempt
    from_history: bool = False  # recorded by an earlier report of the same run
    # False for a check of the matrix that the run's filters, shard or a pytest
    # option (-k) left out: it is "not run", and its service's verdict unknown.
    selected: bool = True

    @property
    def message(self) -> str:
        """The failure message of the deciding attempt ("" when none)."""
        return self.attempt.message if self.attempt else self.recorded_message

    @property
    def shown(self) -> tuple[str, str]:
        """(style token, words) of the outcome as the pages show it: a strict
        known issue that passed is "passed — known issue no longer reproduces"
        (its outcome stays failed, as the run's exit code says), a check the run
        left out is "not selected" rather than plainly "not run"."""
        if self.no_longer_reproduces:
            return "gone", f"passed — {NO_LONGER_REPRODUCES}"
        if not self.selected:
            return self.outcome.value, "not selected"
        if self.note.startswith(INTERRUPTED):
            return self.outcome.value, "not run (interrupted)"
        return self.outcome.value, self.outcome.label

    @property
    def no_longer_reproduces(self) -> bool:
        """A strict known issue that passed: matrix.yaml should drop it."""
        return self.note.startswith(NO_LONGER_REPRODUCES)

    @property
    def first_line(self) -> str:
        """The first non-empty line of the failure message, for notes and tables."""
        for line in self.message.splitlines():
            if line.strip():
                return line.strip()
        return ""

    @property
    def duration_ms(self) -> int | None:
        """How long the deciding attempt took, when allure recorded it."""
        attempt = self.attempt
        if attempt and attempt.start is not None and attempt.stop is not None:
            return attempt.stop - attempt.start
        return None


@dataclass
class ServiceVerdict:
    """The verdict for one (platform, engine, service) and the note explaining it."""

    key: ServiceKey
    verdict: Verdict
    note: str
    checks: dict[str, Outcome]
    # Every check of the matrix for the service has an outcome in this run (none
    # is "not run").  Only such verdicts start or break a "since" streak.
    complete: bool = True


@dataclass
class EngineInfo:
    """What the run recorded about one engine on one platform."""

    platform: str
    engine: str
    version: str = ""
    os_build: str = ""
    details: dict[str, object] = field(default_factory=dict)
    target: str = ""  # local, vagrant or inventory
    host: str = ""  # the name of the machine the platform ran on


@dataclass
class ReportWarning:
    """A file that could not be used, and why; shown in the report and logged."""

    file: str
    problem: str


@dataclass
class RunMeta:
    """The merged harness-meta files of a run (one per pytest worker or shard)."""

    run_id: str = ""
    run_ids: list[str] = field(default_factory=list)  # every id the files name
    harness_version: str = ""
    started: str = ""
    finished: str | None = None
    interrupted: bool = False
    hostname: str = ""
    ci: str | None = None
    engines: list[EngineInfo] = field(default_factory=list)
    selected: set[CellKey] = field(default_factory=set)
    # Every check of the matrix in the (platform, engine, service) groups the run
    # selected from, and the cells a pytest option (-k, -m) deselected.
    matrix_checks: set[CellKey] = field(default_factory=set)
    deselected: set[CellKey] = field(default_factory=set)
    known_issues: dict[CellKey, tuple[str, str]] = field(default_factory=dict)
    files: int = 0
    shards: list[str] = field(default_factory=list)  # "i/n" of each CI shard read


@dataclass
class RunResults:
    """Everything read from one or more allure-results folders."""

    meta: RunMeta
    attempts: list[Attempt]
    warnings: list[ReportWarning]
    results_dirs: list[Path]
