"""A tiny Windows stand-in: cmd.exe and a sliver of PowerShell, run on this machine.

Nothing here can run Windows, so the loopback WS-Management server runs commands
with this stand-in instead.  It models the behaviour the transport depends on, as
Windows has it:

* cmd.exe: the 8191-character limit, caret escapes, quotes, the ``&``/``&&``/``|``
  operators (so an injection would really run a second command), ``exit N``,
  ``cmd /c``, ``echo``, ``type`` (raw bytes, as on Windows), ``timeout /t``,
  ``sc query`` (localized text, numeric exit code), ``shutdown /r``, 9009 for an
  unknown program, and output in the shell's code page (``?`` for characters it
  cannot encode).
* powershell.exe: ``-EncodedCommand`` and ``-File`` (a .ps1 without a byte order
  mark is read in the ANSI code page, as Windows PowerShell 5.1 does), statements
  ``exit``, ``throw``, ``Write-Error`` (CLIXML on stderr), ``Write-Output``,
  ``Start-Sleep``, native commands, ``try/catch``, ``& { } @splat``, ``param()``,
  and PowerShell's rule that without ``exit`` the process exit code is 0 or 1.
* The harness's own scripts are recognised by their first line (``# hx:name``) and
  emulated in Python, since their PowerShell cannot run here.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CMD_LIMIT = 8191
SC_TEXT = {
    "en": "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
    "The specified service does not exist as an installed service.\r\n",
    "fr": "[SC] EnumQueryServicesStatus:OpenService échec(s) 1060 :\r\n\r\n"
    "Le service spécifié n’existe pas en tant que service installé.\r\n",
    "de": "[SC] EnumQueryServicesStatus:OpenService FEHLER 1060:\r\n\r\n"
    "Der angegebene Dienst ist kein installierter Dienst.\r\n",
}


class Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class PSError(Exception):
    """A terminating PowerShell error (throw, -ErrorAction Stop)."""


class Cancelled(Exception):
    """The process was terminated (Signal terminate, shell deleted)."""


@dataclasses.dataclass
class Machine:
    """The stand-in host: a folder for C:, code pages, boot time, what ran."""

    root: Path
    oem_codepage: int = 437
    ansi_codepage: int = 1252
    build: int = 20348
    computer_name: str = "HXSTANDIN"
    language: str = "en"
    boot_time: str = "2026-12-01T08:00:00.0000000Z"
    licence_expired_at: str | None = None
    services: set[str] = dataclasses.field(default_factory=set)
    executed: list[list[str]] = dataclasses.field(default_factory=list)
    command_lines: list[str] = dataclasses.field(default_factory=list)
    open_files: set[Path] = dataclasses.field(default_factory=set)
    corrupt_uploads: bool = False  # flip a byte of every upload (a damaged transfer)
    on_shutdown: Callable[[], None] | None = None

    def path(self, windows: str) -> Path:
        """Where a Windows path lives on this machine (C:\\x -> root/C/x)."""
        text = windows.replace("/", "\\")
        drive, _, rest = text.partition(":\\")
        parts = [p for p in rest.split("\\") if p]
        return self.root.joinpath(drive.upper() or "C", *parts)


class Process:
    """One command running in a thread, with stdin, stdout, stderr and exit code."""

    def __init__(
        self, machine: Machine, line: str, codepage: int, env: dict[str, str]
    ) -> None:
        self.machine, self.line, self.codepage, self.env = machine, line, codepage, env
        self.stdin: queue.Queue[bytes | None] = queue.Queue()
        self.out, self.err = bytearray(), bytearray()
        self.exit_code: int | None = None
        self.cancel = threading.Event()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            code = run_cmd(self, self.line)
        except Cancelled:
            code = 0xC000013A  # STATUS_CONTROL_C_EXIT, as for a terminated process
        except Exception as error:  # noqa: BLE001 - a stand-in bug shows as output
            self.write_err(f"stand-in error: {type(error).__name__}: {error}\r\n")
            code = 99
        with self.changed:
            self.exit_code = code
            self.changed.notify_all()

    def write(self, data: bytes) -> None:
        with self.changed:
            self.out += data
            self.changed.notify_all()

    def write_err(self, text: str | bytes) -> None:
        data = text if isinstance(text, bytes) else self.encode(text)
        with self.changed:
            self.err += data
            self.changed.notify_all()

    def encode(self, text: str, codepage: int | None = None) -> bytes:
        codepage = codepage or self.codepage
        codec = "utf-8" if codepage == 65001 else f"cp{codepage}"
        return text.encode(codec, errors="replace")

    def take(self, wait: float) -> tuple[bytes, bytes, int | None]:
        """Output so far, waiting up to `wait` seconds for some or for the end."""
        with self.changed:
            self.changed.wait_for(
                lambda: self.out or self.err or self.exit_code is not None, wait
            )
            out, err = bytes(self.out), bytes(self.err)
            self.out.clear()
            self.err.clear()
            return out, err, self.exit_code

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled()

    def terminate(self) -> None:
        self.cancel.set()
        self.stdin.put(None)


# --- cmd.exe ----------------------------------------------------------------------


def split_cmd(line: str) -> list[tuple[str, str]]:
    """(operator, command) pairs as cmd.exe splits a line; carets removed."""
    parts, current, quoted, i = [], [], False, 0
    op = ""
    while i < len(line):
        char = line[i]
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char == "^" and not quoted and i + 1 < len(line):
            i += 1
            current.append("\0" + line[i])  # escaped: literal, never an operator
        elif char in "&|" and not quoted:
            parts.append((op, "".join(current)))
            double = i + 1 < len(line) and line[i + 1] == char
            op, current = char * (2 if double else 1), []
            i += 1 if double else 0
        else:
            current.append(char)
        i += 1
    parts.append((op, "".join(current)))
    # cmd.exe blanks are space and tab only; Python also strips \x1c-\x1f.
    return [(o, c.replace("\0", "")) for o, c in parts if c.strip(" \t")]


def argv_split(line: str) -> list[str]:
    """CommandLineToArgvW: how a program's runtime splits its command line."""
    args, current, quoted, i, have = [], [], False, 0, False
    while i < len(line):
        char = line[i]
        if char == "\\":
            count = len(line[i:]) - len(line[i:].lstrip("\\"))
            if i + count < len(line) and line[i + count] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    i += count + 1
                else:
                    i += count
                have = True
                continue
            current.append("\\" * count)
            i += count
            have = True
            continue
        if char == '"':
            if quoted and i + 1 < len(line) and line[i + 1] == '"':
                current.append('"')
                i += 2
                continue
            quoted, have = not quoted, True
        elif char in " \t" and not quoted:
            if have:
                args.append("".join(current))
            current, have = [], False
        else:
            current.append(char)
            have = True
        i += 1
    if have:
        args.append("".join(current))
    return args


