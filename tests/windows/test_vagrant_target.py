"""VagrantTarget with the real python-vagrant, a recorded `vagrant` first on PATH,
and the loopback WS-Management endpoint as the machine's WinRM."""

from __future__ import annotations

import pytest

from harness import matrix
from harness.errors import ConfigError, TargetError
from harness.targets.vagrant import VagrantTarget
from tests.windows.conftest import FAST, PASSWORD

PLATFORM = matrix.Platform(
    target="vagrant",
    os="windows",
    box="gusztavvargadr/windows-server-2022-standard",
    box_version="2302.0.2409",
    address="192.168.56.22",
    winrm=FAST,
    boot_timeout=10,
)


def target(run, vms, destroy="never") -> VagrantTarget:
    return VagrantTarget("win2022", PLATFORM, run, destroy=destroy, vagrant_dir=vms)


def test_first_up_provisions_saves_clean_and_connects(fake_vagrant, run, vms, server):
    host = target(run, vms).up()
    assert fake_vagrant.commands() == [
        "status win2022",
        "snapshot list win2022",
        "up win2022",
        "snapshot save win2022 clean",
        "winrm-config win2022",
    ]
    assert host.transport.run(["cmd", "/c", "exit", "5"], timeout=10).exit_code == 5
    # WinRM goes to winrm-config's 127.0.0.1 (VirtualBox's forwarded port); the
    # lab network reaches the machine at the platform's address.
    assert host.transport.endpoint == f"http://127.0.0.1:{server.port}/wsman"
    assert (host.platform, host.name, host.address) == (
        "win2022",
        "HXSTANDIN",
        "192.168.56.22",
    )
    assert host.facts["os_build"] == 20348
    host.transport.close()


def test_a_running_machine_is_reused_and_left_running(fake_vagrant, run, vms):
    fake_vagrant.set(state="running", snapshots=["clean"])
    made = target(run, vms)
    made.up()
    made.down(passed=True)
    assert fake_vagrant.commands() == ["status win2022", "winrm-config win2022"]


def test_a_stopped_machine_is_restored_from_clean(fake_vagrant, run, vms):
    fake_vagrant.set(state="poweroff", provider="libvirt", snapshots=["clean"])
    made = target(run, vms)
    assert made.status() == "stopped"  # libvirt says shutoff
    made.up()
    made.down(passed=True)
    assert fake_vagrant.commands()[1:] == [
        "status win2022",
        "snapshot list win2022",
        "snapshot restore win2022 clean",
        "winrm-config win2022",
        "halt win2022",
    ]


def test_revert_restores_clean_except_right_after_up(fake_vagrant, run, vms, server):
    made = target(run, vms)
    host = made.up()
    assert made.revert() is True  # the machine is fresh: nothing to do
    assert "snapshot restore win2022 clean" not in fake_vagrant.commands()
    host.transport.upload_bytes(b"x", "C:\\harness\\after-clean.txt")
    assert made.revert() is True
    assert fake_vagrant.commands()[-2:] == [
        "snapshot list win2022",
        "snapshot restore win2022 clean",
    ]
    assert not server.machine.path("C:\\harness\\after-clean.txt").exists()
    assert host.transport.run(["cmd", "/c", "exit", "0"], timeout=10).exit_code == 0
    made.down(passed=True)


def test_a_saved_state_replaces_an_older_one_and_is_restored(
    fake_vagrant, run, vms, server
):
    made = target(run, vms)
    host = made.up()
    for content in (b"old", b"new"):
        host.transport.upload_bytes(content, "C:\\harness\\engine.txt")
        assert made.save("clean-myengine") is True
    assert made.revert("clean-myengine") is True  # still in it: nothing to do
    server.machine.path("C:\\harness\\engine.txt").unlink()
    assert made.revert("clean-myengine") is True
    assert server.machine.path("C:\\harness\\engine.txt").read_bytes() == b"new"
    saves = [c for c in fake_vagrant.calls() if c[:2] == ["snapshot", "save"]]
    assert saves[-1] == ["snapshot", "save", "--force", "win2022", "clean-myengine"]
    made.down(passed=True)


def test_reverting_to_a_state_never_saved_leaves_the_machine(
    fake_vagrant, run, vms, caplog
):
    made = target(run, vms)
    made.up()
    assert made.revert("clean-other") is False
    assert "no 'clean-other' snapshot" in caplog.text
    assert not [c for c in fake_vagrant.commands() if "restore" in c]
    made.down(passed=True)


@pytest.mark.parametrize(
    ("policy", "passed", "last"),
    [
        ("never", True, "halt win2022"),
        ("never", False, "halt win2022"),
        ("passing", True, "destroy win2022"),
        ("passing", False, "halt win2022"),
        ("always", False, "destroy win2022"),
    ],
)
def test_down_follows_the_destroy_policy(fake_vagrant, run, vms, policy, passed, last):
    made = target(run, vms, destroy=policy)
    made.up()
    made.down(passed=passed)
    assert fake_vagrant.commands()[-1] == last
    assert made.status() == ("absent" if last.startswith("destroy") else "stopped")


def test_a_failed_up_is_a_target_error_quoting_vagrants_output(
    fake_vagrant, run, vms, monkeypatch
):
    monkeypatch.setenv("FAKE_VAGRANT_FAIL", "up")
    with pytest.raises(TargetError, match="vagrant up failed with exit code 1") as e:
        target(run, vms).up()
    assert "VMBootTimeout" in (run.state / "vagrant-win2022.log").read_text()
    assert "VMBootTimeout" in str(e.value), "the reason must outlive the run's state"


def test_a_vagrant_platform_without_a_lab_address_is_a_configuration_error(run, vms):
    platform = PLATFORM.model_copy(update={"address": None})
    with pytest.raises(ConfigError, match=r"platforms.win2022.address: required"):
        VagrantTarget("win2022", platform, run, vagrant_dir=vms)


def test_an_unknown_destroy_policy_is_a_configuration_error(run, vms):
    with pytest.raises(ConfigError, match="allowed values: never, passing, always"):
        target(run, vms, destroy="sometimes")


def test_a_missing_vagrant_is_a_target_error(run, vms, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(TargetError, match="is vagrant installed"):
        target(run, vms).status()


def test_the_boxs_password_stays_out_of_logs(fake_vagrant, run, vms, caplog):
    made = target(run, vms)
    made.up()
    made.down(passed=True)
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in arg for call in fake_vagrant.calls() for arg in call)
