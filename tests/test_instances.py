"""Ending a service's instance (harness.instances) in a real Wine container.

Each way an instance can end is tried on a service that Wine makes end that way:
the ordinary service stops, Schedule refuses the stop and is crashed, the HTTP
driver's stop hangs and its winedevice.exe is ended; a refusing service with no
process to end fails the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.instances import end_instance, instances, require_untouched
from harness.probe import probe
from harness.run import Run
from tests.test_wine_engine import make_engine

pytestmark = pytest.mark.wine

DUPSVC = "C:\\harness\\dupsvc.exe --port 8177"


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    mp = pytest.MonkeyPatch()
    mp.setenv("HARNESS_STATE", str(tmp_path_factory.mktemp("state")))
    engine = make_engine("isolated", Run.create())
    try:
        engine.prepare()
        yield engine.create_container("ended")
    finally:
        engine.close()
        mp.undo()


def pids(container: Any) -> set[int]:
    return {p["pid"] for p in probe(container, "proc", "list")["processes"]}


def test_a_service_that_stops_is_stopped_and_a_stopped_one_left(container) -> None:
    probe(container, "scm", "create", "EndMe", DUPSVC)
    probe(container, "scm", "start", "EndMe")

    first = end_instance(container, ["EndMe"])
    second = end_instance(container, ["EndMe"])

    assert first == {"EndMe": "stopped"} and second == {"EndMe": "not running"}


def test_a_service_that_refuses_the_stop_is_crashed(container) -> None:
    probe(container, "task", "get", "none")  # starts Schedule
    running = probe(container, "scm", "query", "Schedule")

    ended = end_instance(container, ["Schedule"])

    assert running["state"] == "RUNNING" and ended == {"Schedule": "crashed"}
    assert running["pid"] not in pids(container)


def test_a_driver_whose_stop_hangs_is_crashed_through_its_image(container) -> None:
    probe(container, "scm", "start", "HTTP")
    hosts = probe(container, "proc", "list", "--module", "http.sys")["processes"]

    ended = end_instance(container, ["HTTP"], images={"HTTP": "http.sys"})

    assert ended == {"HTTP": "crashed"} and len(hosts) == 1
    assert hosts[0]["pid"] not in pids(container)


def test_a_refusing_service_with_no_process_to_end_fails(container) -> None:
    probe(container, "scm", "start", "HTTP")

    with pytest.raises(AssertionError, match="no process runs it"):
        end_instance(container, ["HTTP"])  # no image: nothing to crash


def test_require_untouched_names_what_changed(container) -> None:
    before = instances([container], ["PlugPlay"])
    require_untouched(before, instances([container], ["PlugPlay"]), "PlugPlay")
    moved = {container.name: {"PlugPlay": ("RUNNING", -1)}}

    with pytest.raises(AssertionError, match="PlugPlay changed"):
        require_untouched(before, moved, "PlugPlay")
