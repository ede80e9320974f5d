"""WinRMTransport runs commands through real pywinrm against the loopback endpoint:
encryption, code page, decoding, exit codes, long scripts, timeouts, logging."""

from __future__ import annotations

import logging

import pytest

from harness.errors import CommandTimeout, ConfigError, TransportError
from harness.transports.winrm import WinRMTransport
from harness.transports.winrm_scripts import CMD_LINE_LIMIT
from tests.windows.conftest import PASSWORD, USER, connect
from tests.windows.wsman_server import WSManServer


def test_every_message_after_authentication_is_encrypted(transport, server):
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    assert server.requests, "the server saw no WS-Management request"
    assert all(request.encrypted for request in server.requests)


def test_basic_over_plain_http_is_refused_naming_the_key_and_allowed_values():
    allowed = "allowed values over http: ntlm, kerberos, credssp"
    with pytest.raises(ConfigError, match=rf"\.auth: 'basic' cannot .*{allowed}"):
        WinRMTransport(
            "h", "127.0.0.1", user=USER, password=PASSWORD, options={"auth": "basic"}
        )


def test_the_shell_opens_with_utf8_code_page(transport, server):
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    creates = [r for r in server.requests if r.action == "Create"]
    assert creates[0].options["WINRS_CODEPAGE"] == "65001"


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["cmd", "/c", "exit", "3"], 3),
        (["cmd", "/c", "exit", "0"], 0),
        (["exit", "7"], 7),
        (["no-such-program.exe"], 9009),
    ],
)
def test_exit_codes_of_the_cmd_path(transport, argv, code):
    assert transport.run(argv, timeout=10).exit_code == code


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ("exit 3", 3),
        ("Write-Output 'before'\nexit 4", 4),
        ("Write-Output 'x'\ncmd /c exit 2", 2),
        ("cmd /c exit 0", 0),
    ],
)
def test_exit_codes_of_the_powershell_path(transport, script, code):
    assert transport.powershell(script, timeout=10).exit_code == code


def test_throw_gives_non_zero_with_the_message(transport):
    result = transport.powershell("throw 'the disk is on fire'", timeout=10)
    assert result.exit_code != 0
    assert "the disk is on fire" in result.stderr


def test_write_error_alone_gives_zero_and_readable_stderr(transport):
    result = transport.powershell("Write-Error 'été <&> ok'", timeout=10)
    assert result.exit_code == 0
    assert result.stderr == "été <&> ok\r\n"  # CLIXML decoded


@pytest.mark.parametrize("size", [2900, 3100, 8000])
def test_long_scripts_run_with_their_parameters(transport, server, size):
    filler = "x" * size
    script = f"param($Name)\nWrite-Output $Name\nWrite-Output '{filler}'"
    result = transport.powershell(script, {"Name": "Spooler & co"}, timeout=10)
    assert result.exit_code == 0
    assert result.stdout.split("\r\n")[:2] == ["Spooler & co", filler]
    assert max(len(line) for line in server.machine.command_lines) <= CMD_LINE_LIMIT


@pytest.mark.parametrize("count", [1000, 4000])
def test_non_ascii_scripts_keep_their_text(transport, server, count):
    text = ("日本語é€" * count)[:count]
    script = f"param($Name)\nWrite-Output $Name\nWrite-Output '{text}'\nexit 5"
    result = transport.powershell(script, {"Name": "naïve"}, timeout=10)
    assert (result.exit_code, result.stdout.split("\r\n")[:2]) == (5, ["naïve", text])
    assert max(len(line) for line in server.machine.command_lines) <= CMD_LINE_LIMIT


def test_a_script_too_long_for_the_command_line_goes_through_a_file(transport, server):
    transport.powershell("Write-Output '" + "y" * 9000 + "'", timeout=10)
    assert any(" -File " in line for line in server.machine.command_lines)
    temp = server.machine.path("C:\\Windows\\Temp")
    assert not list(temp.glob("hx-*.ps1")), "the script file was not removed"


