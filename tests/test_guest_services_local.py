"""The probe's system-service families (spool, evt, task, wmi, bits) on a real
Wine prefix.

These test the guest subcommands, not the engine: their JSON shape, their codes,
and what each one reads back.  Where Wine is known to fall short, the tests pin
what Wine does, so a change of Wine shows up here as well as in the matrix
(matrix.yaml's known issues and the crashes of `isolated` rest on these):
printing works with the spooler stopped, the Event Log stores nothing, the
Schedule service refuses the stop control, IRegisteredTask::Run is not
implemented, and WMI answers with Winmgmt stopped and disabled.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import guestenv
from tests.guestenv import DUPSVC, Prefix

pytestmark = pytest.mark.wine

IDENTITY = "guest-services-test"
USAGE = 2
UNKNOWN_PRINTER = 1801
TASK_NOT_FOUND = 0x80070002
E_NOTIMPL = 0x80004001
INVALID_SERVICE_CONTROL = 1052
SERVICE_DISABLED = 1058
HANDLE_EOF = 38
BG_JOB_STATE_SUSPENDED = 3
BG_JOB_STATE_CANCELLED = 8


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefix]:
    guestenv.build()
    booted = Prefix.boot(tmp_path_factory.mktemp("wine") / "prefix", IDENTITY)
    yield booted
    booted.close()


def ok(prefix: Prefix, *args: str) -> dict:
    code, answer = prefix.probe(*args)
    assert (code, answer["ok"]) == (0, True), answer
    return answer


# --- spool -------------------------------------------------------------------


def test_spool_prints_raw_text_to_the_output_file(prefix: Prefix) -> None:
    ok(prefix, "spool", "add", "ProbePrinter")
    ok(prefix, "spool", "open", "ProbePrinter")

    printed = ok(prefix, "spool", "print", "ProbePrinter", "C:\\out.prn", "text 1")

    assert printed["output"] == "text 1" and printed["written"] == 6
    assert printed["job"] > 0


def test_spool_prints_with_the_spooler_stopped_on_wine(prefix: Prefix) -> None:
    """Wine prints in the calling process (matrix.yaml: spooler/serves)."""
    ok(prefix, "scm", "start", "Spooler")
    ok(prefix, "spool", "add", "StoppedPrinter")
    stopped = ok(prefix, "scm", "stop", "Spooler")
    try:
        code, printed = prefix.probe(
            "spool", "print", "StoppedPrinter", "C:\\stopped.prn", "text 2"
        )
        state = ok(prefix, "scm", "query", "Spooler")["state"]
    finally:
        prefix.probe("scm", "start", "Spooler")

    assert stopped["state"] == "STOPPED"
    assert (code, printed["output"], state) == (0, "text 2", "STOPPED"), printed


def test_spool_delete_makes_the_printer_unknown(prefix: Prefix) -> None:
    ok(prefix, "spool", "add", "GonePrinter")
    ok(prefix, "spool", "delete", "GonePrinter")

    code, answer = prefix.probe("spool", "open", "GonePrinter")

    assert code == 1
    assert answer["error"] == {"call": "OpenPrinterW", "code": UNKNOWN_PRINTER}


def test_spool_print_to_an_unknown_printer_names_the_call(prefix: Prefix) -> None:
    code, answer = prefix.probe("spool", "print", "NoPrinter", "C:\\x.prn", "t")

    assert (code, answer["error"]["code"]) == (1, UNKNOWN_PRINTER)


def test_spool_usage_errors_exit_2(prefix: Prefix) -> None:
    assert prefix.probe("spool", "print", "OnlyOne")[0] == USAGE
    assert prefix.probe("spool", "add", "P", "--driver")[0] == USAGE


# --- evt ---------------------------------------------------------------------


def test_evt_write_succeeds_and_wine_stores_nothing(prefix: Prefix) -> None:
    """Wine's Event Log accepts the event, then has no record of it (matrix.yaml:
    eventlog/serves and eventlog/isolated): 0 records, ReadEventLog ends with 38."""
    ok(prefix, "evt", "write", "ProbeSource", "event text 1")

    found = ok(prefix, "evt", "find", "Application", "event text 1")

    assert found["found"] is False and found["scanned"] == 0
    assert (found["records"], found["end"]) == (0, HANDLE_EOF)


def test_evt_find_of_an_unknown_text_is_not_found(prefix: Prefix) -> None:
    found = ok(prefix, "evt", "find", "Application", "never written 7f3a")

    assert found["found"] is False


# --- task --------------------------------------------------------------------


def test_task_register_get_delete(prefix: Prefix) -> None:
    ok(prefix, "task", "register", "ProbeTask", "probe: text 1")

    task = ok(prefix, "task", "get", "ProbeTask")
    ok(prefix, "task", "delete", "ProbeTask")
    code, gone = prefix.probe("task", "get", "ProbeTask")

    assert task["description"] == "probe: text 1"
    assert (code, gone["error"]["code"]) == (1, TASK_NOT_FOUND)


def test_task_run_is_not_implemented_by_wine(prefix: Prefix) -> None:
    ok(prefix, "task", "register", "ProbeRun", "run")

    code, answer = prefix.probe("task", "run", "ProbeRun")

    assert (code, answer["error"]) == (
        1,
        {"call": "IRegisteredTask::Run", "code": E_NOTIMPL},
    )


def test_schedule_refuses_to_stop_and_ends_when_terminated(prefix: Prefix) -> None:
    """Wine's Schedule accepts no control, so `isolated` crashes it instead."""
    ok(prefix, "task", "register", "ProbeKept", "kept")  # starts Schedule
    running = ok(prefix, "scm", "query", "Schedule")

    code, refused = prefix.probe("scm", "stop", "Schedule")
    ended = ok(prefix, "proc", "stop", str(running["pid"]))
    task = ok(prefix, "task", "get", "ProbeKept")  # starts Schedule again
    again = ok(prefix, "scm", "query", "Schedule")

    assert (running["state"], running["controls_accepted"]) == ("RUNNING", 0)
    assert (code, refused["error"]) == (
        1,
        {"call": "ControlService", "code": INVALID_SERVICE_CONTROL},
    )
    assert refused["state"] == "RUNNING" and ended["how"] == "terminated"
    assert task["description"] == "kept"
    assert again["state"] == "RUNNING" and again["pid"] != running["pid"]


