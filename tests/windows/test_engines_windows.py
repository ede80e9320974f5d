"""windows-containers and sandboxie drive docker and Start.exe (a scripted transport
answers for them); duplication and SCM decisions shared by all Windows engines."""

from __future__ import annotations

import json

import pytest

from harness import matrix, services
from harness.engines import windows_common as common
from harness.engines.sandboxie import SandboxieEngine
from harness.engines.windows_containers import WindowsContainersEngine
from harness.errors import ConfigError, EngineError, GuestError
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


def docker_engine(transport, run, build=20348, **options):
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        options={"image": IMAGE, **options},
    )
    return WindowsContainersEngine(
        host(transport, build), "windows-containers", config, run
    )


@pytest.fixture
def docker():
    return ScriptedTransport(
        [
            (r"^docker version", (0, "27.3.1\r\n")),
            (r"^docker image inspect", (0, "10.0.20348.2700\r\n")),
            (r"^docker inspect", (0, "172.20.1.5 \r\n")),
            (r"^docker ps", (0, "3f2a\r\n9b1c\r\n")),
        ]
    )


def test_docker_prepare_records_version_and_builds(docker, run, guest_tools):
    info = docker_engine(docker, run).prepare()
    assert info.version == "27.3.1"
    assert (info.details["image_build"], info.details["host_build"]) == (20348, 20348)
    assert "C:\\harness\\probe.exe" in docker.files


def test_a_build_mismatch_names_both_builds(docker, run, guest_tools):
    with pytest.raises(ConfigError, match="build 20348 but win2022 is build 17763"):
        docker_engine(docker, run, build=17763).prepare()


def test_a_missing_image_is_pulled_first(docker, run, guest_tools):
    answers = iter([(1, ""), (0, "10.0.20348.1\r\n")])
    docker.answer(r"^docker image inspect", lambda argv: next(answers))
    docker_engine(docker, run).prepare()
    assert any(line.startswith("docker pull") for line in docker.lines)


def test_containers_are_created_stopped_filled_then_started(docker, run):
    engine = docker_engine(docker, run)
    container = engine.create_container("ordinary-1")
    name = container.docker_name
    assert name == "hxabc123-ordinary-1"
    assert [argv[:2] for argv in docker.argvs] == [
        ["docker", "create"],
        ["docker", "cp"],
        ["docker", "start"],
        ["docker", "inspect"],
    ]
    assert "--isolation=process" in docker.argvs[0]
    assert "--label=harness.run=hxabc123" in docker.argvs[0]
    assert docker.argvs[1][2:] == ["C:\\harness", f"{name}:C:\\"]
    assert container.address == "172.20.1.5"
    container.guest("probe", "info")
    assert docker.argvs[-1] == [
        "docker",
        "exec",
        name,
        "C:\\harness\\probe.exe",
        "info",
    ]


def test_close_removes_everything_with_the_run_label(docker, run):
    engine = docker_engine(docker, run)
    engine.close()
    assert docker.argvs[0] == [
        "docker",
        "ps",
        "--all",
        "--quiet",
        "--filter=label=harness.run=hxabc123",
    ]
    assert docker.argvs[1:] == [
        ["docker", "rm", "--force", "3f2a"],
        ["docker", "rm", "--force", "9b1c"],
    ]


def test_the_image_is_chosen_per_platform(docker, run):
    engine = docker_engine(
        docker, run, images={"win2022": IMAGE + "-per-platform"}, image="fallback"
    )
    assert engine.image == IMAGE + "-per-platform"


def test_docker_needs_an_image_and_a_known_isolation(docker, run):
    config = matrix.Engine(kind="windows-containers", platforms=["win2022"])
    with pytest.raises(ConfigError, match="no image for win2022"):
        WindowsContainersEngine(host(docker), "wc", config, run)
    with pytest.raises(ConfigError, match="allowed values: process, hyperv"):
        docker_engine(docker, run, isolation="vm")


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
            "C:\\harness\\dupsvc.exe",
            "--port",
            "8135",
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
        docker_engine(Local(), run)


def test_an_artifact_url_is_refused_with_the_way_out(docker, run):
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        artifact="https://example.invalid/docker.zip",
        options={"image": IMAGE},
    )
    engine = WindowsContainersEngine(host(docker), "wc", config, run)
    with pytest.raises(ConfigError, match="is a URL; download it"):
        engine.prepare()


def test_a_failing_install_is_an_engine_error(docker, run, tmp_path, guest_tools):
    artifact = tmp_path / "docker.zip"
    artifact.write_bytes(b"zip")
    docker.answer(r"^install", (5, "disk full"))
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        artifact=str(artifact),
        install="install {artifact}",
        options={"image": IMAGE},
    )
    engine = WindowsContainersEngine(host(docker), "wc", config, run)
    with pytest.raises(EngineError, match="install command exited 5: disk full"):
        engine.prepare()
    assert json.dumps(docker.lines).count("install") == 1