def run_cmd(proc: Process, line: str) -> int:
    proc.machine.command_lines.append(line)
    if len(line) > CMD_LIMIT:
        proc.write_err("The command line is too long.\r\n")
        return 1
    line = re.sub(r"%(\w+)%", lambda m: proc.env.get(m.group(1), m.group()), line)
    code = 0
    for op, command in split_cmd(line):
        if (op == "&&" and code != 0) or (op == "||" and code == 0):
            continue
        code = run_simple(proc, command)
    return code


def run_simple(proc: Process, command: str) -> int:
    argv = argv_split(command)
    if not argv:
        return 0
    proc.machine.executed.append(argv)
    name = re.sub(r"\.exe$", "", argv[0].replace("/", "\\").split("\\")[-1].lower())
    rest = command.strip()[len(command.strip().split(None, 1)[0]) :].lstrip()
    builtin = CMD_PROGRAMS.get(name)
    if builtin is None:
        proc.write_err(
            f"'{argv[0]}' is not recognized as an internal or external "
            "command,\r\noperable program or batch file.\r\n"
        )
        return 9009
    return builtin(proc, argv, rest)


def _exit(proc: Process, argv: list[str], rest: str) -> int:
    words = [a for a in argv[1:] if a.lower() != "/b"]
    return int(words[0]) if words else 0


