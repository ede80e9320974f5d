"""The real Lab on a vagrant platform: the recorded vagrant saves and restores the
stand-in's disk, so a snapshot restore really resets the machine.  Each suite must
start from a clean machine that still has the engine and the guest tools."""

from __future__ import annotations

import pytest
import yaml

from harness import cleanup, matrix, services
from harness.lab import Lab, Placement
from tests.windows.conftest import FAST
from tests.windows.test_engine_command import TEMPLATES

ARTIFACT = "C:\\harness\\engines\\{engine}\\{engine}-1.0.zip"
LEFT_BEHIND = "C:\\harness\\left-behind.txt"


def write_matrix(tmp_path, engines=("first",)):
    for name in engines:
        (tmp_path / f"{name}-1.0.zip").write_bytes(b"PK " + name.encode())
    config = {
        "version": 1,
        "platforms": {
            "win2022": {
                "target": "vagrant",
                "os": "windows",
                "box": "gusztavvargadr/windows-server-2022-standard",
                "address": "192.168.56.22",
                "boot_timeout": 10,
                "winrm": FAST,
            }
        },
        "engines": {
            name: {
                "kind": "command",
                "platforms": ["win2022"],
                "artifact": str(tmp_path / f"{name}-1.0.zip"),
                "install": "echoargs install {artifact}",
                "options": {
                    **TEMPLATES,
                    "duplicate": "echoargs svc {container} {scm_name}",
                },
            }
            for name in engines
        },
        "services": ["ordinary"],
    }
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(config))
    return matrix.load(path)


@pytest.fixture
def lab_for(tmp_path, fake_vagrant, private_state, guest_tools):
    made = []

    def make(engines=("first",)) -> Lab:
        lab = Lab(write_matrix(tmp_path, engines), "20261203T183400Z-abc123", owner=0)
        made.append(lab)
        return lab

    yield make
    for lab in made:
        lab.close()
    cleanup.unregister("20261203T183400Z-abc123")


def holds(server, path: str) -> bool:
    return server.machine.path(path).is_file()


def test_every_suite_starts_clean_with_the_engine_and_guest_tools(
    lab_for, server, fake_vagrant
):
    lab = lab_for()
    placement = Placement("win2022", "first")
    ordinary = services.get("ordinary")
    with lab.suite(placement, ordinary) as suite:
        suite.host.write_file(LEFT_BEHIND, b"from the first suite")
        identity = suite.host.identity
    with lab.suite(placement, ordinary) as suite:
        assert suite.host is suite.host and suite.host.identity == identity
        on_host = server.machine.path("C:\\harness\\identity.txt").read_text()
        assert on_host == identity, "the host side's identity is not on the host"
        assert holds(server, "C:\\harness\\probe.exe"), "the guest tools are gone"
        assert holds(server, ARTIFACT.format(engine="first")), "the engine is gone"
        assert not holds(server, LEFT_BEHIND), "the first suite's change survived"
    commands = fake_vagrant.commands()
    assert commands.count("snapshot save win2022 clean-first") == 1
    assert commands.count("snapshot restore win2022 clean-first") == 1
    assert "snapshot restore win2022 clean" not in commands  # fresh after up


def test_an_engine_is_prepared_on_the_clean_machine_not_on_anothers(
    lab_for, server, fake_vagrant
):
    lab = lab_for(("first", "second"))
    ordinary = services.get("ordinary")
    with lab.suite(Placement("win2022", "first"), ordinary):
        pass
    with lab.suite(Placement("win2022", "second"), ordinary):
        assert holds(server, ARTIFACT.format(engine="second"))
        assert not holds(server, ARTIFACT.format(engine="first"))
    with lab.suite(Placement("win2022", "first"), ordinary):
        assert holds(server, ARTIFACT.format(engine="first"))
        assert not holds(server, ARTIFACT.format(engine="second"))
    assert [c for c in fake_vagrant.commands() if c.startswith("snapshot re")] == [
        "snapshot restore win2022 clean",
        "snapshot restore win2022 clean-first",
    ]
    assert [info["engine"] for info in lab.infos] == ["first", "second"]


def test_without_snapshots_an_engine_keeps_what_it_prepared(
    lab_for, server, fake_vagrant, monkeypatch
):
    monkeypatch.setenv("FAKE_VAGRANT_FAIL", "snapshot")  # a provider without them
    lab = lab_for()
    placement = Placement("win2022", "first")
    ordinary = services.get("ordinary")
    for _ in range(2):
        with lab.suite(placement, ordinary):
            assert holds(server, ARTIFACT.format(engine="first"))
    assert not [c for c in fake_vagrant.commands() if "restore" in c]
