"""Read allure-results folders: results, fixture containers, attachments, run metadata.

Cells are keyed by the four labels ``platform``, ``engine``, ``service`` and
``check`` and by the test's parameters, never by parsing test ids.  A file that
cannot be used (empty, truncated, not JSON, or a result without the four labels)
becomes a ReportWarning naming the file; the rest of the folder is still read.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.report.evidence import call_answers, fixture_step
from harness.report.meta import check_meta, merge_meta
from harness.report.model import (
    Attachment,
    Attempt,
    CellKey,
    ReportWarning,
    RunResults,
    Step,
)

log = logging.getLogger(__name__)

CELL_LABELS = ("platform", "engine", "service", "check")
TEXT_LIMIT = 256 * 1024
TEXT_TYPES = ("application/json", "application/xml", "application/yaml")
# Files allure or this report writes into a results folder; they are not results.
OWN_FILES = {"environment.properties", "executor.json", "categories.json"}


class Unusable(Exception):
    """A file that is not what its name says; the message says what is wrong."""


def read_results(results_dirs: list[Path]) -> RunResults:
    """Read every folder and return the attempts, merged metadata and warnings.

    Raises ConfigError naming the folder when one does not exist or holds no
    harness result, since a report without it would silently claim less.
    """
    attempts: list[Attempt] = []
    warnings: list[ReportWarning] = []
    metas: list[dict[str, Any]] = []
    for folder in results_dirs:
        found = _read_folder(folder, warnings, metas)
        if not found:
            raise ConfigError(f"results folder {folder} holds no harness result")
        attempts.extend(found)
    for warning in warnings:
        log.warning("skipped %s: %s", warning.file, warning.problem)
    return RunResults(merge_meta(metas), attempts, warnings, list(results_dirs))


def _read_folder(
    folder: Path, warnings: list[ReportWarning], metas: list[dict[str, Any]]
) -> list[Attempt]:
    if not folder.is_dir():
        raise ConfigError(f"results folder {folder} does not exist or is not a folder")
    attempts: list[Attempt] = []
    fixtures: dict[str, list[Step]] = {}
    for path in sorted(folder.iterdir()):
        try:
            _read_file(path, attempts, fixtures, metas)
        except Unusable as problem:
            warnings.append(ReportWarning(str(path), str(problem)))
    for attempt in attempts:
        attempt.fixtures = fixtures.get(attempt.uuid, [])
    return attempts


def _read_file(
    path: Path,
    attempts: list[Attempt],
    fixtures: dict[str, list[Step]],
    metas: list[dict[str, Any]],
) -> None:
    name = path.name
    if name.endswith("-result.json"):
        attempts.append(parse_result(path))
    elif name.endswith("-container.json"):
        _add_fixtures(load_json(path), path.parent, fixtures)
    elif name.startswith("harness-meta-") and name.endswith(".json"):
        data = load_json(path)
        problem = check_meta(data)
        if problem:
            raise Unusable(problem)
        metas.append(data)
    elif "-attachment" in name or name in OWN_FILES or path.is_dir():
        return
    else:
        raise Unusable("foreign file: not an allure result, container or attachment")


def load_json(path: Path) -> Any:
    """Parse a JSON file, turning every way it can be bad into Unusable."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise Unusable(f"cannot be read: {error.strerror or error}") from error
    if not raw.strip():
        raise Unusable("empty file")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise Unusable(f"not UTF-8 text: {error.reason}") from error
    except json.JSONDecodeError as error:
        # Some messages already end in "at" ("Unterminated string starting at").
        where = error.msg.removesuffix(" at")
        raise Unusable(
            f"corrupt or truncated JSON: {where} at character {error.pos}"
        ) from error


