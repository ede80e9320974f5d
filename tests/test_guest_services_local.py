"""The probe's system-service families (spool, evt, task, wmi, bits) on a real
Wine prefix.

These test the guest subcommands, not the engine: their JSON shape, their codes,
and what each one reads back.  Where Wine is known to fall short (the Event Log
stores nothing, IRegisteredTask::Run is not implemented), the tests pin the code
Wine gives, so a change of Wine shows up here as well as in the matrix.
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


def test_evt_write_succeeds_and_find_reports_how_the_read_ended(prefix: Prefix) -> None:
    ok(prefix, "evt", "write", "ProbeSource", "event text 1")

    found = ok(prefix, "evt", "find", "Application", "event text 1")

    assert isinstance(found["found"], bool) and found["scanned"] >= 0
    if not found["found"]:  # Wine 8: nothing is stored, the read ends at once
        assert (found["records"], found["end"]) == (0, 38)


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
