"""The client machine of a Windows platform, and how it asks the network.

The checks ask over the network with the argv of harness.netclient (``tcp ADDRESS
PORT``, ``http URL``, ``rpc ADDRESS UUID [PORT]``).  On Wine the client is a Linux
network namespace that runs that module; a Windows client machine cannot run the
controller's Python, so each ask runs where it can run honestly:

* tcp and http run on the client machine itself, in PowerShell (TcpClient,
  Invoke-WebRequest -UseBasicParsing): the connection really crosses the lab
  network from the client machine, as a Windows client would make it.
* rpc runs on the controller through impacket, against the same address.  The
  point of that client is to be independent of Windows' RPC runtime (the thing
  under test), and impacket needs Python, which the client machine does not have;
  the controller is also another machine on the lab network, so what it reaches at
  the address is what a client reaches.

Answers have netclient's shape; ``errno`` is then the WinSock code
(SocketException.ErrorCode: 10061 refused, 10060 timed out) for tcp and http, and
this machine's errno for rpc.  Decisions are made on those codes, never on text.
"""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Mapping, Sequence

from harness.engines.windows_common import HostSide
from harness.errors import GuestError, TransportError
from harness.targets import Host
from harness.transports import CommandResult
from harness.transports.local import run_local

CONNECT_TIMEOUT_MS = 10000

NET_TCP = """# hx:net-tcp
param($Address, $Port, $TimeoutMs)
function Get-Answer($Failure) {
  $e = $Failure.Exception
  while ($e -and -not ($e -is [System.Net.Sockets.SocketException])) {
    $e = $e.InnerException
  }
  if ($e) { return [ordered]@{ ok = $false; errno = $e.ErrorCode; error = $e.Message } }
  [ordered]@{ ok = $false; error = $Failure.Exception.Message }
}
$client = New-Object System.Net.Sockets.TcpClient
try {
  $pending = $client.BeginConnect($Address, [int]$Port, $null, $null)
  if (-not $pending.AsyncWaitHandle.WaitOne([int]$TimeoutMs)) {
    $answer = [ordered]@{ ok = $false; errno = 10060; error = 'connect timed out' }
  } else {
    $client.EndConnect($pending)
    $stream = $client.GetStream()
    $stream.ReadTimeout = [int]$TimeoutMs
    $reader = New-Object System.IO.StreamReader($stream, [Text.Encoding]::UTF8)
    $answer = [ordered]@{ ok = $true; answer = [string]$reader.ReadLine() }
  }
} catch {
  $answer = Get-Answer $_
} finally {
  $client.Close()
}
$answer | ConvertTo-Json -Compress"""

NET_HTTP = """# hx:net-http
param($Url, $TimeoutSec)
# A lab address is never reached through a proxy.
[System.Net.WebRequest]::DefaultWebProxy = New-Object System.Net.WebProxy
try {
  $reply = Invoke-WebRequest -Uri $Url -UseBasicParsing -TimeoutSec ([int]$TimeoutSec) `
    -ErrorAction Stop
  $answer = [ordered]@{ ok = $true; status = [int]$reply.StatusCode
                        body = [string]$reply.Content }
} catch {
  $e = $_.Exception
  if ($e -is [System.Net.WebException] -and $e.Response) {
    $answer = [ordered]@{ ok = $false; status = [int]$e.Response.StatusCode
                          error = $e.Message }
  } else {
    while ($e -and -not ($e -is [System.Net.Sockets.SocketException])) {
      $e = $e.InnerException
    }
    if ($e) {
      $answer = [ordered]@{ ok = $false; errno = $e.ErrorCode; error = $e.Message }
    } else {
      $answer = [ordered]@{ ok = $false; error = $_.Exception.Message }
    }
  }
}
$answer | ConvertTo-Json -Compress"""


class WindowsClient(HostSide):
    """The client machine: the client platform's host when the lab brought one up
    (``host.facts["client_host"]``), else the server host itself."""

    def __init__(self, host: Host, engine: str, no_address: str | None = None) -> None:
        client_host = host.facts.get("client_host")
        super().__init__(client_host or host, engine, "client")
        self.separate = client_host is not None and client_host is not host
        self.no_address = no_address  # why containers may have no lab address

    def native(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        """Run a program of the client machine (a Windows program here)."""
        return self.run(argv, timeout=timeout)

    def netclient(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        """One network ask with harness.netclient's argv, run where it can run."""
        match list(argv):
            case ["tcp", address, port] if port.isdigit():
                self.reachable(address)
                params: dict[str, str | int] = {"Address": address, "Port": int(port)}
                return self._script(NET_TCP, params, timeout)
            case ["http", url]:
                self.reachable(urllib.parse.urlsplit(url).hostname)
                return self._script(NET_HTTP, {"Url": url}, timeout)
            case ["rpc", address, *_]:
                self.reachable(address)
                program = [sys.executable, "-m", "harness.netclient", *argv]
                return run_local("controller", program, timeout=timeout)
        raise GuestError(f"{self.name}: no Windows client for netclient {argv}")

    def reachable(self, address: str | None) -> None:
        """TransportError (a broken cell) when the client cannot reach `address`."""
        if not address or address.lower() == "none":
            raise TransportError(
                f"{self.name}: the container has no address the client machine can "
                f"reach{': ' + self.no_address if self.no_address else ''}"
            )
        if self.separate and (address.startswith("127.") or address == "::1"):
            raise TransportError(
                f"{self.name}: {address} is a loopback address of the server host; "
                "from the client machine it would be the client itself (give the "
                "platform its lab address in matrix.yaml)"
            )

    def _script(
        self, script: str, params: Mapping[str, str | int], timeout: float
    ) -> CommandResult:
        seconds = max(1, int(min(timeout - 5, CONNECT_TIMEOUT_MS / 1000)))
        extra = {"TimeoutMs": seconds * 1000}
        if "Url" in params:
            extra = {"TimeoutSec": seconds}
        result: CommandResult = self.transport.powershell(
            script, {**params, **extra}, timeout=timeout
        )
        return result
