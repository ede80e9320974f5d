"""Files for people who read the results with Allure itself, and the optional
Allure HTML report.

environment.properties, executor.json and categories.json go into each results
folder being reported (Allure 2 reads them from there).  Allure 3 ignores
categories.json: it takes its categories from its configuration file, so the
report writes ``allurerc.json`` beside the Allure HTML report and passes it with
``--config``.  ``allure generate`` runs only when Node.js and the npm ``allure``
(Allure 3) or ``allure-commandline`` (Allure 2, needs Java) package are present;
otherwise the report says so and goes on without it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from harness.report.allure_npm import npm_allure_command, npm_allure_folder
from harness.report.dashboard import Dashboard

log = logging.getLogger(__name__)

ALLURE_ENV = "HARNESS_ALLURE"
ALLURE_CONFIG = "allurerc.json"
ALLURE_TIMEOUT = 600
CATEGORIES = [
    {
        "name": "Infrastructure problems (broken: the harness could not check)",
        "matchedStatuses": ["broken"],
    },
    {
        "name": "Known issues that no longer reproduce",
        "matchedStatuses": ["failed"],
        "messageRegex": ".*XPASS\\(strict\\).*",
    },
    {"name": "Engine failures (failed checks)", "matchedStatuses": ["failed"]},
    {
        "name": "Known issues (expected failures)",
        "matchedStatuses": ["skipped"],
        "messageRegex": "XFAIL.*",
    },
]


def properties_escape(text: str, key: bool = False) -> str:
    """Escape for a Java .properties file (ISO 8859-1 with \\u escapes)."""
    out = []
    for index, char in enumerate(text):
        if char in "\\#!=:" or (char == " " and (key or index == 0)):
            out.append("\\" + char)
        elif char in "\t\n\r\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[char])
        elif ord(char) < 0x20 or ord(char) > 0x7E:
            out.append("".join(f"\\u{unit:04x}" for unit in _utf16(char)))
        else:
            out.append(char)
    return "".join(out)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def environment_properties(d: Dashboard) -> str:
    """The run facts as Allure's environment widget shows them."""
    pairs = [
        ("run.id", d.run_id),
        ("harness.version", d.meta.harness_version),
        ("run.started", d.meta.started),
        ("run.finished", d.meta.finished or "did not finish"),
        ("run.interrupted", str(d.meta.interrupted).lower()),
        ("run.where", d.meta.hostname),
    ]
    for e in d.meta.engines:
        pairs.append((f"{e.platform}.{e.engine}.version", e.version))
        pairs.append((f"{e.platform}.{e.engine}.os_build", e.os_build))
    lines = [
        f"{properties_escape(k, key=True)}={properties_escape(v)}" for k, v in pairs
    ]
    return "\n".join(lines) + "\n"


def executor(d: Dashboard) -> dict[str, object]:
    """Who ran the run, as Allure's executor widget shows it."""
    return {
        "name": d.meta.ci or "local",
        "type": "ci" if d.meta.ci else "local",
        "buildName": d.run_id,
        "reportName": f"Compatibility matrix {d.run_id}",
    }


def write_allure_files(d: Dashboard) -> list[str]:
    """Write Allure's three optional files into each results folder.

    Returns warnings instead of failing: a read-only results folder (a downloaded
    CI artifact, say) must not stop the report.
    """
    problems = []
    files = {
        "environment.properties": environment_properties(d),
        "executor.json": json.dumps(executor(d), indent=1, ensure_ascii=False),
        "categories.json": json.dumps(CATEGORIES, indent=1),
    }
    for folder in d.results_dirs:
        for name, text in files.items():
            try:
                (folder / name).write_text(text, encoding="utf-8")
            except OSError as error:
                problems.append(f"could not write {folder / name}: {error.strerror}")
    for problem in problems:
        log.warning("%s", problem)
    return problems


def find_allure(extra_dirs: list[Path] | None = None) -> list[str] | None:
    """The command that runs the npm Allure CLI, or None.

    Looked for in ``$HARNESS_ALLURE``, then ``node_modules/.bin/allure`` under the
    current folder and ``extra_dirs``, then ``allure`` on PATH, then where
    scripts/need-npm-allure installs it (``allure_npm.npm_allure_command()``).
    """
    if os.environ.get(ALLURE_ENV):
        return [os.environ[ALLURE_ENV]]
    for base in [Path.cwd(), *(extra_dirs or [])]:
        local = base / "node_modules" / ".bin" / "allure"
        if local.is_file():
            return [str(local)]
    found = shutil.which("allure")
    if found:
        return [found]
    cached = npm_allure_command()
    return [str(cached)] if os.access(cached, os.X_OK) else None


def allure_version(command: list[str]) -> str:
    """What ``allure --version`` prints last (``2.46.1``, ``3.18.0``), or ``""``."""
    try:
        done = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = done.stdout.strip().splitlines()
    return lines[-1].strip() if lines else ""


def allure_config(name: str, out: Path) -> dict[str, object]:
    """Allure 3's configuration: the report's name, where it goes, our categories
    (Allure 3 reads the categories.json keys ``matchedStatuses`` and
    ``messageRegex`` from here, not from the results folder)."""
    return {"name": name, "output": str(out), "categories": CATEGORIES}


def write_allure_config(name: str, out: Path) -> Path:
    """``allurerc.json`` beside the Allure report folder ``out``."""
    config = out.parent / ALLURE_CONFIG
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(allure_config(name, out), indent=1), encoding="utf-8")
    return config


def allure_generate_argv(
    command: list[str], dirs: list[Path], out: Path, name: str = "Allure Report"
) -> list[str]:
    """Allure 2 and Allure 3 take the same inputs with different options; Allure 3
    also gets its configuration file (written here) for the categories."""
    if allure_version(command).startswith("2."):
        return [*command, "generate", "--clean", "-o", str(out), *map(str, dirs)]
    config = write_allure_config(name, out)
    argv = [*command, "generate", *map(str, dirs), "--output", str(out)]
    return [*argv, "--config", str(config)]


def build_allure_html(
    dirs: list[Path], out: Path, extra: list[Path], name: str = "Allure Report"
) -> str:
    """Run ``allure generate`` into ``out``; returns a sentence saying what happened."""
    if shutil.which("node") is None:
        return "Allure HTML report not built: Node.js (node) is not installed"
    command = find_allure(extra)
    if command is None:
        return (
            "Allure HTML report not built: the npm package 'allure' (or "
            f"'allure-commandline') is not installed; scripts/need-npm-allure "
            f"installs it into {npm_allure_folder()}, or set {ALLURE_ENV} to its path"
        )
    argv = allure_generate_argv(command, dirs, out, name)
    log.info("running %s", argv)
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=ALLURE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"Allure HTML report failed: {error}"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"Allure HTML report failed (exit {done.returncode}): {' '.join(tail)}"
    return f"Allure HTML report: {out / 'index.html'}"
