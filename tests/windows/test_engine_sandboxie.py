"""sandboxie against the stand-in over real pywinrm: a recorded Sandboxie-Plus
(installer, Start.exe, SbieIni.exe) that prepare() installs, sandboxes whose
writes land in their own folder, and services started in the box."""

from __future__ import annotations

import json

import pytest

from harness import matrix, services
from harness.engines.sandboxie import SandboxieEngine
from harness.errors import EngineError
from harness.targets import Host
from tests.windows.standin_programs import program_file
from tests.windows.standin_sandboxie import SBIE_VERSION

LAB = "192.168.56.25"
BOX_ROOT = "C:\\Sandbox\\harness"
INSTALL = "{artifact} /VERYSILENT /SUPPRESSMSGBOXES /NORESTART"


@pytest.fixture
def installer(tmp_path):
    path = tmp_path / "Sandboxie-Plus-x64-v1.15.4.exe"
    path.write_bytes(program_file("sandboxie-setup", "1.15.4"))
    return path


def engine_on(transport, run, installer, install=INSTALL) -> SandboxieEngine:
    transport.wait_ready(10)
    config = matrix.Engine(
        kind="sandboxie",
        platforms=["win11"],
        artifact=str(installer),
        install=install,
        options={"box_root": BOX_ROOT},
    )
    host = Host("win11", "standin", transport, LAB, dict(transport.facts))
    return SandboxieEngine(host, "sandboxie", config, run)


@pytest.fixture
def engine(transport, run, installer, guest_tools):
    made = engine_on(transport, run, installer)
    made.prepare()
    yield made
    made.close()


def probe(box, *args):
    result = box.guest("probe", *args)
    return json.loads(result.stdout)


def test_prepare_installs_sandboxie_and_records_its_version(
    transport, server, run, installer, guest_tools
):
    info = engine_on(transport, run, installer).prepare()
    assert info.version == SBIE_VERSION  # SbieSvc.exe's version resource
    assert info.details["box_root"] == BOX_ROOT
    assert server.machine.services["SbieSvc"]["state"] == "RUNNING"
    assert server.machine.path("C:\\harness\\probe.exe").is_file()


def test_an_installer_that_would_wait_for_a_person_is_an_engine_error(
    transport, run, installer, guest_tools
):
    engine = engine_on(transport, run, installer, install="{artifact} /SILENT")
    with pytest.raises(EngineError, match="install command exited 1"):
        engine.prepare()


def test_a_box_is_defined_in_the_ini_and_shares_the_hosts_address(engine, server):
    box = engine.create_container("ordinary-1")
    assert box.box == "hxabc123_ordinary_1"
    ini = server.machine.path("C:\\Windows\\Sandboxie.ini").read_text("utf-16")
    assert f"[{box.box}]" in ini
    assert f"FileRootPath = {BOX_ROOT}\\{box.box}" in ini
    assert box.address == LAB  # sandboxes share the host's network stack


def test_a_guest_tool_runs_in_the_box_and_its_output_comes_back(engine, server):
    box = engine.create_container("c1")
    info = probe(box, "info")
    assert (info["ok"], info["view"]) == (True, box.box)
    start = [a for a in server.machine.executed if a[0] == "start"][-1]
    assert start[3].endswith("Start.exe") and start[4] == f"/box:{box.box}"


def test_services_are_started_in_the_box_not_on_the_host(engine, transport, server):
    box = engine.create_container("ordinary-1")
    results = engine.duplicate(box, services.get("ordinary"))
    assert [json.loads(r.stdout)["ok"] for r in results] == [True, True]
    assert probe(box, "scm", "query", "HarnessDup")["state"] == "RUNNING"
    assert probe(box, "info")["identity"] == box.identity
    host = transport.run(["sc.exe", "query", "HarnessDup"], timeout=10)
    assert host.exit_code == 1060, "the service reached the host's database"
    on_host = server.machine.path("C:\\harness\\identity.txt").read_text()
    assert on_host == engine.host_side().identity != box.identity
    peer = engine.create_container("ordinary-2")
    assert probe(peer, "scm", "query", "HarnessDup")["error"]["code"] == 1060


def test_destroy_deletes_the_box_and_disables_it(engine, server):
    box = engine.create_container("c1")
    engine.duplicate(box, services.get("ordinary"))
    root = server.machine.path(f"{BOX_ROOT}\\{box.box}")
    assert root.is_dir()
    engine.destroy(box)
    assert not root.exists()
    ini = server.machine.path("C:\\Windows\\Sandboxie.ini").read_text("utf-16")
    assert "Enabled = n" in ini
    assert box.guest("probe", "info").exit_code == 1  # a disabled box runs nothing


def test_close_destroys_every_box(engine, server):
    engine.create_container("c1")
    engine.create_container("c2")
    engine.close()
    assert not list(server.machine.path(BOX_ROOT).glob("*"))
    assert engine.boxes == {}


def test_without_the_service_nothing_runs_in_a_box(engine, server):
    box = engine.create_container("c1")
    records = server.machine.services
    records["SbieSvc"]["state"] = "STOPPED"
    server.machine.services = records
    assert box.guest("probe", "info").exit_code == 1


def test_arguments_with_shell_syntax_reach_the_boxed_program_as_they_are(
    engine, server
):
    box = engine.create_container("c1")
    nasty = "a&b|c\"d'e;f$(calc) g%PATH%^h"
    result = box.run(["echoargs", nasty, "x y", "C:\\Program Files\\x"])
    assert json.loads(result.stdout) == [nasty, "x y", "C:\\Program Files\\x"]
    boxed = [argv for argv in server.machine.executed if argv[0] == "echoargs"]
    assert len(boxed) == 1, "a second command ran"
