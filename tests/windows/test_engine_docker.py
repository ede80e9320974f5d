"""windows-containers against the stand-in over real pywinrm: a recorded docker
(state on the stand-in's disk, argv checked) installed by prepare(), containers
whose C: is their own, services started inside them, destroy and close."""

from __future__ import annotations

import json

import pytest

from harness import matrix, services
from harness.engines.windows_containers import WindowsContainersEngine
from harness.errors import ConfigError, EngineError, GuestError, TransportError
from harness.probe import tcp_ask
from harness.targets import Host
from tests.windows.standin_programs import program_file

IMAGE = "mcr.microsoft.com/windows/servercore:ltsc2022"
LAB = "192.168.56.22"


def guest_files():
    from harness import guest

    return guest.tools().files()


def lab_host(transport, **facts) -> Host:
    transport.wait_ready(10)
    return Host("win2022", "standin", transport, LAB, {**transport.facts, **facts})


@pytest.fixture
def setup(tmp_path):
    setup = tmp_path / "docker-setup-27.3.1.exe"
    setup.write_bytes(program_file("docker-setup", "27.3.1"))
    return setup


def engine_on(host, run, setup, **options) -> WindowsContainersEngine:
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        artifact=str(setup),
        install="{artifact} /quiet",
        options={"image": IMAGE, **options},
    )
    return WindowsContainersEngine(host, "windows-containers", config, run)


@pytest.fixture
def engine(transport, server, run, setup, guest_tools):
    server.machine.lab_address = LAB
    made = engine_on(lab_host(transport), run, setup)
    made.prepare()
    yield made
    made.close()


def docker(server, transport, *args):
    return transport.run(["docker", *args], timeout=30)


def test_prepare_installs_docker_pulls_the_image_and_records_builds(
    transport, server, run, setup, guest_tools
):
    info = engine_on(lab_host(transport), run, setup).prepare()
    assert info.version == "27.3.1"
    assert (info.details["image_build"], info.details["host_build"]) == (20348, 20348)
    assert ["docker", "pull", IMAGE] in server.machine.executed
    assert server.machine.path("C:\\harness\\probe.exe").read_bytes() == b"MZprobe.exe"
    assert info.details["network"] == "nat"


def test_a_build_mismatch_names_both_builds(transport, server, run, setup, guest_tools):
    server.machine.build = 17763
    engine = engine_on(lab_host(transport), run, setup)
    with pytest.raises(ConfigError, match="build 20348 but win2022 is build 17763"):
        engine.prepare()


def test_a_container_gets_the_guest_tools_and_runs_them_inside(engine, server):
    container = engine.create_container("ordinary-1")
    assert container.docker_name == "hxabc123-ordinary-1"
    calls = [argv[:2] for argv in server.machine.executed if argv[0] == "docker"]
    assert calls[-4:] == [
        ["docker", "create"],
        ["docker", "cp"],
        ["docker", "start"],
        ["docker", "inspect"],
    ]
    info = json.loads(container.guest("probe", "info").stdout)
    assert (info["view"], info["identity"]) == (container.docker_name, None)
    assert container.address.startswith("172.20.")  # the client is the host itself


def test_only_the_guest_tools_are_copied_into_a_container(engine, transport, server):
    transport.upload_bytes(b"host side", "C:\\harness\\identity.txt")
    transport.upload_bytes(b"staged", "C:\\harness\\staging\\0123")
    container = engine.create_container("c1")
    root = server.machine.path("C:\\ProgramData\\docker\\containers")
    inside = next(root.glob("*/C/harness"))
    names = sorted(p.name for p in inside.iterdir())
    assert names == sorted(p.name for p in guest_files())
    assert container.guest("probe", "info").exit_code == 0


def test_a_service_is_started_inside_the_container_only(engine, transport, server):
    container = engine.create_container("ordinary-1")
    results = engine.duplicate(container, services.get("ordinary"))
    assert [json.loads(r.stdout)["ok"] for r in results] == [True, True]
    inside = json.loads(container.guest("probe", "scm", "query", "HarnessDup").stdout)
    assert inside["state"] == "RUNNING"
    created = json.loads(results[0].stdout)
    assert created["binpath"] == "C:\\harness\\dupsvc.exe --port 8135"
    info = json.loads(container.guest("probe", "info").stdout)
    assert info["identity"] == container.identity
    on_host = transport.run(["sc.exe", "query", "HarnessDup"], timeout=10)
    assert on_host.exit_code == 1060, "the service was started on the host"
    peer = engine.create_container("ordinary-2")
    assert json.loads(peer.guest("probe", "scm", "query", "HarnessDup").stdout)[
        "error"
    ] == {"call": "OpenServiceW", "code": 1060}


def test_a_system_service_is_started_by_its_windows_scm_names(engine):
    container = engine.create_container("iis-1")
    results = engine.duplicate(container, services.get("iis"))
    names = [json.loads(r.stdout)["name"] for r in results]
    assert names == ["HTTP", "WAS", "W3SVC"]


def test_a_missing_guest_tool_is_a_guest_error_not_a_failed_start(engine, server):
    container = engine.create_container("c1")
    root = server.machine.path("C:\\ProgramData\\docker\\containers")
    for probe_exe in root.glob("*/C/harness/probe.exe"):
        probe_exe.unlink()
    with pytest.raises(GuestError, match="printed no JSON"):
        engine.duplicate(container, services.get("spooler"))


