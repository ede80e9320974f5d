"""Reboots, a host that is still booting, an expired evaluation licence, and
credentials that never leak: the transport against the loopback endpoint."""

from __future__ import annotations

import time

import pytest

from harness.errors import TargetError, TransportError
from harness.transports.winrm import WinRMTransport
from tests.windows.conftest import FAST, PASSWORD, USER, connect
from tests.windows.standin import utc_now
from tests.windows.wsman_server import RPC_UNAVAILABLE


def test_a_reboot_is_detected_and_the_session_re_created(transport, server, caplog):
    transport.wait_ready(10)
    before = transport.boot_time
    server.reboot(downtime=0.4)
    assert transport.run(["cmd", "/c", "exit", "3"], timeout=10).exit_code == 3
    assert transport.boot_time != before
    assert "the host rebooted" in caplog.text
    assert "0x800706BA" in caplog.text  # it waited through "RPC server unavailable"


def test_reboot_waits_for_a_new_boot_time(transport, server):
    transport.wait_ready(10)
    before = transport.boot_time
    transport.reboot(timeout=20)
    assert transport.boot_time != before
    assert transport.run(["cmd", "/c", "exit", "0"], timeout=10).exit_code == 0


def test_rpc_unavailable_is_retried_within_the_grace_period(transport, server):
    server.inject("Create", "fault", code=RPC_UNAVAILABLE, count=3)
    transport.wait_ready(10)
    assert transport.facts["computer_name"] == "HXSTANDIN"


def test_a_host_that_stays_unavailable_fails_after_the_grace_period(server):
    server.inject("*", "fault", code=RPC_UNAVAILABLE, count=10_000)
    options = {**FAST, "retry_interval": 0.1}
    with (
        WinRMTransport(
            "standin",
            "127.0.0.1",
            port=server.port,
            user=USER,
            password=PASSWORD,
            options=options,
        ) as transport,
        pytest.raises(TransportError, match="did not answer within 1s"),
    ):
        transport.wait_ready(1)


def test_an_expired_evaluation_licence_is_reported(transport, server):
    transport.wait_ready(10)
    server.reboot(downtime=0.2, licence_expired=True)
    with pytest.raises(TargetError, match="evaluation licence has expired"):
        transport.run(["cmd", "/c", "exit", "0"], timeout=10)


def test_an_expired_licence_is_found_when_the_host_is_first_ready(transport, server):
    server.machine.licence_expired_at = utc_now()  # WLMS logged it at this boot
    server.machine.boot_time = utc_now(-60)
    with pytest.raises(TargetError, match=r"licence has expired: .*WLMS, event 100"):
        transport.wait_ready(10)


def test_an_evaluation_past_its_end_date_is_found_when_first_ready(transport, server):
    server.machine.evaluation_end = "2026-01-31T00:00:00.0000000Z"
    with pytest.raises(TargetError, match="ended at 2026-01-31T00:00:00"):
        transport.wait_ready(10)


def test_a_host_shut_down_for_its_expired_licence_is_reported_so(server):
    server.machine.evaluation_end = utc_now(1.5)  # expires during the run
    with connect(server, reboot_grace=1) as transport:
        transport.wait_ready(10)
        server.machine.licence_expired_at = utc_now()
        server.power_off()  # the licensing service shut the machine down
        time.sleep(1.6)
        with pytest.raises(TargetError, match=r"licence expired at .* did not come"):
            transport.run(["cmd", "/c", "exit", "0"], timeout=10)


def test_a_host_that_stops_answering_with_a_valid_licence_did_not_come_back(server):
    server.machine.evaluation_end = utc_now(3600)
    with connect(server, reboot_grace=1) as transport:
        transport.wait_ready(10)
        server.power_off()
        with pytest.raises(TransportError, match="did not come back") as raised:
            transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    assert not isinstance(raised.value, TargetError)


def test_wrong_credentials_fail_at_once(server):
    with (
        WinRMTransport(
            "standin",
            "127.0.0.1",
            port=server.port,
            user=USER,
            password="not-the-password",
            options=FAST,
        ) as transport,
        pytest.raises(TransportError, match="credentials were rejected"),
    ):
        transport.wait_ready(30)


def test_the_password_never_reaches_logs_messages_or_command_lines(server, caplog):
    messages = []
    with WinRMTransport(
        "standin",
        "127.0.0.1",
        port=server.port,
        user=USER,
        password=PASSWORD,
        options=FAST,
    ) as transport:
        transport.wait_ready(10)
        result = transport.run(["cmd", "/c", "exit", "1"], timeout=10)
        for attempt in (result.check, lambda: transport.download("C:\\no", None)):
            try:
                attempt()
            except Exception as error:  # noqa: BLE001 - every message is checked
                messages.append(str(error))
        messages.append(repr(vars(transport)))
    with WinRMTransport(
        "standin",
        "127.0.0.1",
        port=server.port,
        user=USER,
        password=PASSWORD + "x",
        options=FAST,
    ) as wrong:
        try:
            wrong.wait_ready(5)
        except TransportError as error:
            messages.append(f"{error} {error.__cause__}")
    text = caplog.text + "\n".join(messages) + "\n".join(server.machine.command_lines)
    assert PASSWORD not in text
    assert len(messages) == 4
