"""`harness up|status|down PLATFORM` keep a machine up between a developer's runs;
a later run reuses it.  The recorded vagrant plays the machine."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from harness import matrix
from harness.errors import ConfigError
from harness.targets import commands
from harness.targets.vagrant import VagrantTarget

MATRIX = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
  win2022:
    target: vagrant
    os: windows
    box: gusztavvargadr/windows-server-2022-standard
    box_version: "2102.0.2409"
    address: 192.168.56.22
    boot_timeout: 10
    winrm: {operation_timeout: 1, read_timeout: 3, warmup_delay: 0.05,
            retry_interval: 0.1}
  lab:
    target: inventory
    os: windows
    hosts: [{address: 192.0.2.1}]
engines:
  wine: {kind: wine, platforms: [wine-8]}
services: [ordinary]
"""


@pytest.fixture
def cli(tmp_path, monkeypatch):
    path = tmp_path / "matrix.yaml"
    path.write_text(MATRIX)
    monkeypatch.setenv("HARNESS_MATRIX", str(path))
    monkeypatch.setenv("HARNESS_STATE", str(tmp_path / "state"))
    app = typer.Typer()
    app.command("up")(commands.up)
    app.command("status")(commands.status)
    app.command("down")(commands.down)
    app.command("noop", hidden=True)(lambda: None)
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke.matrix = path
    return invoke


def test_up_keeps_the_machine_running_for_a_later_run(cli, fake_vagrant, run):
    assert "win2022: running at 192.168.56.22 (HXSTANDIN, build 20348)" in cli(
        "up", "win2022"
    )
    assert cli("status", "win2022") == "win2022: running\n"
    calls_before = len(fake_vagrant.calls())

    # what `harness run --platform win2022` does: reuse, then leave it running
    platform = matrix.load(cli.matrix).platforms["win2022"]
    target = VagrantTarget("win2022", platform, run)
    target.up()
    target.down(passed=True)
    later = fake_vagrant.commands()[calls_before:]
    assert later == ["status win2022", "winrm-config win2022"]
    assert cli("status", "win2022") == "win2022: running\n"


def test_down_halts_and_destroy_removes(cli, fake_vagrant):
    cli("up", "win2022")
    assert cli("down", "win2022") == "win2022: stopped\n"
    assert cli("down", "win2022", "--destroy") == "win2022: absent\n"
    assert fake_vagrant.commands()[-4:-2] == ["halt win2022", "status win2022"]


def test_a_local_platform_has_nothing_to_bring_up(cli):
    assert "nothing to bring up" in cli("up", "wine-8")
    assert "nothing to bring down" in cli("down", "wine-8")
    assert "nothing to bring down" in cli("down", "lab")


def test_an_unknown_platform_lists_the_known_ones(cli):
    with pytest.raises(ConfigError, match="allowed values: lab, win2022, wine-8"):
        cli("status", "win1999")


def test_commands_leave_no_run_state_behind(cli, fake_vagrant, tmp_path):
    cli("up", "win2022")
    cli("status", "win2022")
    cli("down", "win2022")
    assert list((tmp_path / "state").iterdir()) == []


def test_status_without_vagrant_is_unknown_with_the_reason(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    app = typer.Typer()
    app.command("status")(commands.status)
    app.command("noop", hidden=True)(lambda: None)
    result = CliRunner().invoke(app, ["status", "win2022"])
    assert result.exit_code == 3, result.output
    assert result.output.startswith("win2022: unknown (")
    assert "vagrant" in result.output
    assert list((tmp_path / "state").iterdir()) == []
