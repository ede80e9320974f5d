"""The stand-in's cmd.exe: how it splits a line, finds a program and runs it, and
its internal commands and system programs (see standin.py for what is modelled)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading

from tests.windows.standin import (
    SCM_FILE,
    SYSTEM32,
    Process,
    Program,
    read_json,
)

CMD_LIMIT = 8191
NOT_FOUND_TEXT = (
    "'{0}' is not recognized as an internal or external command,\r\n"
    "operable program or batch file.\r\n"
)
SC_TEXT = {
    "en": "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
    "The specified service does not exist as an installed service.\r\n",
    "fr": "[SC] EnumQueryServicesStatus:OpenService échec(s) 1060 :\r\n\r\n"
    "Le service spécifié n’existe pas en tant que service installé.\r\n",
    "de": "[SC] EnumQueryServicesStatus:OpenService FEHLER 1060:\r\n\r\n"
    "Der angegebene Dienst ist kein installierter Dienst.\r\n",
}

# --- cmd.exe ----------------------------------------------------------------------


@dataclasses.dataclass
class Simple:
    """One simple command of a line: its operator, text and redirections."""

    op: str
    chars: list[tuple[str, bool]]  # (character, literal: quoted or escaped)

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)


def _scan(line: str) -> list[Simple]:
    """A line split at unquoted, unescaped & | && || (cmd.exe's first pass)."""
    parts, current, quoted, i, op = [], [], False, 0, ""
    while i < len(line):
        char = line[i]
        if char == '"':
            quoted = not quoted
            current.append((char, False))
        elif char == "^" and not quoted and i + 1 < len(line):
            i += 1
            current.append((line[i], True))  # escaped: literal, never an operator
        elif char in "&|" and not quoted:
            parts.append(Simple(op, current))
            double = i + 1 < len(line) and line[i + 1] == char
            op, current = char * (2 if double else 1), []
            i += 1 if double else 0
        else:
            current.append((char, quoted))
        i += 1
    parts.append(Simple(op, current))
    # cmd.exe blanks are space and tab only; Python also strips \x1c-\x1f.
    return [p for p in parts if p.text.strip(" \t")]


def split_cmd(line: str) -> list[tuple[str, str]]:
    """(operator, command) pairs as cmd.exe splits a line; carets removed."""
    return [(part.op, part.text) for part in _scan(line)]


def take_redirections(simple: Simple) -> tuple[str, dict[int, tuple[str, bool]]]:
    """The command without its redirections, and {stream: (path, append)}."""
    chars, out, redirects, i = simple.chars, [], {}, 0
    while i < len(chars):
        char, literal = chars[i]
        if char != ">" or literal:
            out.append(char)
            i += 1
            continue
        stream = 1
        if out and out[-1] in "12" and (len(out) == 1 or out[-2] in " \t"):
            stream = int(out.pop())
        append = i + 1 < len(chars) and chars[i + 1] == (">", False)
        i += 2 if append else 1
        while i < len(chars) and chars[i][0] in " \t":
            i += 1
        start = i
        while i < len(chars) and not (chars[i][0] in " \t" and not chars[i][1]):
            i += 1
        target = "".join(c for c, _ in chars[start:i]).replace('"', "")
        redirects[stream] = (target, append)
    return "".join(out), redirects


def argv_split(line: str) -> list[str]:
    """CommandLineToArgvW: how a program's runtime splits its command line."""
    return _argv_tokens(line)[0]


def split_head(line: str, count: int) -> tuple[list[str], str]:
    """The first `count` arguments of a command line, and the rest as it was
    written (how a program such as Start.exe passes a command line on)."""
    tokens, ends = _argv_tokens(line, limit=count)
    rest = line[ends[-1] :].lstrip(" \t") if ends else line.lstrip(" \t")
    return tokens, rest


def _argv_tokens(line: str, limit: int = 0) -> tuple[list[str], list[int]]:
    args, ends, current, quoted, i, have = [], [], [], False, 0, False
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
                ends.append(i)
                if limit and len(args) == limit:
                    return args, ends
            current, have = [], False
        else:
            current.append(char)
            have = True
        i += 1
    if have:
        args.append("".join(current))
        ends.append(i)
    return args, ends


def run_cmd(proc: Process, line: str) -> int:
    proc.machine.command_lines.append(line)
    if len(line) > CMD_LIMIT:
        proc.write_err("The command line is too long.\r\n")
        return 1
    line = re.sub(r"%(\w+)%", lambda m: proc.env.get(m.group(1), m.group()), line)
    code = 0
    for simple in _scan(line):
        if (simple.op == "&&" and code != 0) or (simple.op == "||" and code == 0):
            continue
        command, redirects = take_redirections(simple)
        code = _run_redirected(proc, command, redirects)
    return code


def _run_redirected(
    proc: Process, command: str, redirects: dict[int, tuple[str, bool]]
) -> int:
    if not redirects:
        return run_simple(proc, command)
    with contextlib.ExitStack() as stack:
        sinks = {}
        for stream, (target, append) in redirects.items():
            path = proc.view.write(target)
            sinks[stream] = stack.enter_context(path.open("ab" if append else "wb"))
        stack.enter_context(proc.redirected(sinks.get(1), sinks.get(2)))
        return run_simple(proc, command)


def run_simple(proc: Process, command: str) -> int:
    argv = argv_split(command)
    if not argv:
        return 0
    proc.machine.executed.append(argv)
    text = command.strip()
    if text.startswith('"') and text.find('"', 1) > 0:
        rest = text[text.find('"', 1) + 1 :]
    else:
        rest = text[len(text.split(None, 1)[0]) :]
    program = resolve(proc, argv[0])
    if program is None:
        proc.write_err(NOT_FOUND_TEXT.format(argv[0]))
        return 9009
    return program(proc, argv, rest.lstrip())


def program_name(word: str) -> str:
    return re.sub(r"\.exe$", "", word.replace("/", "\\").split("\\")[-1].lower())


def resolve(proc: Process, word: str) -> Program | None:
    """What runs for the first word of a command, as cmd.exe finds it: an internal
    command, else a program file (by its path, or along the PATH)."""
    from tests.windows import standin_programs

    name = program_name(word)
    if "\\" not in word and "/" not in word and ":" not in word:
        if name in BUILTINS:
            return BUILTINS[name]
        if name in SYSTEM_PROGRAMS:
            return SYSTEM_PROGRAMS[name]
        for folder in proc.machine.search_path():
            found = standin_programs.program_at(proc, f"{folder}\\{name}.exe")
            if found:
                return found
        return None
    if program_name(word) in SYSTEM_PROGRAMS and word.lower().startswith(
        SYSTEM32.lower()
    ):
        return SYSTEM_PROGRAMS[name]
    return standin_programs.program_at(proc, word)


def _exit(proc: Process, argv: list[str], rest: str) -> int:
    words = [a for a in argv[1:] if a.lower() != "/b"]
    return int(words[0]) if words else 0


def _cmd(proc: Process, argv: list[str], rest: str) -> int:
    match = re.match(r"((?:/[dDqQsS]\s+)*)/[cCkK]\s?(.*)$", rest, re.S)
    if not match:
        return 0
    inner = match.group(2).strip()
    if inner.startswith('"') and _strips_outer_quotes(inner, match.group(1)):
        body = inner[1:]
        last = body.rfind('"')
        inner = body[:last] + body[last + 1 :] if last >= 0 else body
    return run_cmd(proc, inner)


def _strips_outer_quotes(inner: str, switches: str) -> bool:
    """cmd /c's rule: the first and last quote are removed unless there are just two
    quotes around a plain program name with nothing special between them."""
    if "/s" in switches.lower() or inner.count('"') != 2:
        return True
    between = inner[1 : inner.index('"', 1)]
    return any(c in between for c in "&<>()@^|") or " " not in between


def _echo(proc: Process, argv: list[str], rest: str) -> int:
    proc.print(rest + "\r\n")
    return 0


def _type(proc: Process, argv: list[str], rest: str) -> int:
    path = proc.view.read(argv[1])
    if not path.is_file():
        proc.write_err("The system cannot find the file specified.\r\n")
        return 1
    proc.write(path.read_bytes())
    return 0


def _start(proc: Process, argv: list[str], rest: str) -> int:
    """start ["title"] [/wait] [/b] program args: /wait hands back the exit code;
    without it the program runs on and start returns at once."""
    if rest.startswith('"'):
        rest = rest[rest.index('"', 1) + 1 :].lstrip()  # the window title
    wait = False
    while rest[:1] == "/":
        word, _, rest = rest.partition(" ")
        if word.lower() not in ("/wait", "/b", "/min", "/i"):
            proc.write_err(f"The system cannot accept the START option {word}.\r\n")
            return 1
        wait = wait or word.lower() == "/wait"
        rest = rest.lstrip()
    if not wait:
        threading.Thread(target=run_simple, args=(proc, rest), daemon=True).start()
        return 0
    return run_simple(proc, rest)


def _timeout(proc: Process, argv: list[str], rest: str) -> int:
    seconds = float(argv[argv.index("/t") + 1]) if "/t" in argv else 1.0
    proc.sleep(seconds)
    return 0


def _sc(proc: Process, argv: list[str], rest: str) -> int:
    name = argv[2] if len(argv) > 2 else ""
    services = {k.lower(): v for k, v in read_json(proc.view, SCM_FILE, {}).items()}
    if name.lower() in services:
        state = services[name.lower()]["state"]
        code = 4 if state == "RUNNING" else 1
        proc.print(f"SERVICE_NAME: {name}\r\n        STATE : {code} {state}\r\n")
        return 0
    proc.print(SC_TEXT[proc.machine.language])
    return 1060


def _shutdown(proc: Process, argv: list[str], rest: str) -> int:
    if proc.machine.on_shutdown:
        threading.Timer(0.2, proc.machine.on_shutdown).start()
    return 0


def _dir(proc: Process, argv: list[str], rest: str) -> int:
    folder = proc.view.read([a for a in argv[1:] if not a.startswith("/")][0])
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    proc.print("".join(n + "\r\n" for n in names))
    return 0 if names else 1


def _echoargs(proc: Process, argv: list[str], rest: str) -> int:
    proc.print(json.dumps(argv[1:], ensure_ascii=False) + "\r\n")
    return 0


def _powershell(proc: Process, argv: list[str], rest: str) -> int:
    from tests.windows.standin_ps import powershell_main

    return powershell_main(proc, argv)


BUILTINS: dict[str, Program] = {
    "exit": _exit,
    "echo": _echo,
    "type": _type,
    "dir": _dir,
    "start": _start,
}
SYSTEM_PROGRAMS: dict[str, Program] = {
    "cmd": _cmd,
    "timeout": _timeout,
    "sc": _sc,
    "shutdown": _shutdown,
    "echoargs": _echoargs,  # a test helper that prints the argv it got, as JSON
    "powershell": _powershell,
}