def test_task_output_of_a_task_that_never_ran_is_file_not_found(
    prefix: Prefix,
) -> None:
    code, answer = prefix.probe("task", "output", "NeverRan")

    assert (code, answer["error"]) == (1, {"call": "CreateFileW", "code": 2})


@pytest.mark.parametrize("args", [("x<y", "t"), ("name", "a&b"), ("a b", "t")])
def test_task_register_refuses_text_it_would_have_to_escape(
    prefix: Prefix, args: tuple[str, str]
) -> None:
    assert prefix.probe("task", "register", *args)[0] == USAGE


# --- wmi ---------------------------------------------------------------------


def test_wmi_lists_a_service_with_its_state_and_pid(prefix: Prefix) -> None:
    ok(prefix, "scm", "create", "ProbeWmi", f"{DUPSVC} --port 8199")
    stopped = ok(prefix, "wmi", "services", "probewmi")
    started = ok(prefix, "scm", "start", "ProbeWmi")

    running = ok(prefix, "wmi", "services", "ProbeWmi")
    ok(prefix, "scm", "stop", "ProbeWmi")
    ok(prefix, "scm", "delete", "ProbeWmi")

    assert stopped["services"] == [{"name": "ProbeWmi", "state": "Stopped", "pid": 0}]
    assert running["services"] == [
        {"name": "ProbeWmi", "state": "Running", "pid": started["pid"]}
    ]
    assert running["count"] > 1


def test_wmi_answers_with_winmgmt_stopped_and_disabled_on_wine(prefix: Prefix) -> None:
    """Wine's WMI runs in the calling process (matrix.yaml: wmi/serves)."""
    ok(prefix, "scm", "start", "winmgmt")
    disabled = ok(prefix, "scm", "config", "winmgmt", "--start", "disabled")
    try:
        stopped = ok(prefix, "scm", "stop", "winmgmt")
        code, start = prefix.probe("scm", "start", "winmgmt")
        answer = ok(prefix, "wmi", "services", "winmgmt")
    finally:
        restored = ok(prefix, "scm", "config", "winmgmt", "--start", "demand")

    assert (disabled["start"], disabled["previous"]) == ("disabled", "demand")
    assert stopped["state"] == "STOPPED" and restored["previous"] == "disabled"
    assert (code, start["error"]["code"]) == (1, SERVICE_DISABLED)
    assert answer["services"] == [{"name": "Winmgmt", "state": "Stopped", "pid": 0}]


def test_scm_config_usage_and_unknown_service(prefix: Prefix) -> None:
    usage = prefix.probe("scm", "config", "winmgmt", "--start", "boot")
    missing = prefix.probe("scm", "config", "no-such-service", "--start", "auto")

    assert usage[0] == USAGE
    assert missing[1]["error"] == {"call": "OpenServiceW", "code": 1060}


def test_wmi_lists_every_service_without_a_name(prefix: Prefix) -> None:
    answer = ok(prefix, "wmi", "services")

    assert len(answer["services"]) == answer["count"] > 1


# --- bits --------------------------------------------------------------------


def test_bits_create_list_cancel(prefix: Prefix) -> None:
    created = ok(prefix, "bits", "create", "probe job 1")

    listed = ok(prefix, "bits", "list")["jobs"]
    ok(prefix, "bits", "cancel", "probe job 1")
    after = ok(prefix, "bits", "list")["jobs"]

    assert {
        "name": "probe job 1",
        "id": created["id"],
        "state": BG_JOB_STATE_SUSPENDED,
    } in listed
    # A cancelled job is listed as cancelled (Wine) or no longer listed (Windows).
    mine = [j["state"] for j in after if j["id"] == created["id"]]
    assert mine in ([], [BG_JOB_STATE_CANCELLED])
