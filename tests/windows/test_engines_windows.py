"""sandboxie drives Start.exe (a scripted transport answers for it); duplication and
SCM decisions shared by all Windows engines."""

from __future__ import annotations

import pytest

from harness import matrix, services
from harness.engines import windows_common as common
from harness.engines.sandboxie import SandboxieEngine
from harness.errors import EngineError, GuestError
from harness.targets import Host
from harness.transports import CommandResult
from tests.windows.fakes import ScriptedTransport

IMAGE = "mcr.microsoft.com/windows/servercore:ltsc2022"


def host(transport, build=20348):
    return Host(
        platform="win2022",
        name="win2022",
        transport=transport,
        address="192.0.2.10",
        facts={"build": build},
    )


def sandboxie_engine(transport, run):
    config = matrix.Engine(kind="sandboxie", platforms=["win11"])
    return SandboxieEngine(host(transport), "sandboxie", config, run)


def test_sandboxes_are_defined_and_commands_run_through_start_exe(run):
    transport = ScriptedTransport([(r"^type .*\.out", (0, '{"ok": true}\r\n'))])
    engine = sandboxie_engine(transport, run)
    box = engine.create_container("ordinary-1")
    assert box.box == "hxabc123_ordinary_1"
    sbieini = "C:\\Program Files\\Sandboxie-Plus\\SbieIni.exe"
    assert transport.argvs[:2] == [
        [sbieini, "set", box.box, "Enabled", "y"],
        [sbieini, "set", box.box, "FileRootPath", "C:\\Sandbox\\harness\\" + box.box],
    ]
    result = box.guest("probe", "info")
    start = transport.argvs[3]
    assert start[:4] == [
        "start",
        "",
        "/wait",
        "C:\\Program Files\\Sandboxie-Plus\\Start.exe",
    ]
    assert start[4:6] == [f"/box:{box.box}", "/wait"]
    assert start[-1].startswith("C:\\harness\\probe.exe info > C:\\harness\\out\\")
    assert result.stdout == '{"ok": true}\r\n'
    assert box.address == "192.0.2.10"  # sandboxes share the host's network


def test_writing_into_a_sandbox_writes_the_boxs_copy(run):
    transport = ScriptedTransport()
    box = sandboxie_engine(transport, run).create_container("c1")
    box.write_file("C:\\harness\\identity.txt", b"id")
    assert transport.files == {
        f"C:\\Sandbox\\harness\\{box.box}\\drive\\C\\harness\\identity.txt": b"id"
    }


def test_sandboxie_destroy_terminates_deletes_and_disables(run):
    transport = ScriptedTransport()
    engine = sandboxie_engine(transport, run)
    box = engine.create_container("c1")
    engine.destroy(box)
    tail = [
        " ".join(argv[4:]) if argv[0] == "start" else " ".join(argv[1:])
        for argv in transport.argvs[-3:]
    ]
    assert tail == [
        f"/box:{box.box} /terminate",
        f"/box:{box.box} delete_sandbox_silent",
        f"set {box.box} Enabled n",
    ]


class Recorder:
    """A container that answers every guest tool call with JSON."""

    name, role, address, identity = "c1", "container", None, "wc:c1:1234"

    def __init__(self, stdout='{"ok": true}'):
        self.calls, self.files, self.stdout = [], {}, stdout

    def guest(self, tool, *args, timeout=60.0, env=None):
        self.calls.append((tool, *args))
        return CommandResult("c1", (tool, *args), 0, self.stdout, "", 0.0)

    def write_file(self, path, data):
        self.files[path] = data


def test_duplicating_the_ordinary_service():
    container = Recorder()
    common.duplicate(container, services.get("ordinary"))
    assert container.files == {"C:\\harness\\identity.txt": b"wc:c1:1234"}
    assert container.calls == [
        (
            "probe",
            "scm",
            "create",
            "HarnessDup",
            "C:\\harness\\dupsvc.exe --port 8135",
        ),
        ("probe", "scm", "start", "HarnessDup"),
    ]


def test_duplicating_a_system_service_starts_its_windows_scm_names():
    container = Recorder()
    common.duplicate(container, services.get("iis"))
    assert [call[-1] for call in container.calls] == ["HTTP", "WAS", "W3SVC"]


def test_a_guest_tool_that_prints_no_json_is_a_guest_error():
    with pytest.raises(GuestError, match="printed no JSON"):
        common.duplicate(
            Recorder(stdout="'probe.exe' is not recognized"), services.get("spooler")
        )


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_service_lookup_decides_on_1060_not_on_localized_text(
    transport, server, language
):
    server.machine.language = language
    server.machine.services = {"Spooler"}
    assert common.service_exists(transport, "Spooler") is True
    assert common.service_exists(transport, "HarnessDup") is False


def test_an_engine_on_a_host_without_winrm_is_an_engine_error(run):
    class Local:
        name = "local"

        def run(self, argv, *, timeout, env=None, stdin=None):
            raise AssertionError

    with pytest.raises(EngineError, match="needs a Windows host reached through"):
        sandboxie_engine(Local(), run)
