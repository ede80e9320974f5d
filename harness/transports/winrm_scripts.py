"""Windows command lines and PowerShell scripts, built safely.

Three quoting rules, each for one reader:

* `argv_quote`: how a C program's runtime (CommandLineToArgvW) splits its command
  line back into argv: quotes around arguments with spaces, backslashes doubled
  before a quote.
* `cmd_quote`: the same, then every character that cmd.exe treats as an operator or
  a variable (``& | < > ( ) ^ " %``) escaped with a caret, so cmd.exe (which WinRM
  runs every command through) hands the program exactly that argv and runs nothing
  else.
* `ps_quote`: a PowerShell single-quoted literal, in which nothing is expanded;
  quotes are doubled, including the typographic single quotes PowerShell also
  accepts as delimiters.

    >>> cmd_quote('a&b "c"')
    '^"a^&b \\\\^"c\\\\^"^"'
    >>> ps_quote("it's $(calc)")
    "'it''s $(calc)'"

Every script the harness sends runs inside `wrap`, which fixes the output encoding
to UTF-8 and turns PowerShell's exit status into a reliable exit code.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence

CMD_LINE_LIMIT = 8191  # cmd.exe refuses longer command lines
POWERSHELL = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass"
_CMD_SPECIAL = re.compile(r'([&|<>()^"%!])')
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def argv_quote(arg: str) -> str:
    """One argument quoted for CommandLineToArgvW (the MSVC runtime's rules)."""
    if arg and not any(c in arg for c in ' \t\n\v"'):
        return arg
    out, backslashes = ['"'], 0
    for char in arg:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def cmd_quote(arg: str) -> str:
    """One argument for a command line that cmd.exe parses before the program."""
    return cmd_escape(argv_quote(arg))


def cmd_escape(text: str) -> str:
    """Text that cmd.exe hands on unchanged: every operator, quote and variable
    sign escaped with a caret (for a tail a program reads as written)."""
    return _CMD_SPECIAL.sub(r"^\1", text)


def command_line(argv: Sequence[str]) -> str:
    """A cmd.exe command line that runs exactly `argv`."""
    return " ".join(cmd_quote(arg) for arg in argv)


def ps_quote(value: str) -> str:
    """A PowerShell literal for `value`: nothing inside is expanded or run."""
    return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in value) + "'"


def ps_params(params: Mapping[str, str | int]) -> str:
    """A hashtable literal of script parameters, for splatting."""
    items = []
    for name, value in params.items():
        if not _PARAM_NAME.match(name):
            raise ValueError(f"not a PowerShell parameter name: {name!r}")
        literal = str(value) if isinstance(value, int) else ps_quote(str(value))
        items.append(f"{ps_quote(name)} = {literal}")
    return "@{ " + "; ".join(items) + " }"


def wrap(script: str, params: Mapping[str, str | int] | None = None) -> str:
    """The script as it runs on the host, with its parameters bound.

    Why each line is there: PowerShell's own exit status is 0 or 1 whatever the last
    native program returned, so the wrapper exits with ``$LASTEXITCODE``; an
    uncaught ``throw`` becomes exit 1 with the message on stderr; ``exit N`` inside
    the script is kept as is; ``Write-Error`` alone stays non-terminating (exit 0,
    text on stderr).  The output encoding is UTF-8 so that non-ASCII text is never
    replaced by ``?`` on the way out.  A known limit: when a native program failed
    early and the script went on successfully with cmdlets only, the exit code is
    still that program's.
    """
    return "\n".join(
        (
            "$ErrorActionPreference = 'Continue'",
            "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false",
            "$OutputEncoding = [Console]::OutputEncoding",
            f"$hxParams = {ps_params(params or {})}",
            "$LASTEXITCODE = 0",
            "try {",
            "& {",
            script,
            "} @hxParams",
            "} catch {",
            "[Console]::Error.WriteLine($_.Exception.Message)",
            "exit 1",
            "}",
            "exit $LASTEXITCODE",
        )
    )


