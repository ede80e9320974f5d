"""A Windows client machine asks the network its own way: TCP and HTTP in
PowerShell on the client machine (real pywinrm to the stand-in, whose emulation of
the scripts opens real sockets), RPC from the controller; an address the client
cannot reach makes the cell broken, never failed."""

from __future__ import annotations

import http.server
import socket
import sys
import threading

import pytest

from harness.engines.windows_client import WindowsClient
from harness.errors import TransportError
from harness.netclient import DUPIF, ask
from harness.probe import tcp_ask
from harness.targets import Host


def windows_host(transport, **facts):
    return Host("win11", "standin", transport, address="127.0.0.1", facts=facts)


@pytest.fixture
def client(transport):
    return WindowsClient(windows_host(transport), "sandboxie")


@pytest.fixture
def line_server():
    """A TCP server that answers every connection with one JSON line."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b'{"identity": "wc:c1:1234"}\n')

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_tcp_runs_in_powershell_on_the_windows_client(client, server, line_server):
    reply = tcp_ask(client, "127.0.0.1", line_server)
    assert reply == {"ok": True, "answer": '{"identity": "wc:c1:1234"}'}
    lines = server.machine.command_lines
    assert any("-EncodedCommand" in line for line in lines)
    assert not any(sys.executable in line for line in lines), "a Linux path was sent"


def test_a_refused_connection_is_data_with_the_winsock_code(client):
    assert tcp_ask(client, "127.0.0.1", closed_port())["errno"] == 10061


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server naming
        found = self.path == "/dup/"
        body = b'{"identity": "box"}' if found else b"no"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_runs_in_powershell_on_the_windows_client(client, web):
    assert ask(client, "http", f"{web}/dup/") == {
        "ok": True,
        "status": 200,
        "body": '{"identity": "box"}',
    }
    missing = ask(client, "http", f"{web}/missing")
    assert (missing["ok"], missing["status"]) == (False, 404)


def test_rpc_runs_on_the_controller_against_the_address(client, server):
    before = len(server.machine.command_lines)
    answer = ask(client, "rpc", "127.0.0.1", DUPIF[0], str(closed_port()))
    assert (answer["ok"], answer["stage"], answer["errno"]) == (False, "call", 111)
    assert len(server.machine.command_lines) == before, "rpc ran on the client VM"


def test_a_container_without_an_address_makes_the_cell_broken(transport):
    reason = "network: nat gives docker NAT addresses"
    client = WindowsClient(windows_host(transport), "wc", no_address=reason)
    with pytest.raises(TransportError, match=f"no address .* reach: {reason}"):
        tcp_ask(client, None, 8135)
    with pytest.raises(TransportError, match="no address"):
        ask(client, "http", "http://None:8180/dup/")


def test_a_loopback_address_from_a_separate_client_is_broken(transport):
    other = windows_host(transport)
    server_host = Host(
        "win2022", "server", transport, "127.0.0.1", {"client_host": other}
    )
    client = WindowsClient(server_host, "wc")
    with pytest.raises(TransportError, match="loopback address of the server host"):
        tcp_ask(client, "127.0.0.1", 8135)


def test_no_route_to_the_address_is_broken_not_failed(client, server):
    server.machine.unreachable = {"192.0.2.10"}
    with pytest.raises(TransportError, match="errno 10065.*does not connect them"):
        tcp_ask(client, "192.0.2.10", 8135)
