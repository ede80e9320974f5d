"""InventoryTarget: hosts from matrix.yaml, credentials only from the environment
(or a file it names), never from matrix.yaml."""

from __future__ import annotations

import pytest

from harness import matrix
from harness.errors import ConfigError
from harness.secrets import preflight
from harness.targets.inventory import InventoryTarget, credentials
from tests.windows.conftest import FAST, PASSWORD, USER


def platform(*hosts, **winrm):
    return matrix.Platform(
        target="inventory",
        os="windows",
        hosts=list(hosts),
        winrm={**FAST, **winrm},
        boot_timeout=10,
    )


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in (
        "HARNESS_WINRM_USER",
        "HARNESS_WINRM_PASSWORD",
        "HARNESS_WINRM_USER_WIN2022_LAB",
        "HARNESS_WINRM_PASSWORD_WIN2022_LAB",
        "HARNESS_WINRM_USER_WIN11_LAB",
        "HARNESS_WINRM_PASSWORD_WIN11_LAB",
        "HARNESS_WINRM_CREDENTIALS",
        "PYTEST_XDIST_WORKER",
    ):
        monkeypatch.delenv(name, raising=False)


def test_up_connects_with_credentials_from_the_environment(server, run, monkeypatch):
    monkeypatch.setenv("HARNESS_WINRM_USER", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", PASSWORD)
    target = InventoryTarget(
        "win2022-lab",
        platform({"name": "lab1", "address": "127.0.0.1", "port": server.port}),
        run,
    )
    host = target.up()
    assert (host.name, host.address, host.facts["os_build"]) == (
        "lab1",
        "127.0.0.1",
        20348,
    )
    assert host.transport.run(["cmd", "/c", "exit", "4"], timeout=10).exit_code == 4
    target.revert()  # nothing to revert: logged once
    target.down(passed=True)
    assert server.shells == {}


def test_a_platforms_own_variables_win(monkeypatch):
    monkeypatch.setenv("HARNESS_WINRM_USER", "general")
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", "general-pw")
    monkeypatch.setenv("HARNESS_WINRM_USER_WIN2022_LAB", "own")
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD_WIN2022_LAB", "own-pw")
    user, password = credentials("win2022-lab")
    assert (user, password.reveal()) == ("own", "own-pw")
    assert (credentials("win2019")[0]) == "general"


def test_credentials_from_a_file_named_by_a_variable(tmp_path, monkeypatch, caplog):
    secrets_file = tmp_path / "winrm.env"
    secrets_file.write_text(
        "# lab credentials\nHARNESS_WINRM_USER=labuser\n"
        f"HARNESS_WINRM_PASSWORD={PASSWORD}\n"
    )
    secrets_file.chmod(0o644)
    monkeypatch.setenv("HARNESS_WINRM_CREDENTIALS", str(secrets_file))
    user, password = credentials("win2022-lab")
    assert (user, password.reveal()) == ("labuser", PASSWORD)
    assert "readable by other users" in caplog.text
    assert PASSWORD not in caplog.text


def test_missing_credentials_say_which_variables_to_set():
    with pytest.raises(ConfigError, match="HARNESS_WINRM_PASSWORD_WIN2022_LAB"):
        credentials("win2022-lab")


@pytest.mark.parametrize("variable", ["HARNESS_WINRM_PASSWORD", "HARNESS_WINRM_USER"])
def test_an_empty_user_or_password_is_refused(monkeypatch, variable):
    monkeypatch.setenv("HARNESS_WINRM_USER", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", PASSWORD)
    monkeypatch.setenv(variable, "")
    with pytest.raises(ConfigError, match=f"{variable} is set but empty"):
        credentials("win2022-lab")


def test_an_empty_password_in_the_file_is_refused_naming_the_file(
    tmp_path, monkeypatch
):
    secrets_file = tmp_path / "winrm.env"
    secrets_file.write_text("HARNESS_WINRM_USER=u\nHARNESS_WINRM_PASSWORD=\n")
    monkeypatch.setenv("HARNESS_WINRM_CREDENTIALS", str(secrets_file))
    with pytest.raises(ConfigError, match=f"set but empty .in .*={secrets_file}"):
        credentials("win2022-lab")


LAB = """\
version: 1
platforms:
  win2022-lab:
    target: inventory
    os: windows
    client: win11-lab
    hosts: [{address: 192.0.2.10}]
  win11-lab: {target: inventory, os: windows, hosts: [{address: 192.0.2.11}]}
  win2019: {target: vagrant, os: windows, box: some/box}
engines:
  sb: {kind: sandboxie, platforms: [win2022-lab, win2019]}
services: [ordinary]
"""


@pytest.fixture
def lab(tmp_path) -> matrix.Matrix:
    path = tmp_path / "matrix.yaml"
    path.write_text(LAB)
    return matrix.load(path)


def test_preflight_names_every_selected_platform_without_credentials(lab):
    with pytest.raises(ConfigError) as caught:
        preflight(lab.platforms, ["win2022-lab", "win2019"])
    lines = str(caught.value).splitlines()
    # the client machine the platform names is checked too; Vagrant brings its own
    assert [line.split(":")[0] for line in lines] == [
        "no WinRM credentials for win11-lab",
        "no WinRM credentials for win2022-lab",
    ]
    assert "HARNESS_WINRM_PASSWORD_WIN2022_LAB" in lines[1]


def test_preflight_passes_with_credentials_and_for_vagrant_platforms(lab, monkeypatch):
    preflight(lab.platforms, ["win2019"])
    monkeypatch.setenv("HARNESS_WINRM_USER_WIN2022_LAB", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD_WIN2022_LAB", PASSWORD)
    with pytest.raises(ConfigError, match="for win11-lab") as caught:
        preflight(lab.platforms, ["win2022-lab"])
    assert "win2022-lab" not in str(caught.value)
    monkeypatch.setenv("HARNESS_WINRM_USER", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", PASSWORD)
    preflight(lab.platforms, ["win2022-lab", "win2019"])


@pytest.mark.parametrize("key", ["password", "Pass", "winrm_secret"])
def test_a_password_in_matrix_yaml_is_a_configuration_error(run, key):
    with pytest.raises(
        ConfigError, match="credentials never go in matrix.yaml"
    ) as info:
        InventoryTarget(
            "win2022-lab", platform({"address": "192.0.2.1", key: "hunter2"}), run
        )
    assert "hunter2" not in str(info.value)


def test_a_password_in_the_winrm_options_is_refused_too(run, monkeypatch):
    monkeypatch.setenv("HARNESS_WINRM_USER", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", PASSWORD)
    target = InventoryTarget(
        "win2022-lab", platform({"address": "192.0.2.1"}, password="hunter2"), run
    )
    with pytest.raises(ConfigError, match="credentials never go in the config"):
        target.up()


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ([], "lists at least one host"),
        ([{"name": "x"}], "'address' is missing"),
        ([{"address": "a", "transport": "ssh"}], "allowed values: winrm"),
        ([{"address": "a", "colour": "red"}], "unknown key 'colour'"),
    ],
)
def test_host_entries_are_validated(run, hosts, message):
    with pytest.raises(ConfigError, match=message):
        InventoryTarget("win2022-lab", platform(*hosts), run)


def test_each_xdist_worker_takes_its_own_host(run, monkeypatch):
    target = InventoryTarget(
        "win2022-lab",
        platform(
            {"name": "a", "address": "192.0.2.1"}, {"name": "b", "address": "192.0.2.2"}
        ),
        run,
    )
    names = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        names.append(target.entry().name)
    assert names == ["a", "b", "a"]