def encoded_command(script: str) -> str:
    """`powershell.exe ... -EncodedCommand` for a script (UTF-16LE, base64)."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"{POWERSHELL} -EncodedCommand {encoded}"


def file_command(path: str) -> str:
    """`powershell.exe ... -File` for a script uploaded to `path`."""
    return f"{POWERSHELL} -File {cmd_quote(path)}"


def script_file_bytes(script: str) -> bytes:
    """A .ps1 file's content: UTF-8 with a byte order mark.

    Windows PowerShell 5.1 reads a .ps1 without BOM in the ANSI code page, which
    garbles every non-ASCII character; the BOM makes it read UTF-8.
    """
    return b"\xef\xbb\xbf" + script.encode("utf-8")


# --- the harness's own scripts ------------------------------------------------------
# The first line names each script; the loopback test server emulates them by name.

FACTS = """# hx:facts
$os = Get-CimInstance Win32_OperatingSystem
$nls = Get-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Nls\\CodePage'
[ordered]@{
  computer_name = $env:COMPUTERNAME
  build = [int]$os.BuildNumber
  caption = $os.Caption
  oem_codepage = [int]$nls.OEMCP
  ansi_codepage = [int]$nls.ACP
  boot_time = $os.LastBootUpTime.ToUniversalTime().ToString('o')
} | ConvertTo-Json -Compress"""

BOOT_TIME = """# hx:boot-time
$os = Get-CimInstance Win32_OperatingSystem
$os.LastBootUpTime.ToUniversalTime().ToString('o')"""

# Event 100 of the Windows Licensing Monitoring Service: the evaluation period has
# expired and the machine will shut down every hour.  Matched by provider and id,
# never by the (localized) message.  EvaluationEndDate of the Windows product
# (application 55c92734-...) says when an evaluation expires; 1601 means never.
LICENCE = """# hx:licence
param($Since)
$events = Get-WinEvent -FilterHashtable @{
  LogName = 'System'; ProviderName = 'WLMS'; Id = 100; StartTime = [datetime]$Since
} -MaxEvents 1 -ErrorAction SilentlyContinue
$windows = "ApplicationID = '55c92734-d682-4d71-983e-d6ec3f16059f' " +
  "AND PartialProductKey IS NOT NULL"
$product = Get-CimInstance SoftwareLicensingProduct -Filter $windows `
  -ErrorAction SilentlyContinue | Select-Object -First 1
$end = $null
if ($product -and $product.EvaluationEndDate -and
    $product.EvaluationEndDate.Year -gt 1601) {
  $end = $product.EvaluationEndDate.ToUniversalTime().ToString('o')
}
[ordered]@{
  expired = [bool]$events
  event_id = if ($events) { $events[0].Id } else { $null }
  time = if ($events) {
    $events[0].TimeCreated.ToUniversalTime().ToString('o')
  } else { $null }
  evaluation_end = $end
} | ConvertTo-Json -Compress"""

# Reads base64 lines from stdin into Path.hxpart, then keeps the file only when its
# SHA-256 is the one the controller announced; otherwise deletes it and exits 3.
UPLOAD = """# hx:upload
param($Path, $Sha256)
$part = $Path + '.hxpart'
New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Path) | Out-Null
$out = [IO.File]::Open($part, 'Create', 'Write')
try {
  while ($null -ne ($line = [Console]::In.ReadLine())) {
    if ($line.Length -eq 0) { continue }
    $bytes = [Convert]::FromBase64String($line)
    $out.Write($bytes, 0, $bytes.Length)
  }
} finally { $out.Dispose() }
$hash = (Get-FileHash -Algorithm SHA256 -LiteralPath $part).Hash.ToLower()
if ($hash -ne $Sha256) {
  Remove-Item -LiteralPath $part -Force
  Write-Output $hash
  exit 3
}
Move-Item -LiteralPath $part -Destination $Path -Force
Write-Output $hash"""

STAT = """# hx:stat
param($Path)
$item = Get-Item -LiteralPath $Path -ErrorAction Stop
$hash = (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLower()
[ordered]@{ size = $item.Length; sha256 = $hash } | ConvertTo-Json -Compress"""

READ_CHUNK = """# hx:read-chunk
param($Path, $Offset, $Length)
$in = [IO.File]::OpenRead($Path)
try {
  [void]$in.Seek([long]$Offset, 'Begin')
  $buffer = New-Object byte[] ([int]$Length)
  $count = $in.Read($buffer, 0, $buffer.Length)
  [Convert]::ToBase64String($buffer, 0, $count)
} finally { $in.Dispose() }"""

REMOVE = """# hx:remove
param($Path)
Remove-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue"""
