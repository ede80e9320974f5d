"""The pytest plugin: turns case modules into cells of the matrix.

A case module names its service (`SERVICE = "spooler"`) and defines one test per
check (`test_starts`, `test_serves`, `test_isolated`).  The plugin parametrizes each
test over the selected (platform, engine) placements, labels it for allure, marks
declared known issues as strict expected failures of their declared outcome (an
assertion for `failed`, a HarnessError for `broken`), and provides the fixtures:

    suite      (module) the engine, two containers with the service duplicated into
               the first, the host side and the client machine
    cell       (function) the Cell this test is

Outcomes: a failed assertion in the test body is *failed*; anything else that stops
a check (setup error, GuestError, timeout) is *broken*.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import allure
import allure_commons
import pytest

from harness import __version__, cleanup, matrix, services
from harness.allure_interrupted import InterruptedResults
from harness.allure_xpass import StrictXpassMessages, xpass_message
from harness.errors import ConfigError, HarnessError
from harness.lab import Lab, Placement, Suite
from harness.matrix import Cell  # the class body's `matrix` is the property
from harness.run import new_run_id, state_root
from harness.runfacts import ci_name
from harness.stopping import Stopper
from harness.watch import worker_log


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "compatibility matrix")
    group.addoption("--matrix", help="matrix file (default: matrix.yaml in rootdir)")
    for name in ("platform", "engine", "service", "check"):
        group.addoption(
            f"--{name}",
            action="append",
            default=[],
            dest=f"h_{name}",
            help=f"only these {name}s (repeat or comma-separate)",
        )
    group.addoption("--shard", help="only shard I of N of the cells, e.g. 2/4")
    group.addoption("--run-id", help="run id (default: a new one)")
    group.addoption(
        "--destroy",
        choices=("never", "passing", "always"),
        default="never",
        help="what happens to Vagrant machines at the "
        "end: kept, destroyed when all their cells passed, destroyed",
    )
    group.addoption("--harness-summary", help="write the outcome summary as JSON here")
    group.addoption(
        "--cells-only",
        action="store_true",
        help="run only the cells of the matrix (not, e.g., the stateful machine)",
    )
    group.addoption("--harness-progress", help="append one JSON line per cell here")


def _values(config: pytest.Config, name: str) -> list[str]:
    return [v for item in config.getoption(f"h_{name}") for v in item.split(",") if v]


class HarnessPlugin:
    """Per-process state: the matrix, the selection, the lab and the outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = _now()
        self.outcomes: dict[str, dict[str, Any]] = {}
        self._matrix: matrix.Matrix | None = None
        self._selected: list[matrix.Cell] | None = None
        self.lab: Lab | None = None
        self.stopper = Stopper()
        self.exit_requested = False  # pytest.exit, or a KeyboardInterrupt of its own
        self._run_id: str | None = None
        self.collection_errors: list[str] = []
        self.xpass = StrictXpassMessages()
        self.stopped = InterruptedResults()
        self._called: str | None = None  # node id of the last test that had a call
        self.deselected: set[matrix.Cell] = set()  # by -k, -m or node ids
        self._collected_from_worker = False

    @property
    def interrupted(self) -> bool:
        """A signal (or pytest.exit) stopped the run before all its cells ran."""
        return self.stopper.signal is not None or self.exit_requested

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def run_id(self) -> str:
        """--run-id, else the controller's (pytest-xdist workers inherit it through
        the environment), else a new one."""
        if self._run_id is None:
            given = self.config.getoption("run_id")
            workerinput = getattr(self.config, "workerinput", {})
            inherited = workerinput.get("harness_run_id")
            self._run_id = given or inherited or new_run_id()
        return self._run_id

    def selected(self) -> list[matrix.Cell]:
        if self._selected is None:
            path = self.config.getoption("matrix")
            path = Path(path) if path else self.config.rootpath / "matrix.yaml"
            try:
                self._matrix = matrix.load(path)
                shard = self.config.getoption("shard")
                filters = matrix.Filters(
                    platforms=_values(self.config, "platform"),
                    engines=_values(self.config, "engine"),
                    services=_values(self.config, "service"),
                    checks=_values(self.config, "check"),
                    shard=matrix.parse_shard(shard) if shard else None,
                )
                self._selected = matrix.select(self._matrix, filters)
            except ConfigError as error:
                raise pytest.UsageError(str(error)) from None
        return self._selected

    @property
    def matrix(self) -> matrix.Matrix:
        self.selected()
        assert self._matrix is not None
        return self._matrix

    def lab_for_run(self) -> Lab:
        if self.lab is None:
            owner = os.getppid() if self.is_worker else os.getpid()
            self.lab = Lab(
                self.matrix,
                self.run_id(),
                owner=owner,
                destroy=self.config.getoption("destroy"),
            )
        return self.lab

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: every worker works for the controller's run."""
        node.workerinput["harness_run_id"] = self.run_id()

    # --- collection ----------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        service = getattr(metafunc.module, "SERVICE", None)
        check = metafunc.function.__name__.removeprefix("test_")
        if service is None or "placement" not in metafunc.fixturenames:
            return
        if check not in services.CHECKS:
            raise pytest.UsageError(
                f"{metafunc.module.__file__}: {metafunc.function.__name__}"
                f" is not a check; allowed: test_"
                f"{', test_'.join(services.CHECKS)}"
            )
        cells = [c for c in self.selected() if (c.service, c.check) == (service, check)]
        params = [
            pytest.param(
                Placement(c.platform, c.engine),
                marks=self._marks(c),
                id=f"{c.platform}/{c.engine}",
            )
            for c in cells
        ]
        metafunc.parametrize("placement", params, scope="module")

    def _marks(self, cell: Cell) -> list[Any]:
        marks = [
            allure.label(key, getattr(cell, key))
            for key in ("platform", "engine", "service", "check")
        ]
        marks += [
            allure.epic(f"{cell.platform} / {cell.engine}"),
            allure.feature(cell.service),
            allure.story(cell.check),
        ]
        # One worker owns one machine: a platform's VM, or a local engine's containers.
        local = self.matrix.platforms[cell.platform].target == "local"
        group = f"{cell.platform}/{cell.engine}" if local else cell.platform
        marks.append(pytest.mark.xdist_group(group))
        issue = matrix.known_issue(self.matrix, cell)
        if issue:
            marks += [
                allure.label("known_issue", issue.reason),
                allure.label("expected_outcome", issue.outcome),
                pytest.mark.xfail(
                    strict=True, reason=issue.reason, raises=EXPECTED[issue.outcome]
                ),
            ]
        return marks

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        # A check with no selected cell has an empty parameter set: deselect it.
        dropped = [i for i in items if _is_unselected_case(i)]
        if config.getoption("cells_only"):
            dropped += [
                i for i in items if "placement" not in getattr(i, "fixturenames", ())
            ]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            gone = {id(i) for i in dropped}
            items[:] = [i for i in items if id(i) not in gone]

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Cells that pytest's own options (-k, -m, --deselect) left out: the
        report shows them as not selected, not as checks that vanished."""
        self.deselected.update(c for c in map(_item_cell, items) if c is not None)

    # --- outcomes --------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if "placement" in getattr(item, "fixturenames", ()):
            kind = _classify(report, call)
            if kind:
                report.user_properties.append(("harness_outcome", kind))
                placement = item.callspec.params["placement"]  # type: ignore[attr-defined]
                report.user_properties.append(("harness_platform", placement.platform))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any):
        """A cell stopped by Ctrl-C, SIGTERM or pytest.exit before its check had an
        outcome gets its labels in allure all the same (allure_interrupted.py)."""
        try:
            return (yield)
        except (KeyboardInterrupt, pytest.exit.Exception) as stop:
            if _item_cell(item) is not None and self._called != item.nodeid:
                self.stopped.stopped(item, stop)
            raise

    def pytest_runtest_logstart(self) -> None:
        self.xpass.saw(None)
        self._called = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self._called = report.nodeid
        if report.when == "call" and report.failed:
            self.xpass.saw(xpass_message(report.longrepr))
        kind = dict(report.user_properties).get("harness_outcome")
        nodeid = _without_group(report.nodeid)
        if isinstance(kind, str) and kind:
            previous = self.outcomes.get(nodeid)
            if previous is None or RANK[kind] > RANK[previous["outcome"]]:
                self.outcomes[nodeid] = {
                    "outcome": kind,
                    "message": _message(report),
                    "platform": dict(report.user_properties)["harness_platform"],
                }
        if report.when == "teardown":
            self._progress(nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {_message(report)}")

    def _progress(self, nodeid: str) -> None:
        if nodeid in self.outcomes:
            self._progress_line({"nodeid": nodeid, **self.outcomes[nodeid]})

    def _progress_line(self, item: dict[str, Any]) -> None:
        """One line of --harness-progress: {"collected": N} first (the cells
        pytest will run, after -k and the like), then one line per finished cell."""
        path = self.config.getoption("harness_progress")
        if path and not self.is_worker:
            with open(path, "a", encoding="utf-8") as file:
                file.write(json.dumps(item) + "\n")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        cells = [i for i in session.items if _item_cell(i) is not None]
        self._progress_line({"collected": len(cells)})

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """pytest-xdist: the controller collects nothing itself; every worker
        collects the same cells, so the first worker's count is the run's."""
        if self._collected_from_worker:
            return
        self._collected_from_worker = True
        placements = {f"[{c.platform}/{c.engine}]" for c in self.selected()}
        cells = [i for i in map(_without_group, ids) if i[i.rfind("[") :] in placements]
        self._progress_line({"collected": len(cells)})

    # --- session ---------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # Validate matrix.yaml and the filters before collecting: a mistake there is
        # a usage error with its message, not a collection error per module.
        given = self.config.getoption("matrix")
        if given or (self.config.rootpath / "matrix.yaml").exists():
            self.selected()
        if not self.is_worker:
            self.run_id()
            for removed in cleanup.remove_stale():
                print(f"harness: removed what the crashed run {removed} left behind")
        self.stopper.install()

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        # pytest stops for collection errors with its own Interrupted: not a signal.
        if not excinfo.errisinstance(pytest.Session.Interrupted):
            self.exit_requested = True

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int):
        """After pytest's own session end (fixture teardown), whatever it raised:
        close engines, remove what the run made, write metadata and the summary.
        From here on a signal is only noted (harness/stopping.py)."""
        self.stopper.cleaning_up()
        try:
            return (yield)
        finally:
            self._finish(int(exitstatus))

    def _finish(self, exitstatus: int) -> None:
        failed = {
            c["platform"]
            for c in self.outcomes.values()
            if c["outcome"] in ("failed", "broken")
        }
        infos: list[dict[str, Any]] = []
        try:
            infos = self.lab.close(failed) if self.lab else []
        finally:
            state = state_root() / self.run_id()
            if not self.is_worker and state.exists():
                for problem in cleanup.release(state):
                    print(f"harness: could not remove: {problem}")
            if self._selected is not None:
                self._write_meta(infos)
            self._write_summary(exitstatus)

    def _write_summary(self, exitstatus: int) -> None:
        path = self.config.getoption("harness_summary")
        if not path or self.is_worker:
            return
        summary = {
            "run_id": self.run_id(),
            # pytest's own exit status; `harness run` adds its exit code beside it
            "pytest_exitstatus": exitstatus,
            "interrupted": self.interrupted,
            "signal": self.stopper.signal.name if self.stopper.signal else None,
            "selected": len(self._selected or []),
            "cells": self.outcomes,
            "collection_errors": self.collection_errors,
        }
        Path(path).write_text(json.dumps(summary, indent=1))

    def _write_meta(self, infos: list[dict[str, Any]]) -> None:
        folder = getattr(self.config.option, "allure_report_dir", None)
        if not folder:
            return
        meta = {
            "kind": "harness-run-meta",
            "schema": 1,
            "run_id": self.run_id(),
            "harness_version": __version__,
            "started": self.started,
            "finished": _now(),
            "interrupted": self.interrupted,
            "where": {"hostname": socket.gethostname(), "ci": ci_name()},
            "shard": self.config.getoption("shard"),
            "engines": infos,
            "selected": [dataclasses.astuple(c) for c in self._selected or []],
            "matrix_checks": [dataclasses.astuple(c) for c in self._matrix_checks()],
            "deselected": [dataclasses.astuple(c) for c in sorted(self.deselected)],
            "known_issues": [i.model_dump() for i in self.matrix.known_issues],
        }
        Path(folder).mkdir(parents=True, exist_ok=True)
        name = f"harness-meta-{uuid.uuid4().hex}.json"
        (Path(folder) / name).write_text(json.dumps(meta, indent=1))

    def _matrix_checks(self) -> list[Cell]:
        """Every cell of the matrix in the (platform, engine, service) groups the
        selection touches: a verdict is about all of a service's checks, so the
        report must know those that filters or the shard left out."""
        groups = {(c.platform, c.engine, c.service) for c in self._selected or []}
        return [
            c
            for c in matrix.expand(self.matrix)
            if (c.platform, c.engine, c.service) in groups
        ]


def _item_cell(item: pytest.Item) -> matrix.Cell | None:
    """The cell a collected test is, or None for a test that is not a cell."""
    callspec = getattr(item, "callspec", None)
    placement = callspec.params.get("placement") if callspec else None
    service = getattr(getattr(item, "module", None), "SERVICE", None)
    function = getattr(item, "function", None)
    if not isinstance(placement, Placement) or service is None or function is None:
        return None
    check = function.__name__.removeprefix("test_")
    return matrix.Cell(placement.platform, placement.engine, service, check)


def _without_group(nodeid: str) -> str:
    """The node id without the `@group` that pytest-xdist's loadgroup appends."""
    head, at, tail = nodeid.rpartition("@")
    return head if at and "]" not in tail and "::" not in tail else nodeid


