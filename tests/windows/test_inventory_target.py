"""InventoryTarget: hosts from matrix.yaml, credentials only from the environment
(or a file it names), never from matrix.yaml."""

from __future__ import annotations

import pytest

from harness import matrix
from harness.errors import ConfigError
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