def test_destroy_removes_the_container_and_its_disk(engine, transport, server):
    container = engine.create_container("c1")
    engine.destroy(container)
    listed = docker(server, transport, "ps", "--all", "--quiet")
    assert listed.stdout.strip() == ""
    assert not list(
        server.machine.path("C:\\ProgramData\\docker\\containers").iterdir()
    )
    with pytest.raises(EngineError, match="No such container"):
        engine.destroy(container)


def test_close_removes_everything_with_the_run_label_only(engine, transport, server):
    engine.create_container("c1")
    label = "--label=harness.run=hxabc123"
    docker(server, transport, "create", "--name=crashed", label, IMAGE, "cmd")
    docker(server, transport, "create", "--name=other", IMAGE, "cmd")
    engine.close()
    left = docker(server, transport, "ps", "--all", "--quiet").stdout.split()
    assert len(left) == 1, "only the container without the run's label is left"


def test_a_transparent_network_gives_each_container_a_lab_address(
    transport, server, run, setup, guest_tools
):
    server.machine.lab_address = LAB
    pool = {"win2022": "192.168.56.120-192.168.56.121"}
    engine = engine_on(
        lab_host(transport), run, setup, network="transparent", addresses=pool
    )
    assert engine.prepare().details["network"] == "transparent"
    create = [a for a in server.machine.executed if a[1:3] == ["network", "create"]]
    assert create[0][3:] == [
        "--driver=transparent",
        "--subnet=192.168.56.0/24",
        "--gateway=192.168.56.1",
        "--opt=com.docker.network.windowsshim.interface=Ethernet 2",
        "harness-lab",
    ]
    first, second = engine.create_container("c1"), engine.create_container("c2")
    assert (first.address, second.address) == ("192.168.56.120", "192.168.56.121")
    with pytest.raises(EngineError, match="all 2 container addresses are in use"):
        engine.create_container("c3")
    engine.destroy(first)
    assert engine.create_container("c3").address == "192.168.56.120"
    engine.close()


def test_a_transparent_network_needs_the_hosts_lab_adapter(
    transport, server, run, setup, guest_tools
):
    pool = {"win2022": "192.168.56.120-192.168.56.121"}
    engine = engine_on(
        lab_host(transport), run, setup, network="transparent", addresses=pool
    )
    with pytest.raises(EngineError, match="the adapter of 192.168.56.22"):
        engine.prepare()  # the stand-in has no adapter with that address


def test_nat_containers_have_no_address_for_a_separate_client(
    transport, server, run, setup, guest_tools
):
    client_host = lab_host(transport)
    host = lab_host(transport, client_host=client_host)
    engine = engine_on(host, run, setup)
    engine.prepare()
    container = engine.create_container("c1")
    assert container.address is None
    with pytest.raises(
        TransportError, match="network: nat gives containers docker NAT"
    ):
        tcp_ask(engine.client(), container.address, 8135)
    engine.close()


def test_files_cannot_be_copied_into_a_running_hyperv_container(
    transport, server, run, setup, guest_tools
):
    engine = engine_on(lab_host(transport), run, setup, isolation="hyperv")
    engine.prepare()
    container = engine.create_container("c1")
    with pytest.raises(EngineError, match="running Hyper-V container"):
        container.write_file("C:\\harness\\identity.txt", b"x")
    engine.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image": None}, "no image for win2022"),
        ({"isolation": "vm"}, "allowed values: process, hyperv"),
        ({"network": "bridge"}, "network: 'bridge'; allowed values: nat, transparent"),
        ({"network": "transparent"}, r"addresses.win2022: network: transparent needs"),
        (
            {"network": "transparent", "addresses": {"win2022": "10.0.0.9-10.0.0.1"}},
            "is not a range FIRST-LAST",
        ),
    ],
)
def test_options_are_checked_with_the_allowed_values(
    transport, run, setup, options, message
):
    host = Host("win2022", "standin", transport, LAB, {"build": 20348})
    with pytest.raises(ConfigError, match=message):
        engine_on(host, run, setup, **options)


def test_the_image_is_chosen_per_platform(transport, run, setup):
    host = Host("win2022", "standin", transport, LAB, {"build": 20348})
    engine = engine_on(host, run, setup, images={"win2022": IMAGE + "-x"}, image="y")
    assert engine.image == IMAGE + "-x"


def test_a_failing_install_is_an_engine_error(
    transport, server, run, setup, guest_tools
):
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        artifact=str(setup),
        install="{artifact} /passive",
        options={"image": IMAGE},
    )
    engine = WindowsContainersEngine(lab_host(transport), "wc", config, run)
    with pytest.raises(
        EngineError, match="install command exited 1: stand-in: the installer"
    ):
        engine.prepare()


def test_an_artifact_url_is_refused_with_the_way_out(transport, run):
    config = matrix.Engine(
        kind="windows-containers",
        platforms=["win2022"],
        artifact="https://example.invalid/docker.zip",
        options={"image": IMAGE},
    )
    host = Host("win2022", "standin", transport, LAB, {"build": 20348})
    engine = WindowsContainersEngine(host, "wc", config, run)
    with pytest.raises(ConfigError, match="is a URL; download it"):
        engine.prepare()