def _cmd(proc: Process, argv: list[str], rest: str) -> int:
    match = re.match(r"(?:/[dDqQsS]\s+)*/[cCkK]\s?(.*)$", rest, re.S)
    if not match:
        return 0
    inner = match.group(1).strip()
    if inner.startswith('"') and inner.endswith('"') and "/s" in rest.lower():
        inner = inner[1:-1]
    return run_cmd(proc, inner)


def _echo(proc: Process, argv: list[str], rest: str) -> int:
    proc.write(proc.encode(rest + "\r\n"))
    return 0


def _type(proc: Process, argv: list[str], rest: str) -> int:
    path = proc.machine.path(argv[1])
    if not path.is_file():
        proc.write_err("The system cannot find the file specified.\r\n")
        return 1
    proc.write(path.read_bytes())
    return 0


def _timeout(proc: Process, argv: list[str], rest: str) -> int:
    seconds = float(argv[argv.index("/t") + 1]) if "/t" in argv else 1.0
    proc.sleep(seconds)
    return 0


def _sc(proc: Process, argv: list[str], rest: str) -> int:
    name = argv[2] if len(argv) > 2 else ""
    if name.lower() in {s.lower() for s in proc.machine.services}:
        proc.write(
            proc.encode(f"SERVICE_NAME: {name}\r\n        STATE : 4 RUNNING\r\n")
        )
        return 0
    proc.write(proc.encode(SC_TEXT[proc.machine.language]))
    return 1060


def _shutdown(proc: Process, argv: list[str], rest: str) -> int:
    if proc.machine.on_shutdown:
        threading.Timer(0.2, proc.machine.on_shutdown).start()
    return 0


def _dir(proc: Process, argv: list[str], rest: str) -> int:
    folder = proc.machine.path([a for a in argv[1:] if not a.startswith("/")][0])
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    proc.write(proc.encode("".join(n + "\r\n" for n in names)))
    return 0 if names else 1


def _echoargs(proc: Process, argv: list[str], rest: str) -> int:
    proc.write(proc.encode(json.dumps(argv[1:], ensure_ascii=False) + "\r\n"))
    return 0


def _powershell(proc: Process, argv: list[str], rest: str) -> int:
    lowered = [a.lower() for a in argv]
    if "-encodedcommand" in lowered:
        data = base64.b64decode(argv[lowered.index("-encodedcommand") + 1])
        return PowerShell(proc).run_host(data.decode("utf-16-le"))
    if "-file" in lowered:
        raw = proc.machine.path(argv[lowered.index("-file") + 1]).read_bytes()
        text = (
            raw[3:].decode("utf-8")
            if raw.startswith(b"\xef\xbb\xbf")
            else raw.decode(f"cp{proc.machine.ansi_codepage}", errors="replace")
        )
        return PowerShell(proc).run_host(text)
    proc.write_err("stand-in: only -EncodedCommand and -File are modelled\r\n")
    return 1


CMD_PROGRAMS: dict[str, Callable[[Process, list[str], str], int]] = {
    "exit": _exit,
    "cmd": _cmd,
    "echo": _echo,
    "type": _type,
    "timeout": _timeout,
    "sc": _sc,
    "shutdown": _shutdown,
    "dir": _dir,
    "echoargs": _echoargs,
    "powershell": _powershell,
}


# --- PowerShell (a sliver) ----------------------------------------------------------

TOKEN = re.compile(
    r"""
    (?P<ws>[ \t]+|`\r?\n)
  | (?P<bcomment><\#.*?\#>)
  | (?P<comment>\#[^\n]*)
  | (?P<sep>\r?\n|;)
  | (?P<sq>['\u2018\u2019\u201a\u201b](?:[^'\u2018\u2019\u201a\u201b]
        |['\u2018\u2019\u201a\u201b]{2})*['\u2018\u2019\u201a\u201b])
  | (?P<dq>"(?:[^"`]|`.|"")*")
  | (?P<num>\d+(?![\w.]))
  | (?P<var>\$(?:[A-Za-z_][\w:]*|_|\?))
  | (?P<splat>@[A-Za-z_]\w*)
  | (?P<hash>@\{)
  | (?P<punct>::|[{}()\[\]=,&.|])
  | (?P<word>[^\s;(){}\[\]=,'"|&\u2018\u2019\u201a\u201b]+)
""",
    re.S | re.X,
)


