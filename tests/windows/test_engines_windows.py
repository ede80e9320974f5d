"""What all Windows engines share: whether an engine is installed is decided on
sc.exe's numeric code in every language, and a host must be reached through WinRM."""

from __future__ import annotations

import pytest

from harness import engines, matrix
from harness.engines import windows_common as common
from harness.engines.sandboxie import SandboxieEngine
from harness.errors import EngineError
from harness.targets import Host
from tests.windows.standin_programs import program_file


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_service_lookup_decides_on_1060_not_on_localized_text(
    transport, server, language
):
    server.machine.language = language
    server.machine.services = {"Spooler"}
    assert common.service_exists(transport, "Spooler") is True
    assert common.service_exists(transport, "HarnessDup") is False


def engine_installed_by(transport, run, tmp_path, kind, program, install=None):
    artifact = tmp_path / f"{program}.exe"
    artifact.write_bytes(program_file(program, "1.0"))
    switches = {"sandboxie": "/VERYSILENT", "windows-containers": "/quiet"}[kind]
    config = matrix.Engine(
        kind=kind,
        platforms=["win2022"],
        artifact=str(artifact),
        install=install or f"{{artifact}} {switches}",
        options={"image": "mcr.microsoft.com/windows/servercore:ltsc2022"}
        if kind == "windows-containers"
        else {},
    )
    transport.wait_ready(10)
    host = Host("win2022", "standin", transport, "192.168.56.22", transport.facts)
    return engines.driver(kind)(host, kind, config, run)


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize(
    ("kind", "installer", "service"),
    [
        ("sandboxie", "Sandboxie-Plus-x64-v1.15.4", "SbieSvc"),
        ("windows-containers", "docker-setup-27.3.1", "docker"),
    ],
)
def test_prepare_finds_the_engines_service_in_every_language(
    transport, server, run, tmp_path, guest_tools, language, kind, installer, service
):
    server.machine.language = language
    engine = engine_installed_by(transport, run, tmp_path, kind, installer)
    engine.prepare()  # installed: sc.exe exits 0, whatever it prints
    assert service in server.machine.services
    records = server.machine.services
    del records[service]
    server.machine.services = records
    # An install command that succeeds without installing the engine:
    engine = engine_installed_by(
        transport, run, tmp_path, kind, installer, install="echoargs {artifact}"
    )
    with pytest.raises(EngineError, match=f"the service {service} does not exist"):
        engine.prepare()


def test_an_engine_on_a_host_without_winrm_is_an_engine_error(run):
    class Local:
        name = "local"

        def run(self, argv, *, timeout, env=None, stdin=None):
            raise AssertionError

    config = matrix.Engine(kind="sandboxie", platforms=["win11"])
    host = Host(platform="win11", name="win11", transport=Local())
    with pytest.raises(EngineError, match="needs a Windows host reached through"):
        SandboxieEngine(host, "sandboxie", config, run)
