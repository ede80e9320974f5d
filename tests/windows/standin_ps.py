"""The stand-in's powershell.exe: -EncodedCommand and -File, and a sliver of the
language.

Modelled as Windows PowerShell 5.1 has it: a .ps1 without a byte order mark is read
in the ANSI code page; statements ``exit``, ``throw``, ``Write-Error`` (CLIXML on
stderr), ``Write-Output``, ``Start-Sleep``, native commands (their arguments joined
the way 5.1 does it: quotes added around an argument with a space, embedded double
quotes passed on unescaped), ``try/catch``, ``& { } @splat``, ``param()``, and the
rule that without ``exit`` the process exit code is 0 or 1.

The harness's own scripts are recognised by their first line (``# hx:name``) and
emulated in Python (standin_scripts.py): their PowerShell bodies never run here.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

from tests.windows.standin import Exit, Process
from tests.windows.standin_cmd import run_simple


class PSError(Exception):
    """A terminating PowerShell error (throw, -ErrorAction Stop)."""


def powershell_main(proc: Process, argv: list[str]) -> int:
    lowered = [a.lower() for a in argv]
    if "-encodedcommand" in lowered:
        data = base64.b64decode(argv[lowered.index("-encodedcommand") + 1])
        return PowerShell(proc).run_host(data.decode("utf-16-le"))
    if "-file" in lowered:
        raw = proc.view.read(argv[lowered.index("-file") + 1]).read_bytes()
        text = (
            raw[3:].decode("utf-8")
            if raw.startswith(b"\xef\xbb\xbf")
            else raw.decode(f"cp{proc.machine.ansi_codepage}", errors="replace")
        )
        return PowerShell(proc).run_host(text)
    proc.write_err("stand-in: only -EncodedCommand and -File are modelled\r\n")
    return 1


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
            from tests.windows.standin_scripts import HARNESS_SCRIPTS

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
