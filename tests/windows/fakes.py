"""A scripted transport for engine tests whose programs (docker, Start.exe) the
stand-in does not have: it records every command and answers from rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from harness.transports import CommandResult
from harness.transports.winrm_scripts import command_line

Answer = tuple[int, str] | Callable[[list[str]], tuple[int, str]]


class ScriptedTransport:
    """Commands are matched by regular expression against their command line."""

    name = "scripted"

    def __init__(self, rules: Sequence[tuple[str, Answer]] = ()) -> None:
        self.rules = list(rules)
        self.lines: list[str] = []
        self.argvs: list[list[str]] = []
        self.files: dict[str, bytes] = {}
        self.scripts: list[tuple[str, dict]] = []

    def answer(self, pattern: str, answer: Answer) -> None:
        self.rules.insert(0, (pattern, answer))

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> CommandResult:
        self.argvs.append(list(argv))
        return self.run_line(command_line(argv), timeout=timeout, argv=tuple(argv))

    def run_line(
        self, line: str, *, timeout: float, argv: tuple = (), **_: object
    ) -> CommandResult:
        self.lines.append(line)
        for pattern, answer in self.rules:
            if re.search(pattern, line):
                code, out = answer(list(argv)) if callable(answer) else answer
                return CommandResult(self.name, argv or (line,), code, out, "", 0.0)
        return CommandResult(self.name, argv or (line,), 0, "", "", 0.0)

    def powershell(
        self,
        script: str,
        params: dict | None = None,
        *,
        timeout: float = 60.0,
        stdin: object = None,
    ) -> CommandResult:
        self.scripts.append((script, dict(params or {})))
        return self.run_line(script, timeout=timeout)

    def upload(self, local: Path, remote: str) -> None:
        self.files[remote] = local.read_bytes()

    def upload_bytes(self, data: bytes, remote: str) -> None:
        self.files[remote] = data

    def download(self, remote: str, local: Path) -> None:
        local.write_bytes(self.files[remote])

    def wait_ready(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        return None
