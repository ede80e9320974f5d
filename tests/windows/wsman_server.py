"""A WS-Management endpoint on loopback, for the real pywinrm client.

It speaks what pywinrm sends (shell Create, Command, Send, Receive, Signal, Delete),
authenticates with NTLM through pyspnego's server side (the NTLM_USER_FILE
credential store) and encrypts every message after authentication the way WinRM
does over HTTP (multipart/encrypted, application/HTTP-SPNEGO-session-encrypted);
unencrypted requests are refused as on a host with AllowUnencrypted=false.
Commands run in the stand-in (standin.py).  Faults are injected by rule: an
operation timeout, HTTP 500, a WS-Management fault code, or a connection reset.
A reboot drops every shell and connection and changes the boot time.  A small
hypervisor channel (POST /standin/power, JSON) lets the recorded `vagrant` save and
restore snapshots of the machine (its disk folder and boot time) and power it off.

Only what the harness needs is modelled; the XML is built from templates.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import ssl
import struct
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import spnego

from tests.windows.standin import Machine, Process, utc_now

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    f"{NS['rsp']}/Command": "Command",
    f"{NS['rsp']}/Send": "Send",
    f"{NS['rsp']}/Receive": "Receive",
    f"{NS['rsp']}/Signal": "Signal",
}
OPERATION_TIMEOUT = 0x80338029
SHELL_NOT_FOUND = 0x8033805B
RPC_UNAVAILABLE = 0x800706BA
ENVELOPE_TOO_LARGE = 0x80338111  # stand-in code: the test only needs "a fault"
PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
DONE = f"{NS['rsp']}/CommandState/Done"
RUNNING = f"{NS['rsp']}/CommandState/Running"


@dataclasses.dataclass
class Rule:
    """Inject a fault into the `skip`+1-th request of `action` ('*' for any)."""

    action: str
    kind: str  # "http500", "reset", "fault", "timeout"
    code: int = 0
    skip: int = 0
    count: int = 1


@dataclasses.dataclass
class Request:
    action: str
    size: int
    encrypted: bool
    options: dict[str, str]
    shell: str | None


@dataclasses.dataclass
class Shell:
    id: str
    codepage: int
    env: dict[str, str]
    commands: dict[str, Process] = dataclasses.field(default_factory=dict)


class WSManServer:
    """The endpoint; `url` is what the transport connects to."""

    def __init__(
        self, root: Path, user: str, password: str, tls: tuple[Path, Path] | None = None
    ) -> None:
        self.machine = Machine(root / "drives")
        self.machine.on_shutdown = self.reboot
        self.user, self.password = user, password
        users = root / "ntlm_users"
        users.write_text(f":{user}:{password}\n", encoding="utf-8")
        self._previous_users = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(users)  # read by pyspnego's acceptor
        self.shells: dict[str, Shell] = {}
        self.requests: list[Request] = []
        self.rules: list[Rule] = []
        self.generation = 0
        self.down_until = 0.0
        self.powered_off = False
        self.snapshots = root / "snapshots"
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.wsman = self  # type: ignore[attr-defined]
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), daemon=True
        )

    def start(self) -> WSManServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._previous_users is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._previous_users
        for shell in list(self.shells.values()):
            self._drop(shell)

    # --- what tests use --------------------------------------------------------------

    def inject(
        self, action: str, kind: str, *, code: int = 0, skip: int = 0, count: int = 1
    ) -> None:
        self.rules.append(Rule(action, kind, code, skip, count))

    def reboot(self, downtime: float = 0.5, licence_expired: bool = False) -> None:
        """Drop all shells and connections; answer nothing useful for `downtime`."""
        with self.lock:
            for shell in list(self.shells.values()):
                self._drop(shell)
            self.shells.clear()
            self.generation += 1
            if licence_expired:
                self.machine.licence_expired_at = utc_now()
            time.sleep(0.01)
            self.machine.boot_time = utc_now()
            self.down_until = time.monotonic() + downtime

    def save_snapshot(self, name: str) -> None:
        """What a hypervisor's live snapshot keeps: the disk and the boot."""
        with self.lock:
            saved = self.snapshots / name
            shutil.rmtree(saved, ignore_errors=True)
            self.machine.root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(self.machine.root, saved / "disk")
            (saved / "boot_time").write_text(self.machine.boot_time)

    def restore_snapshot(self, name: str) -> None:
        """Back to a snapshot: its disk and boot; shells and connections are gone."""
        saved = self.snapshots / name
        with self.lock:
            for shell in list(self.shells.values()):
                self._drop(shell)
            self.shells.clear()
            self.generation += 1
            shutil.rmtree(self.machine.root, ignore_errors=True)
            shutil.copytree(saved / "disk", self.machine.root)
            self.machine.boot_time = (saved / "boot_time").read_text()
            self.powered_off = False

    def power_off(self) -> None:
        """The machine is off: every connection is reset until it is restored."""
        with self.lock:
            for shell in list(self.shells.values()):
                self._drop(shell)
            self.shells.clear()
            self.generation += 1
            self.powered_off = True

    def hypervisor(self, request: dict[str, str]) -> int:
        """The recorded vagrant's channel: save, restore, power-off."""
        op, name = request.get("op"), request.get("name", "")
        if op == "save":
            self.save_snapshot(name)
        elif op == "restore" and (self.snapshots / name).is_dir():
            self.restore_snapshot(name)
        elif op == "power-off":
            self.power_off()
        elif op == "boot":
            self.powered_off = False
            self.machine.boot_time = utc_now()
        else:
            return 404
        return 200

    def actions(self) -> list[str]:
        return [r.action for r in self.requests]

    def _drop(self, shell: Shell) -> None:
        for process in shell.commands.values():
            process.terminate()

    # --- dispatch --------------------------------------------------------------------

    def rule_for(self, action: str, kinds: tuple[str, ...]) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if (
                    rule.count > 0
                    and rule.action in (action, "*")
                    and rule.kind in kinds
                ):
                    if rule.skip > 0:
                        rule.skip -= 1
                        return None
                    rule.count -= 1
                    return rule
        return None

    def handle(self, envelope: bytes) -> tuple[int, str]:
        root = ET.fromstring(envelope)
        header = root.find("s:Header", NS)
        action = ACTIONS.get(_text(header, "a:Action"), "unknown")
        message_id = _text(header, "a:MessageID")
        shell_id = _selector(header)
        options = {
            o.get("Name", ""): o.text or ""
            for o in root.iterfind(".//w:OptionSet/w:Option", NS)
        }
        self.requests.append(Request(action, len(envelope), True, options, shell_id))
        if len(envelope) > int(_text(header, "w:MaxEnvelopeSize") or 153600):
            return fault(message_id, ENVELOPE_TOO_LARGE, "envelope too large")
        if time.monotonic() < self.down_until:
            return fault(message_id, RPC_UNAVAILABLE, "The RPC server is unavailable.")
        rule = self.rule_for(action, ("fault", "http500", "timeout"))
        if rule and rule.kind == "fault":
            return fault(message_id, rule.code, "injected fault")
        if rule and rule.kind == "http500":
            return 500, "injected HTTP 500"
        if rule and rule.kind == "timeout":
            return fault(message_id, OPERATION_TIMEOUT, "The operation timed out.")
        handler = getattr(self, f"_{action.lower()}", None)
        if handler is None:
            return fault(message_id, 0x80338000, f"unsupported action {action}")
        if action != "Create" and shell_id not in self.shells:
            return fault(message_id, SHELL_NOT_FOUND, "The shell was not found.")
        return handler(root, header, message_id, shell_id)

    def _create(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str | None
    ) -> tuple[int, str]:
        options = {
            o.get("Name"): o.text for o in header.iterfind("w:OptionSet/w:Option", NS)
        }
        env = {
            v.get("Name", ""): v.text or ""
            for v in root.iterfind(".//rsp:Environment/rsp:Variable", NS)
        }
        new = Shell(
            str(uuid.uuid4()).upper(), int(options.get("WINRS_CODEPAGE") or 437), env
        )
        self.shells[new.id] = new
        body = (
            f"<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address>"
            f'<a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">'
            f"{new.id}</w:Selector></w:SelectorSet></a:ReferenceParameters>"
            f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{new.id}</rsp:ShellId>"
            f"</rsp:Shell>"
        )
        return 200, envelope("CreateResponse", message_id, body)

    def _delete(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str
    ) -> tuple[int, str]:
        shell = self.shells.pop(shell_id)
        self._drop(shell)
        return 200, envelope("DeleteResponse", message_id, "")

    def _command(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str
    ) -> tuple[int, str]:
        shell = self.shells[shell_id]
        line = _text(root, ".//rsp:CommandLine/rsp:Command")
        args = _text(root, ".//rsp:CommandLine/rsp:Arguments")
        full = f"{line} {args}".strip()
        command_id = str(uuid.uuid4()).upper()
        shell.commands[command_id] = Process(
            self.machine, full, shell.codepage, shell.env
        )
        body = (
            f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>"
            "</rsp:CommandResponse>"
        )
        return 200, envelope("CommandResponse", message_id, body)

    def _send(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str
    ) -> tuple[int, str]:
        stream = root.find(".//rsp:Send/rsp:Stream", NS)
        process = self.shells[shell_id].commands[stream.get("CommandId", "")]
        process.stdin.put(base64.b64decode(stream.text or ""))
        if stream.get("End", "false").lower() == "true":
            process.stdin.put(None)
        return 200, envelope("SendResponse", message_id, "<rsp:SendResponse/>")

    def _receive(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str
    ) -> tuple[int, str]:
        desired = root.find(".//rsp:Receive/rsp:DesiredStream", NS)
        command_id = desired.get("CommandId", "")
        process = self.shells[shell_id].commands[command_id]
        wait = _seconds(_text(header, "w:OperationTimeout"))
        out, err, code = process.take(wait)
        if not out and not err and code is None:
            return fault(message_id, OPERATION_TIMEOUT, "The operation timed out.")
        streams = "".join(
            f'<rsp:Stream Name="{name}" CommandId="{command_id}">'
            f"{base64.b64encode(data).decode()}</rsp:Stream>"
            for name, data in (("stdout", out), ("stderr", err))
            if data
        )
        state = (
            f'<rsp:CommandState CommandId="{command_id}" State="{DONE}">'
            f"<rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>"
            if code is not None and not _pending(process)
            else f'<rsp:CommandState CommandId="{command_id}" State="{RUNNING}"/>'
        )
        body = f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>"
        return 200, envelope("ReceiveResponse", message_id, body)

    def _signal(
        self, root: ET.Element, header: Any, message_id: str, shell_id: str
    ) -> tuple[int, str]:
        signal = root.find(".//rsp:Signal", NS)
        process = self.shells[shell_id].commands.pop(signal.get("CommandId", ""), None)
        if process is not None and process.exit_code is None:
            process.terminate()
        return 200, envelope("SignalResponse", message_id, "<rsp:SignalResponse/>")


