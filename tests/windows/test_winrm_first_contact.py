"""The first contact of a host that was never reached: it gives up after
connect_timeout, naming the address and port, instead of waiting a boot timeout
meant for hosts known to exist.  Against loopback only: a port nobody listens on,
and a port whose connections are never accepted (its queue is full, so the kernel
drops new connection requests, as a firewall or a wrong address does)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from harness import matrix
from harness.errors import ConfigError, TransportError
from harness.targets.inventory import InventoryTarget
from harness.transports.winrm import WinRMTransport
from tests.windows.conftest import FAST, PASSWORD, USER


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dropping_port() -> Iterator[int]:
    """A port that listens with a backlog of 0 and one connection queued: Linux
    then drops every further SYN, and a connect() waits until its timeout."""
    with socket.socket() as listener, socket.socket() as queued:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        queued.connect(("127.0.0.1", port))
        yield port


def transport_to(port: int, **options: object) -> WinRMTransport:
    return WinRMTransport(
        "lab1",
        "127.0.0.1",
        port=port,
        user=USER,
        password=PASSWORD,
        options={**FAST, "connect_timeout": 1, **options},
    )


def test_a_port_nobody_listens_on_fails_after_connect_timeout(closed_port, caplog):
    began = time.monotonic()
    with (
        transport_to(closed_port) as transport,
        pytest.raises(TransportError) as raised,
    ):
        transport.wait_ready(60)
    assert time.monotonic() - began < 5
    assert str(raised.value) == (
        f"lab1: no connection to WinRM at 127.0.0.1:{closed_port} within 1s "
        "(connect_timeout) of first contact: connection refused (nothing listens "
        "on that port)"
    )
    assert "trying again" in caplog.text  # retried within connect_timeout


def test_an_address_that_drops_connections_fails_after_connect_timeout(
    dropping_port,
):
    began = time.monotonic()
    with (
        transport_to(dropping_port, connect_timeout=1.5) as transport,
        pytest.raises(TransportError, match=f"127.0.0.1:{dropping_port} within 1.5s"),
    ):
        transport.wait_ready(60)
    assert 1.4 < time.monotonic() - began < 5


def test_a_first_command_without_wait_ready_fails_the_same_way(closed_port):
    with (
        transport_to(closed_port) as transport,
        pytest.raises(TransportError, match="connect_timeout"),
    ):
        transport.run(["cmd", "/c", "exit", "0"], timeout=10)


def test_an_unreachable_inventory_host_is_reported_with_its_address(
    closed_port, run, monkeypatch
):
    monkeypatch.setenv("HARNESS_WINRM_USER", USER)
    monkeypatch.setenv("HARNESS_WINRM_PASSWORD", PASSWORD)
    platform = matrix.Platform(
        target="inventory",
        os="windows",
        hosts=[{"name": "lab1", "address": "127.0.0.1", "port": closed_port}],
        winrm={**FAST, "connect_timeout": 1},
        boot_timeout=600,
    )
    began = time.monotonic()
    with pytest.raises(TransportError, match=f"127.0.0.1:{closed_port} within 1s"):
        InventoryTarget("win2022-lab", platform, run).up()
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("value", [0, -1])
def test_connect_timeout_must_be_above_zero(value):
    with pytest.raises(ConfigError, match="connect_timeout: .* must be above zero"):
        transport_to(1, connect_timeout=value)