@dataclasses.dataclass
class Tok:
    kind: str
    text: str


def tokenize(source: str) -> list[Tok]:
    tokens, pos = [], 0
    while pos < len(source):
        match = TOKEN.match(source, pos)
        if not match:
            raise PSError(f"stand-in cannot parse at: {source[pos : pos + 30]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind not in ("ws", "bcomment"):
            tokens.append(Tok(kind, match.group()))
    return tokens


def single_quoted(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"(['\u2018\u2019\u201a\u201b])\1", r"\1", body)


class ErrorRecord:
    def __init__(self, message: str) -> None:
        self.message = message


class PowerShell:
    """Runs the sliver of PowerShell the harness and its tests use."""

    def __init__(self, proc: Process) -> None:
        self.proc = proc
        self.vars: dict[str, Any] = {"LASTEXITCODE": 0, "?": True}
        self.utf8 = False
        self.errors: list[str] = []

    # process level: -EncodedCommand and -File
    def run_host(self, source: str) -> int:
        try:
            self.block(tokenize(source), {})
            code = 0 if self.vars["?"] else 1
        except Exit as done:
            code = done.code
        except PSError as error:
            self.errors.append(str(error))
            code = 1
        self._flush_errors()
        return code

    def _flush_errors(self) -> None:
        if not self.errors:
            return
        items = "".join(
            f'<S S="Error">{_clixml_escape(e)}_x000D__x000A_</S>' for e in self.errors
        )
        self.proc.write_err(
            '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/'
            f'powershell/2004/04">{items}</Objs>'
        )

    def output(self, value: Any) -> None:
        codepage = 65001 if self.utf8 else self.proc.codepage
        self.proc.write(self.proc.encode(f"{value}\r\n", codepage))

    # blocks and statements
    def block(self, tokens: list[Tok], params: dict[str, Any]) -> None:
        first = next((t for t in tokens if t.kind != "sep"), None)
        if first and first.kind == "comment" and first.text.startswith("# hx:"):
            name = first.text[5:].strip()
            HARNESS_SCRIPTS[name](self, {k.lower(): v for k, v in params.items()})
            return
        self.vars.update(params)
        pos = 0
        while pos < len(tokens):
            pos = self.statement(tokens, pos)

    def statement(self, toks: list[Tok], pos: int) -> int:
        tok = toks[pos]
        if tok.kind in ("sep", "comment"):
            return pos + 1
        word = tok.text.lower()
        if word == "try":
            return self._try(toks, pos + 1)
        if tok.text == "&":
            return self._call(toks, pos + 1)
        if word == "param":
            return _matching(toks, pos + 1)
        end = _statement_end(toks, pos)
        self._simple(toks[pos:end])
        return end

    def _try(self, toks: list[Tok], pos: int) -> int:
        body_end = _matching(toks, pos)
        handler_start = _skip_seps(toks, body_end)
        if toks[handler_start].text.lower() != "catch":
            raise PSError("stand-in: try without catch")
        handler_end = _matching(toks, handler_start + 1)
        try:
            self.block(toks[pos + 1 : body_end - 1], {})
        except PSError as error:
            self.vars["_"] = ErrorRecord(str(error))
            self.block(toks[handler_start + 2 : handler_end - 1], {})
        return handler_end

    def _call(self, toks: list[Tok], pos: int) -> int:
        end = (
            _statement_end(toks, pos) if toks[pos].text != "{" else _matching(toks, pos)
        )
        body = toks[pos + 1 : end - 1] if toks[pos].text == "{" else None
        params: dict[str, Any] = {}
        after = end
        while after < len(toks) and toks[after].kind == "splat":
            params.update(self.vars.get(toks[after].text[1:], {}))
            after += 1
        if body is None:
            raise PSError("stand-in: only script blocks are called with &")
        self.block(body, params)
        return after

    def _simple(self, toks: list[Tok]) -> None:
        head = toks[0]
        word = head.text.lower()
        if head.kind == "var" and len(toks) > 1 and toks[1].text == "=":
            self.vars[head.text[1:]] = self.expr(toks[2:])
        elif head.text == "[":
            self._static(toks)
        elif word == "exit":
            raise Exit(int(self.expr(toks[1:]) or 0) if len(toks) > 1 else 0)
        elif word == "throw":
            raise PSError(str(self.expr(toks[1:])) if len(toks) > 1 else "ScriptHalted")
        elif word == "write-error":
            self.errors.append(str(self.expr(toks[1:])))
            self.vars["?"] = False
        elif word == "write-output":
            for value in self._args(toks[1:]):
                self.output(value)
            self.vars["?"] = True
        elif word == "start-sleep":
            args = self._args(toks[1:])
            seconds = float(args[-1]) / (
                1000 if "-milliseconds" in [str(a).lower() for a in args] else 1
            )
            self.proc.sleep(seconds)
        elif head.kind in ("sq", "dq", "num", "var"):
            self.output(self.expr(toks))
            self.vars["?"] = True
        else:
            self._native([str(a) for a in self._args(toks, words=True)])

    def _static(self, toks: list[Tok]) -> None:
        text = "".join(t.text for t in toks)
        if text.startswith("[Console]::OutputEncoding=") and "UTF8" in text:
            self.utf8 = True
        match = re.match(r"\[Console\]::Error\.WriteLine\((.*)\)$", text)
        if match:
            value = self.expr(tokenize(match.group(1)))
            self.proc.write_err(f"{value}\r\n")

    def _native(self, argv: list[str]) -> None:
        line = " ".join(f'"{a}"' if " " in a else a for a in argv)
        code = run_simple(self.proc, line)
        self.vars["LASTEXITCODE"] = code
        self.vars["?"] = code == 0

    def _args(self, toks: list[Tok], words: bool = False) -> list[Any]:
        values = []
        for tok in toks:
            if tok.kind == "word":
                values.append(tok.text)
            elif tok.kind in ("sq", "dq", "num", "var"):
                values.append(self.expr([tok]))
        return values

    def expr(self, toks: list[Tok]) -> Any:
        while toks and toks[0].kind == "sep":
            toks = toks[1:]
        if not toks:
            return None
        tok = toks[0]
        if tok.kind == "sq":
            return single_quoted(tok.text)
        if tok.kind == "dq":
            return self._double_quoted(tok.text)
        if tok.kind == "num":
            return int(tok.text)
        if tok.kind == "hash":
            return self._hashtable(toks[1:-1])
        if tok.kind == "var":
            return self._variable(tok.text[1:], toks[1:])
        return None  # New-Object ..., [type]::Member: not modelled

    def _variable(self, name: str, members: list[Tok]) -> Any:
        value = self.vars.get(name)
        chain = "".join(t.text for t in members)
        if isinstance(value, ErrorRecord) and chain == ".Exception.Message":
            return value.message
        if isinstance(value, ErrorRecord):
            return value.message
        return value

    def _double_quoted(self, text: str) -> str:
        body = text[1:-1]
        if "$(" in body:
            # A subexpression would run code: record it, as the injection tests look.
            self.proc.machine.executed.append(["$()", body])
        return re.sub(r"\$(\w+)", lambda m: str(self.vars.get(m.group(1), "")), body)

    def _hashtable(self, toks: list[Tok]) -> dict[str, Any]:
        table: dict[str, Any] = {}
        entries: list[list[Tok]] = [[]]
        for tok in toks:
            if tok.kind == "sep":
                entries.append([])
            else:
                entries[-1].append(tok)
        for entry in entries:
            if len(entry) >= 3 and entry[1].text == "=":
                key = (
                    self.expr([entry[0]]) if entry[0].kind != "word" else entry[0].text
                )
                table[str(key)] = self.expr(entry[2:])
        return table


def _matching(toks: list[Tok], pos: int) -> int:
    """Index after the bracket that closes the one at `pos`."""
    closing = ")" if toks[pos].text == "(" else "}"
    openers = ("(",) if closing == ")" else ("{", "@{")
    depth = 0
    for index in range(pos, len(toks)):
        if toks[index].text in openers:
            depth += 1
        elif toks[index].text == closing:
            depth -= 1
            if depth == 0:
                return index + 1
    raise PSError("stand-in: unbalanced brackets")


def _statement_end(toks: list[Tok], pos: int) -> int:
    depth = 0
    for index in range(pos, len(toks)):
        text = toks[index].text
        if text in ("{", "(", "@{"):
            depth += 1
        elif text in ("}", ")"):
            depth -= 1
        elif toks[index].kind == "sep" and depth == 0:
            return index
    return len(toks)


def _skip_seps(toks: list[Tok], pos: int) -> int:
    while pos < len(toks) and toks[pos].kind in ("sep", "comment"):
        pos += 1
    return pos


def _clixml_escape(text: str) -> str:
    text = text.replace("_x", "_x005F_x").replace("&", "&amp;").replace("<", "&lt;")
    return text.replace(">", "&gt;").replace("\r", "_x000D_").replace("\n", "_x000A_")


# --- the harness's scripts, emulated ------------------------------------------------


def _facts(ps: PowerShell, params: dict[str, Any]) -> None:
    m = ps.proc.machine
    ps.output(
        json.dumps(
            {
                "computer_name": m.computer_name,
                "build": m.build,
                "caption": "Stand-in",
                "oem_codepage": m.oem_codepage,
                "ansi_codepage": m.ansi_codepage,
                "boot_time": m.boot_time,
            }
        )
    )


def _boot_time(ps: PowerShell, params: dict[str, Any]) -> None:
    ps.output(ps.proc.machine.boot_time)


def _licence(ps: PowerShell, params: dict[str, Any]) -> None:
    expired = ps.proc.machine.licence_expired_at
    since = params.get("since") or ""
    hit = expired is not None and expired >= since
    ps.output(
        json.dumps(
            {
                "expired": hit,
                "event_id": 100 if hit else None,
                "time": expired if hit else None,
            }
        )
    )


def _upload(ps: PowerShell, params: dict[str, Any]) -> None:
    machine, proc = ps.proc.machine, ps.proc
    final = machine.path(params["path"])
    part = final.with_name(final.name + ".hxpart")
    part.parent.mkdir(parents=True, exist_ok=True)
    machine.open_files.add(part)
    try:
        with part.open("wb") as sink:
            for line in _stdin_lines(proc):
                data = base64.b64decode(line)
                if machine.corrupt_uploads and data:
                    data = bytes([data[0] ^ 1]) + data[1:]
                sink.write(data)
    finally:
        machine.open_files.discard(part)
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    if digest != params["sha256"]:
        part.unlink()
        ps.output(digest)
        raise Exit(3)
    part.replace(final)
    ps.output(digest)


def _stdin_lines(proc: Process):
    pending = b""
    while True:
        chunk = proc.stdin.get()
        if proc.cancel.is_set():
            raise Cancelled()
        if chunk is None:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line.strip() for line in lines if line.strip())
    if pending.strip():
        yield pending.strip()


def _stat(ps: PowerShell, params: dict[str, Any]) -> None:
    path = ps.proc.machine.path(params["path"])
    if not path.is_file():
        raise PSError(f"Cannot find path '{params['path']}' because it does not exist.")
    data = path.read_bytes()
    ps.output(
        json.dumps({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    )


def _read_chunk(ps: PowerShell, params: dict[str, Any]) -> None:
    data = ps.proc.machine.path(params["path"]).read_bytes()
    offset, length = int(params["offset"]), int(params["length"])
    ps.output(base64.b64encode(data[offset : offset + length]).decode())


def _remove(ps: PowerShell, params: dict[str, Any]) -> None:
    path = ps.proc.machine.path(params["path"])
    if path in ps.proc.machine.open_files:
        return  # held open by a running process: Windows refuses to delete it
    path.unlink(missing_ok=True)


HARNESS_SCRIPTS: dict[str, Callable[[PowerShell, dict[str, Any]], None]] = {
    "facts": _facts,
    "boot-time": _boot_time,
    "licence": _licence,
    "upload": _upload,
    "stat": _stat,
    "read-chunk": _read_chunk,
    "remove": _remove,
}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