# What a known issue's declared outcome expects the cell to raise.  Anything else
# is not the declared issue: an infrastructure error in a cell declared `failed`
# is broken, an assertion failing in a cell declared `broken` is failed.
EXPECTED: dict[str, tuple[type[BaseException], ...]] = {
    "failed": (AssertionError, pytest.fail.Exception),
    "broken": (HarnessError,),
}

RANK = {"skipped": 0, "passed": 1, "expected failure": 2, "broken": 3, "failed": 4}


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    if not report.failed or report.longrepr is None:
        return ""
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", None) or report.longrepr)[:2000]


def _classify(report: pytest.TestReport, call: pytest.CallInfo) -> str | None:
    """passed | failed | broken | skipped | expected failure, or None (no news)."""
    if hasattr(report, "wasxfail"):
        return "failed" if report.failed else "expected failure"
    if report.skipped:
        return "skipped"
    if report.failed:
        if (
            report.when == "call"
            and call.excinfo is not None
            and call.excinfo.errisinstance((AssertionError, pytest.fail.Exception))
        ):
            return "failed"
        if report.when == "call" and call.excinfo is None:
            return "failed"  # strict XPASS: the known issue no longer reproduces
        return "broken"
    return "passed" if report.when == "call" else None


def _is_unselected_case(item: pytest.Item) -> bool:
    if "placement" not in getattr(item, "fixturenames", ()):
        return False
    callspec = getattr(item, "callspec", None)
    return callspec is None or not isinstance(
        callspec.params.get("placement"), Placement
    )


