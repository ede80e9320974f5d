"""vms/Vagrantfile defines one Windows machine per vagrant platform of matrix.yaml,
with its box, version, size, WinRM communicator, network, providers and
provisioning.  `vagrant validate` runs when a vagrant with the WinRM communicator
is installed; the machine list is read through Ruby with a stand-in for Vagrant's
configuration objects (tests/windows/vagrantfile_probe.rb)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import matrix

ROOT = Path(__file__).resolve().parents[2]
VMS = ROOT / "vms"
PROBE = Path(__file__).resolve().parent / "vagrantfile_probe.rb"


def load_vagrantfile(matrix_path: Path) -> subprocess.CompletedProcess:
    if not shutil.which("ruby"):
        pytest.skip("ruby is not installed (apt-get install ruby)")
    return subprocess.run(
        ["ruby", str(PROBE), str(VMS / "Vagrantfile")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HARNESS_MATRIX": str(matrix_path)},
    )


def machines(matrix_path: Path = ROOT / "matrix.yaml") -> dict:
    result = load_vagrantfile(matrix_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_vagrant_validates_the_vagrantfile():
    if not shutil.which("vagrant"):
        pytest.skip("vagrant is not installed")
    result = subprocess.run(
        ["vagrant", "validate", "--ignore-provider"],
        cwd=VMS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "cannot load such file -- winrm" in result.stderr:
        pytest.skip(
            "this vagrant has no WinRM communicator (the winrm gem is "
            "missing, as in Debian's package); use HashiCorp's package"
        )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_machine_per_vagrant_platform_with_its_box_and_size():
    loaded = matrix.load(ROOT / "matrix.yaml")
    expected = {
        name: p for name, p in loaded.platforms.items() if p.target == "vagrant"
    }
    found = machines()
    assert sorted(found) == sorted(expected)
    for name, platform in expected.items():
        vm = found[name]["config"]["vm"]
        assert (vm["box"], vm.get("box_version")) == (
            platform.box,
            platform.box_version,
        )
        for provider in ("virtualbox", "hyperv", "libvirt"):
            settings = vm["providers"][provider]
            assert (settings["cpus"], settings["memory"]) == (
                platform.cpus,
                platform.memory,
            )


def test_every_machine_is_windows_over_winrm_without_basic_auth():
    for name, machine in machines().items():
        config = machine["config"]
        assert (config["vm"]["guest"], config["vm"]["communicator"]) == (
            "windows",
            "winrm",
        )
        assert config["winrm"]["transport"] == "negotiate", name
        assert config["winrm"]["basic_auth_only"] is False


def test_the_private_network_is_the_platforms_lab_address():
    loaded = matrix.load(ROOT / "matrix.yaml")
    for name, machine in machines().items():
        network = machine["config"]["vm"]["networks"][0]
        assert network["kind"] == "private_network"
        assert network["ip"] == loaded.platforms[name].address, name


def test_clones_are_linked_on_virtualbox_and_hyperv():
    for machine in machines().values():
        providers = machine["config"]["vm"]["providers"]
        assert providers["virtualbox"]["linked_clone"] is True
        assert providers["hyperv"]["linked_clone"] is True  # differencing disks


def test_provisioning_sets_up_winrm_holds_updates_and_installs_role_features():
    found = machines()
    for name, machine in found.items():
        provisioners = machine["config"]["vm"]["provisioners"]
        paths = [Path(p["path"]).name for p in provisioners if "path" in p]
        assert paths[:3] == ["winrm.ps1", "updates-off.ps1", "harness.ps1"], name
        for path in paths:
            assert (VMS / "scripts" / path).is_file()
    features = [
        p
        for p in found["win2022"]["config"]["vm"]["provisioners"]
        if p["name"] == "features"
    ]
    assert features[0]["args"] == ["-Features", "Containers,Web-Server"]
    assert features[0]["reboot"] is True
    assert not [
        p
        for p in found["win11"]["config"]["vm"]["provisioners"]
        if p["name"] == "features"
    ]


def test_the_matrix_file_is_the_one_source(tmp_path):
    other = tmp_path / "matrix.yaml"
    other.write_text(
        "version: 1\nplatforms:\n  wine-8: {target: local, os: wine}\n"
        "  lab: {target: vagrant, os: windows, box: some/box, cpus: 3,"
        " memory: 2048, address: 10.9.8.7}\n"
    )
    found = machines(other)
    assert list(found) == ["lab"]
    assert found["lab"]["config"]["vm"]["providers"]["libvirt"]["cpus"] == 3
    assert found["lab"]["config"]["vm"]["networks"][0]["ip"] == "10.9.8.7"


@pytest.mark.parametrize(
    ("addresses", "message"),
    [
        ("", "platforms.a.address is missing"),
        (
            "address: 10.0.0.5",
            "platforms.b.address 10.0.0.5 is also platforms.a.address",
        ),
    ],
)
def test_a_missing_or_shared_lab_address_stops_the_vagrantfile(
    tmp_path, addresses, message
):
    other = tmp_path / "matrix.yaml"
    other.write_text(
        "version: 1\nplatforms:\n"
        f"  a: {{target: vagrant, os: windows, box: x/y, {addresses}}}\n"
        f"  b: {{target: vagrant, os: windows, box: x/y, {addresses}}}\n"
    )
    result = load_vagrantfile(other)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_provisioning_never_enables_basic_or_unencrypted_winrm():
    text = (VMS / "scripts" / "winrm.ps1").read_text()
    assert "AllowUnencrypted -Value $false" in text
    assert "Auth\\Basic -Value $false" in text
    assert "-Value $true" not in text.replace("Negotiate -Value $true", "")


def test_winrm_retries_use_vagrants_own_setting_names():
    for machine in machines().values():
        winrm = machine["config"]["winrm"]
        assert (winrm["max_tries"], winrm["retry_delay"]) == (30, 10)


@pytest.mark.parametrize(
    ("setting", "section"),
    [
        ("config.winrm.retry_limit = 3", "winrm"),
        ("config.vm.boot_timout = 3", "vm"),
        ('config.vm.provider("virtualbox") { |vb| vb.cpu = 2 }', "virtualbox"),
    ],
)
def test_the_probe_refuses_a_setting_vagrant_does_not_have(tmp_path, setting, section):
    if not shutil.which("ruby"):
        pytest.skip("ruby is not installed (apt-get install ruby)")
    vagrantfile = tmp_path / "Vagrantfile"
    vagrantfile.write_text(
        'Vagrant.configure("2") do |config|\n'
        '  config.vm.define "m" do |config|\n'
        f"    {setting}\n"
        "  end\n"
        "end\n"
    )
    result = subprocess.run(
        ["ruby", str(PROBE), str(vagrantfile)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"{section}: The following settings shouldn't exist" in result.stderr


def test_the_https_certificate_names_the_lab_address_and_is_exported_as_pem():
    # No PowerShell here: the script is read, not run (see docs/windows.md).
    loaded = matrix.load(ROOT / "matrix.yaml")
    for name, machine in machines().items():
        winrm = [
            p for p in machine["config"]["vm"]["provisioners"] if p["name"] == "winrm"
        ][0]
        assert winrm["args"] == ["-Address", loaded.platforms[name].address]
    text = (VMS / "scripts" / "winrm.ps1").read_text()
    assert "param([Parameter(Mandatory = $true)][string]$Address)" in text
    assert "2.5.29.17={text}DNS=$name&IPAddress=$Address" in text
    assert "-----BEGIN CERTIFICATE-----" in text and "winrm-https.pem" in text
    assert "Export-Certificate" not in text, "DER is what ca_trust_path cannot read"