def _pending(process: Process) -> bool:
    with process.changed:
        return bool(process.out or process.err)


def _seconds(duration: str) -> float:
    match = re.match(r"PT([\d.]+)S", duration or "")
    return float(match.group(1)) if match else 20.0


def _text(node: Any, path: str) -> str:
    found = node.find(path, NS) if node is not None else None
    return (found.text or "") if found is not None else ""


def _selector(header: Any) -> str | None:
    found = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
    return found.text if found is not None else None


def envelope(action: str, relates_to: str, body: str) -> str:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}"
        f"</a:MessageID><a:RelatesTo>{relates_to}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def fault(relates_to: str, code: int, reason: str) -> tuple[int, str]:
    body = (
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason>"
        f'<s:Text xml:lang="en-US">{reason}</s:Text></s:Reason><s:Detail>'
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine="127.0.0.1"><f:Message>{reason}</f:Message>'
        "</f:WSManFault></s:Detail></s:Fault>"
    )
    return 500, envelope(
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body
    )


class _Handler(BaseHTTPRequestHandler):
    """One TCP connection: its NTLM context and, after that, encrypted messages."""

    protocol_version = "HTTP/1.1"
    context: Any = None
    generation = -1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    @property
    def wsman(self) -> WSManServer:
        return self.server.wsman  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/standin/power":
            return self._reply(self.wsman.hypervisor(json.loads(body)), b"")
        if self.wsman.powered_off:
            return self._reset()
        if self.context is not None and self.generation != self.wsman.generation:
            return self._reset()  # the host rebooted under this connection
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            return self._basic(base64.b64decode(auth[6:]), body)
        if auth.startswith("Negotiate "):
            return self._authenticate(base64.b64decode(auth[10:]), body)
        if self.context is None or not self.context.complete:
            return self._reply(401, b"", {"WWW-Authenticate": "Negotiate"})
        self._serve(body)

    def _basic(self, credentials: bytes, body: bytes) -> None:
        """Basic: the password in every request, accepted over TLS only (as on a
        host with AllowUnencrypted=false)."""
        expected = f"{self.wsman.user}:{self.wsman.password}".encode()
        if not isinstance(self.connection, ssl.SSLSocket) or credentials != expected:
            return self._reply(401, b"", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
        self._serve(body)

    def _authenticate(self, token: bytes, body: bytes) -> None:
        """One NTLM leg; the request that completes it is served (over HTTPS it
        carries the first message, over HTTP it is empty)."""
        if self.context is None or self.context.complete:
            self.context = spnego.server(protocol="ntlm")
            self.generation = self.wsman.generation
        try:
            answer = self.context.step(token)
        except spnego.exceptions.SpnegoError:
            self.context = None
            return self._reply(401, b"", {"WWW-Authenticate": "Negotiate"})
        if not self.context.complete:
            header = "Negotiate " + base64.b64encode(answer or b"").decode()
            return self._reply(401, b"", {"WWW-Authenticate": header})
        self._serve(body)

    def _serve(self, body: bytes) -> None:
        if not body:
            return self._reply(200, b"")
        is_tls = isinstance(self.connection, ssl.SSLSocket)
        content_type = self.headers.get("Content-Type", "")
        if PROTOCOL in content_type:
            envelope_bytes = self._decrypt(body)
        elif is_tls:
            envelope_bytes = body
        else:
            return self._reply(400, b"unencrypted traffic is refused")
        if self.wsman.rule_for(_peek_action(envelope_bytes), ("reset",)):
            return self._reset()
        status, text = self.wsman.handle(envelope_bytes)
        payload = text.encode("utf-8")
        if status == 500 and not text.startswith("<s:Envelope"):
            return self._reply(500, payload, {"Content-Type": "text/plain"})
        if is_tls:
            return self._reply(
                status, payload, {"Content-Type": "application/soap+xml;charset=UTF-8"}
            )
        self._reply(
            status,
            self._encrypt(payload),
            {
                "Content-Type": (
                    f'multipart/encrypted;protocol="{PROTOCOL}";'
                    'boundary="Encrypted Boundary"'
                )
            },
        )

    def _decrypt(self, body: bytes) -> bytes:
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        payload = parts[1]
        if payload.endswith(BOUNDARY + b"--\r\n"):
            payload = payload[: -len(BOUNDARY + b"--\r\n")]
        data = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        length = struct.unpack("<i", data[:4])[0]
        return self.context.unwrap(data[4 : 4 + length] + data[4 + length :]).data

    def _encrypt(self, message: bytes) -> bytes:
        wrapped = self.context.wrap(message).data
        signature, sealed = wrapped[:16], wrapped[16:]
        return (
            BOUNDARY + b"\r\n\tContent-Type: " + PROTOCOL.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
            + str(len(message)).encode()
            + b"\r\n"
            + BOUNDARY
            + b"\r\n"
            b"\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", 16)
            + signature
            + sealed
            + BOUNDARY
            + b"--\r\n"
        )

    def _reply(
        self, status: int, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close the TCP connection with a reset, as a crashing host does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )


def _peek_action(envelope_bytes: bytes) -> str:
    match = re.search(rb"<a:Action[^>]*>([^<]+)</a:Action>", envelope_bytes)
    return ACTIONS.get(match.group(1).decode(), "unknown") if match else "unknown"
