"""What all Windows engines share: SCM decisions on numeric codes, and a host that
is not reached through WinRM."""

from __future__ import annotations

import pytest

from harness import matrix
from harness.engines import windows_common as common
from harness.engines.sandboxie import SandboxieEngine
from harness.errors import EngineError
from harness.targets import Host


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

    config = matrix.Engine(kind="sandboxie", platforms=["win11"])
    host = Host(platform="win11", name="win11", transport=Local())
    with pytest.raises(EngineError, match="needs a Windows host reached through"):
        SandboxieEngine(host, "sandboxie", config, run)