def test_oem_output_decodes_with_the_hosts_oem_code_page(transport, server):
    server.machine.oem_codepage = 850
    server.machine.path("C:\\harness").mkdir(parents=True)
    # 0x81 0x82 are "üé" in cp437 and cp850; 0x9B is "¢" in cp437 but "ø" in cp850.
    server.machine.path("C:\\harness\\oem.txt").write_bytes(b"gr\x81\x82 s\x9bren")
    transport.wait_ready(10)
    result = transport.run(["type", "C:\\harness\\oem.txt"], timeout=10)
    assert result.stdout == "grüé søren"


def test_a_cjk_file_name_round_trips(transport, server, tmp_path):
    transport.upload_bytes(b"data", "C:\\harness\\数据\\文件.txt")
    listing = transport.run(["dir", "/b", "C:\\harness\\数据"], timeout=10)
    assert listing.stdout.strip() == "文件.txt"
    local = tmp_path / "文件.txt"
    transport.download("C:\\harness\\数据\\文件.txt", local)
    assert local.read_bytes() == b"data"


def test_without_code_page_65001_cjk_names_would_become_question_marks(server):
    # The reason for 65001: Windows replaces what the code page cannot encode.
    server.machine.path("C:\\harness\\数据").mkdir(parents=True)
    server.machine.path("C:\\harness\\数据\\文件.txt").write_bytes(b"")
    with connect(server, codepage=437) as oem:
        listing = oem.run(["dir", "/b", "C:\\harness\\数据"], timeout=10)
    assert listing.stdout.strip() == "??.txt"


def test_a_quiet_command_keeps_polling_past_the_operation_timeout(transport, server):
    result = transport.run(["timeout", "/t", "2.5"], timeout=20)
    assert result.exit_code == 0
    assert server.actions().count("Receive") >= 3  # two quiet polls, then the end


def test_a_command_past_its_timeout_is_terminated(transport, server):
    with pytest.raises(CommandTimeout, match="ran past"):
        transport.run(["timeout", "/t", "30"], timeout=1.5)
    assert "Signal" in server.actions()
    shell = next(iter(server.shells.values()))
    assert not shell.commands, "the timed-out command was not signalled"


def test_read_timeout_must_exceed_operation_timeout(server):
    with pytest.raises(ConfigError, match="read_timeout"):
        connect(server, operation_timeout=5, read_timeout=5)


def test_the_first_command_gets_one_warm_up_retry(transport, server, caplog):
    server.inject("Receive", "http500")
    assert transport.run(["cmd", "/c", "exit", "0"], timeout=10).exit_code == 0
    assert "warm-up retry" in caplog.text
    server.inject("Receive", "http500")  # a later command may have run: no retry
    with pytest.raises(TransportError, match="HTTP 500"):
        transport.run(["cmd", "/c", "exit", "0"], timeout=10)


def test_a_command_that_could_not_start_is_started_again(transport, server):
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    server.inject("Command", "http500")
    assert transport.run(["cmd", "/c", "exit", "4"], timeout=10).exit_code == 4


def test_every_command_is_logged_with_host_argv_exit_code_and_duration(
    transport, caplog
):
    transport.run(["cmd", "/c", "exit", "6"], timeout=10)
    records = [
        r
        for r in caplog.records
        if r.name == "harness.transports" and r.levelno == logging.INFO
    ]
    assert any(
        r.getMessage().startswith("standin: cmd /c exit 6 -> exit 6 in ")
        for r in records
    )


def test_shells_are_closed_when_a_test_raises(server):
    with pytest.raises(RuntimeError), connect(server) as transport:
        transport.run(["cmd", "/c", "exit", "0"], timeout=10)
        transport.run(["cmd", "/c", "exit", "0"], timeout=10, env={"A": "1"})
        raise RuntimeError("the test failed")
    assert server.shells == {}


def test_environment_variables_reach_the_shell(transport, server):
    result = transport.run_line("echo %HX_MODE%", timeout=10, env={"HX_MODE": "é"})
    assert result.stdout == "é\r\n"
    assert server.actions().count("Create") == server.actions().count("Delete") == 1


def test_a_percent_in_an_argument_is_not_expanded(transport):
    result = transport.run(["echo", "%HX_MODE%"], timeout=10, env={"HX_MODE": "é"})
    assert result.stdout == "%HX_MODE%\r\n"


def test_close_twice_is_safe(server: WSManServer):
    transport = connect(server)
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    transport.close()
    transport.close()
    assert server.shells == {}