def _log_file_per_worker(config: pytest.Config) -> None:
    """A pytest-xdist worker logs to harness.gw0.log beside harness.log.

    Workers inherit the controller's log_file; each opening it for writing would
    truncate and interleave the others' records.  `harness run` merges the worker
    files into harness.log when the run ends.  This runs before pytest's logging
    plugin reads the option (its pytest_configure is trylast).
    """
    worker = getattr(config, "workerinput", {}).get("workerid")
    log_file = config.getoption("log_file") or config.getini("log_file")
    if worker and log_file:
        config.option.log_file = str(worker_log(Path(log_file), worker))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def pytest_configure(config: pytest.Config) -> None:
    _log_file_per_worker(config)
    plugin = HarnessPlugin(config)
    config.pluginmanager.register(plugin, "harness-state")
    if getattr(config.option, "allure_report_dir", None):
        allure_commons.plugin_manager.register(plugin.xpass)
        allure_commons.plugin_manager.register(plugin.stopped)


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.pluginmanager.get_plugin("harness-state")
    if plugin:
        plugin.stopper.uninstall()
    for fixer in (plugin.xpass, plugin.stopped) if plugin else ():
        if allure_commons.plugin_manager.is_registered(fixer):
            allure_commons.plugin_manager.unregister(fixer)


# --- fixtures ----------------------------------------------------------------------


def _plugin(request: pytest.FixtureRequest) -> HarnessPlugin:
    plugin = request.config.pluginmanager.get_plugin("harness-state")
    if not isinstance(plugin, HarnessPlugin):
        raise pytest.UsageError("the harness plugin is not registered (-p harness)")
    return plugin


@pytest.fixture(scope="module")
def suite(request: pytest.FixtureRequest, placement: Placement):
    """Containers for one service suite on one placement; removed afterwards."""
    service = services.get(request.module.SERVICE)
    lab = _plugin(request).lab_for_run()
    with lab.suite(placement, service) as made:
        yield made


@pytest.fixture(autouse=True)
def _repair_suite(request: pytest.FixtureRequest) -> None:
    """Before each check, replace containers that died in an earlier one."""
    if "suite" in request.fixturenames:
        suite = request.getfixturevalue("suite")
        _plugin(request).lab_for_run().repair(suite)


@pytest.fixture
def cell(request: pytest.FixtureRequest, placement: Placement) -> matrix.Cell:
    check = request.function.__name__.removeprefix("test_")
    return matrix.Cell(
        placement.platform, placement.engine, request.module.SERVICE, check
    )


__all__ = ["Suite", "HarnessError"]
