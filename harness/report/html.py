"""Render the dashboard and the other HTML pages with autoescaping Jinja2 templates.

Every page is self-contained: CSS and JavaScript are inlined, attachments are
copied beside the page and linked relatively, and a Content-Security-Policy with a
per-page nonce keeps any script that is not ours from running, so a page works
from ``file://`` and never asks another host for anything.
"""

from __future__ import annotations

import functools
import re
import secrets
import shutil
from pathlib import Path
from urllib.parse import quote

import jinja2

from harness.report.dashboard import Dashboard
from harness.report.model import Attachment, Step, Verdict

ATTACHMENTS = "attachments"


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment for every template here; autoescape is always on.

    Cached so that each template is compiled once per process.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = format_duration
    env.filters["attachment_href"] = attachment_href
    env.filters["shown"] = shown
    env.filters["run_time"] = run_time
    env.filters["without_xfail"] = without_xfail
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    return env


def without_xfail(message: str) -> str:
    """A failure message without allure's leading ``XFAIL <reason>`` paragraph:
    the evidence shows the known issue's reason once, above it."""
    if not message.startswith("XFAIL"):
        return message
    _, _, rest = message.partition("\n\n")
    return rest


def format_duration(milliseconds: int | None) -> str:
    """``1234`` -> ``1.23 s``; an unknown duration renders as nothing."""
    if milliseconds is None:
        return ""
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    return f"{milliseconds / 1000:.2f} s"


def shown(name: str) -> str:
    """A name as people read it: the empty string is shown as ``""``."""
    return name if name else '""'


_RUN_ID = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)\d\dZ-[0-9a-f]{6}")


def run_time(run_id: str) -> str:
    """A harness run id as the time it started, short enough for a grid square
    (the full id goes in a tooltip); any other id is shown as it is.

    >>> run_time("20261204T012930Z-7b934d")
    '2026-12-04 01:29'
    >>> run_time("nightly-42")
    'nightly-42'
    """
    found = _RUN_ID.fullmatch(run_id)
    if not found:
        return run_id
    year, month, day, hour, minute = found.groups()
    return f"{year}-{month}-{day} {hour}:{minute}"


def attachment_href(source: str) -> str:
    """The relative link to an attachment copied into the run folder."""
    return f"{ATTACHMENTS}/{quote(source)}"


def render_page(name: str, **context: object) -> str:
    """Render one template with a fresh CSP nonce."""
    template = environment().get_template(name)
    return template.render(nonce=secrets.token_urlsafe(16), **context)


def write_index(dashboard: Dashboard, run_dir: Path) -> Path:
    """Write index.html and copy every attachment it links into the run folder."""
    copy_attachments(dashboard, run_dir / ATTACHMENTS)
    page = render_page(
        "index.html.j2", d=dashboard, verdicts=[v.value for v in Verdict]
    )
    target = run_dir / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def copy_attachments(dashboard: Dashboard, folder: Path) -> None:
    """Copy the attachment files of every attempt of every cell into ``folder``."""
    for cell in dashboard.cells.values():
        tries = [*cell.earlier_attempts, *([cell.attempt] if cell.attempt else [])]
        for attempt in tries:
            steps = attempt.steps + attempt.fixtures
            for item in attempt.attachments + _step_attachments(steps):
                _copy(item, folder)


def _step_attachments(steps: list[Step]) -> list[Attachment]:
    found: list[Attachment] = []
    for step in steps:
        found.extend(step.attachments)
        found.extend(_step_attachments(step.steps))
    return found


def _copy(item: Attachment, folder: Path) -> None:
    if item.path is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(item.path, folder / item.source)
