"""Upload and download over the loopback endpoint: envelope-sized chunks, SHA-256
verified on the other side, partial files removed when the connection breaks."""

from __future__ import annotations

import hashlib
import os

import pytest

from harness.errors import TransportError
from harness.transports.winrm_files import line_chunk_size, stdin_chunk_size
from tests.windows.conftest import connect

REMOTE = "C:\\harness\\tools\\probe.exe"


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "probe.exe"
    path.write_bytes(os.urandom(300_000))
    return path


def test_chunk_sizes_fit_the_envelope():
    for envelope in (16384, 51200, 153600, 512000):
        line = line_chunk_size(envelope)
        sent = (line + 2) // 3 * 4 + 2  # the base64 line with its CRLF
        assert sent <= stdin_chunk_size(envelope)
        assert (stdin_chunk_size(envelope) + 2) // 3 * 4 + 4096 <= envelope


def test_upload_goes_in_envelope_sized_chunks_and_arrives_whole(
    transport, server, payload
):
    transport.upload(payload, REMOTE)
    sends = [r for r in server.requests if r.action == "Send"]
    assert len(sends) >= 3
    assert max(r.size for r in server.requests) <= 153600
    assert server.machine.path(REMOTE).read_bytes() == payload.read_bytes()


def test_a_smaller_envelope_gives_more_chunks(server, payload):
    with connect(server, max_envelope=40960) as small:
        small.upload(payload, REMOTE)
    sends = [r for r in server.requests if r.action == "Send"]
    assert len(sends) >= 10 and max(r.size for r in sends) <= 40960


def test_an_empty_file_uploads(transport, server, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    transport.upload(empty, "C:\\harness\\empty.txt")
    assert server.machine.path("C:\\harness\\empty.txt").read_bytes() == b""


def test_a_damaged_upload_is_refused_and_not_kept(transport, server, payload):
    server.machine.corrupt_uploads = True
    with pytest.raises(TransportError, match="arrived damaged"):
        transport.upload(payload, REMOTE)
    assert not server.machine.path(REMOTE).parent.exists() or not any(
        server.machine.path(REMOTE).parent.iterdir()
    )


def test_a_broken_connection_leaves_no_partial_file(transport, server, payload):
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    server.inject("Send", "reset", skip=1)
    with pytest.raises(TransportError, match="upload of .* failed"):
        transport.upload(payload, REMOTE)
    folder = server.machine.path(REMOTE).parent
    assert sorted(p.name for p in folder.iterdir()) == []
    transport.close()
    assert server.shells == {}


def test_download_verifies_and_renames_only_when_whole(transport, server, tmp_path):
    data = os.urandom(250_000)
    server.machine.path(REMOTE).parent.mkdir(parents=True)
    server.machine.path(REMOTE).write_bytes(data)
    local = tmp_path / "copy.exe"
    transport.download(REMOTE, local)
    assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert [r.action for r in server.requests].count("Command") >= 3  # stat + chunks


def test_a_broken_download_leaves_no_local_file(transport, server, tmp_path):
    server.machine.path(REMOTE).parent.mkdir(parents=True)
    server.machine.path(REMOTE).write_bytes(os.urandom(250_000))
    transport.run(["cmd", "/c", "exit", "0"], timeout=10)
    server.inject("Receive", "reset", skip=2)
    local = tmp_path / "local"
    local.mkdir()
    with pytest.raises(TransportError):
        transport.download(REMOTE, local / "copy.exe")
    assert list(local.iterdir()) == []


def test_downloading_a_missing_file_is_a_transport_error(transport, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    with pytest.raises(TransportError, match="exited 1"):
        transport.download("C:\\nothing\\here.txt", local / "here.txt")
    assert list(local.iterdir()) == []