def parse_result(path: Path) -> Attempt:
    """One ``*-result.json`` as an Attempt; Unusable when it is not a harness cell."""
    data = load_json(path)
    if not isinstance(data, dict) or "status" not in data:
        raise Unusable("not an allure result (no status)")
    labels = _labels(data.get("labels"))
    missing = [name for name in CELL_LABELS if name not in labels]
    if missing:
        raise Unusable("foreign result: no label " + ", ".join(missing))
    details = data.get("statusDetails") or {}
    return Attempt(
        key=CellKey.of(
            (labels[name] for name in CELL_LABELS), _parameters(data.get("parameters"))
        ),
        status=str(data.get("status") or "unknown"),
        message=str(details.get("message") or ""),
        trace=str(details.get("trace") or ""),
        start=_int(data.get("start")),
        stop=_int(data.get("stop")),
        labels=labels,
        uuid=str(data.get("uuid") or path.name),
        file=path,
        steps=[_step(item, path.parent) for item in _dicts(data.get("steps"))],
        attachments=_attachments(data.get("attachments"), path.parent),
        name=str(data.get("name") or ""),
        full_name=str(data.get("fullName") or ""),
    )


def _labels(raw: Any) -> dict[str, str]:
    """Label name to value; the first of repeated names wins, as in allure's UI.

    allure-pytest leaves out the value of a label whose value is the empty string,
    so a label with a name and no value has the value ``""``.
    """
    labels: dict[str, str] = {}
    for item in _dicts(raw):
        name, value = item.get("name"), item.get("value", "")
        if isinstance(name, str) and isinstance(value, str | int | float):
            labels.setdefault(name, str(value))
    return labels


def _parameters(raw: Any) -> tuple[tuple[str, str], ...]:
    """The test's parameters in recorded order; those allure excludes from a test's
    identity (``excluded: true``) are left out of the key as well."""
    return tuple(
        (str(item.get("name", "")), str(item.get("value", "")))
        for item in _dicts(raw)
        if not item.get("excluded")
    )


def _dicts(raw: Any) -> list[dict[str, Any]]:
    return (
        [item for item in raw if isinstance(item, dict)]
        if isinstance(raw, list)
        else []
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _step(data: dict[str, Any], folder: Path) -> Step:
    start, stop = _int(data.get("start")), _int(data.get("stop"))
    details = data.get("statusDetails") or {}
    attachments = _attachments(data.get("attachments"), folder)
    return Step(
        name=str(data.get("name") or ""),
        status=str(data.get("status") or "unknown"),
        duration_ms=stop - start if start is not None and stop is not None else None,
        message=str(details.get("message") or ""),
        trace=str(details.get("trace") or ""),
        steps=[_step(item, folder) for item in _dicts(data.get("steps"))],
        attachments=attachments,
        parameters=[
            (str(p.get("name", "")), str(p.get("value", "")))
            for p in _dicts(data.get("parameters"))
        ],
        calls=call_answers(attachments),
    )


def _add_fixtures(data: Any, folder: Path, fixtures: dict[str, list[Step]]) -> None:
    """Attach a container's set-up and tear-down fixtures to each of its children."""
    if not isinstance(data, dict):
        raise Unusable("not an allure container")
    steps = [
        step
        for kind, shown in (("befores", "set-up"), ("afters", "tear-down"))
        for item in _dicts(data.get(kind))
        if (step := fixture_step(_step(item, folder), shown)) is not None
    ]
    for child in data.get("children") or []:
        fixtures.setdefault(str(child), []).extend(steps)


def _attachments(raw: Any, folder: Path) -> list[Attachment]:
    return [_attachment(item, folder) for item in _dicts(raw)]


def _attachment(data: dict[str, Any], folder: Path) -> Attachment:
    source = str(data.get("source") or "")
    item = Attachment(
        name=str(data.get("name") or source),
        source=source,
        mime=str(data.get("type") or "application/octet-stream"),
    )
    path = folder / source
    # A source is a bare file name in the same folder; anything else is refused so a
    # crafted result cannot make the report copy files from elsewhere.
    if not source or Path(source).name != source or not path.is_file():
        item.missing = True
        return item
    item.path = path
    if is_text(item.mime):
        raw = path.read_bytes()
        item.truncated = len(raw) > TEXT_LIMIT
        item.text = raw[:TEXT_LIMIT].decode("utf-8", errors="replace")
    return item


def is_text(mime: str) -> bool:
    """Whether an attachment is shown inline as text rather than linked."""
    return mime.startswith("text/") or mime in TEXT_TYPES or mime.endswith("+json")
