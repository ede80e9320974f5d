"""Load and validate matrix.yaml, expand it to cells, select cells by filters.

Validation happens once, at start, and every problem names the file, the line, the
key and the allowed values:

    matrix.yaml:14: engines.wine.platforms[0]: unknown platform 'wine-9';
        allowed values: wine-8, win2022

    >>> m = load(Path("matrix.yaml"))
    >>> [c.id for c in select(m, Filters(services=["ordinary"]))][:1]
    ['wine-8/wine/ordinary/starts']
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pydantic

from harness import matrix_source as source
from harness import services as catalogue
from harness.engines import options as engine_options
from harness.errors import ConfigError
from harness.targets import winrm_config

CHECKS = catalogue.CHECKS
CheckName = Literal["starts", "serves", "isolated"]
Loc = source.Loc
Name = pydantic.constr(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")
NAME_RULE = source.NAME_RULE
# The targets that make machines of each platform os: Wine runs on this machine,
# Windows is reached through WinRM on a Vagrant machine or an existing host.
TARGETS = {"wine": ("local",), "windows": ("vagrant", "inventory")}


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


Address = Annotated[str, pydantic.AfterValidator(_ip_address)]


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Platform(_Strict):
    target: Literal["local", "vagrant", "inventory"]
    os: Literal["wine", "windows"]
    default: pydantic.StrictBool = False
    description: str = ""
    role: Literal["server", "client"] = "server"
    client: str | None = None  # platform of the client machine (Windows)
    box: str | None = None  # Vagrant box name
    box_version: str | None = None
    cpus: int = pydantic.Field(2, ge=1, le=64)
    memory: int = pydantic.Field(4096, ge=512)  # MiB
    hosts: list[dict[str, Any]] = []  # inventory hosts: address, port, transport
    winrm: dict[str, Any] = {}  # WinRM options of the platform's hosts (winrm_options)
    features: list[str] = []  # Windows features provisioning installs (IIS, ...)
    boot_timeout: int = pydantic.Field(900, ge=10)  # seconds until WinRM answers
    # The machine's address on the lab network (vagrant: its private network, where
    # the client machine reaches it; WinRM may go elsewhere, e.g. a NAT port).
    address: Address | None = None


class Engine(_Strict):
    kind: Literal["wine", "windows-containers", "sandboxie", "command"]
    platforms: list[Name]  # type: ignore[valid-type]
    description: str = ""
    artifact: str | None = None  # what prepare() deploys (path or URL)
    install: str | None = None  # command that installs the artifact
    options: dict[str, Any] = {}

    @pydantic.field_validator("install")
    @classmethod
    def _install_template(cls, value: str | None) -> str | None:
        placeholders = engine_options.INSTALL_PLACEHOLDERS
        problem = value and engine_options.template_problem(value, placeholders)
        if problem:
            raise ValueError(problem)
        return value


class CellPattern(_Strict):
    """Matches cells; a key left out matches every value."""

    platform: str | None = None
    engine: str | None = None
    service: str | None = None
    check: CheckName | None = None
    reason: str = ""


class KnownIssue(_Strict):
    platform: str
    engine: str
    service: str
    check: CheckName
    outcome: Literal["failed", "broken"]
    reason: str = pydantic.Field(min_length=10)


class Matrix(_Strict):
    version: Literal[1]
    platforms: dict[Name, Platform]  # type: ignore[valid-type]
    engines: dict[Name, Engine]  # type: ignore[valid-type]
    services: list[str] = pydantic.Field(min_length=1)
    checks: list[CheckName] = pydantic.Field(
        [cast(CheckName, check) for check in CHECKS], min_length=1
    )
    exclude: list[CellPattern] = []
    known_issues: list[KnownIssue] = []
    path: Path = Path("matrix.yaml")


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One (platform, engine, service, check): one pytest item, one square."""

    platform: str
    engine: str
    service: str
    check: str

    @property
    def id(self) -> str:
        return f"{self.platform}/{self.engine}/{self.service}/{self.check}"

    def sort_key(self) -> tuple[str, str, str, int]:
        return (self.platform, self.engine, self.service, CHECKS.index(self.check))


def load(path: Path) -> Matrix:
    """Read and validate a matrix file; ConfigError lists every problem found."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        message = (
            f"{path}:{line}: encoding: byte {error.start} is not UTF-8; "
            "allowed: UTF-8 text"
        )
        raise ConfigError(message) from None
    data, lines = source.parse(path, text)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1: the file must be a mapping with keys: "
            f"{', '.join(source.fields(Matrix))}"
        )
    try:
        matrix = Matrix.model_validate({**data, "path": path})
    except pydantic.ValidationError as error:
        raise ConfigError(source.explain(path, error, lines, Matrix)) from None
    _check_options(path, matrix, lines)
    matrix, missing = _trust_files(path, matrix)
    problems = [
        f"{source.where(path, lines, loc)}{source.dotted(loc)}: {message}"
        for loc, message in _check_references(matrix) + missing
    ]
    for name, platform in matrix.platforms.items():
        problems += [
            f"{source.where(path, lines, loc)}{text}"
            for loc, text in winrm_config.problems(name, platform)
        ]
    if problems:
        raise ConfigError("\n".join(problems))
    return matrix


def _check_options(path: Path, m: Matrix, lines: source.Lines) -> None:
    """Each engine's options against the options of its kind."""
    messages = []
    for name, engine in m.engines.items():
        model = engine_options.BY_KIND[engine.kind]
        try:
            model.model_validate(engine.options)
        except pydantic.ValidationError as error:
            prefix: Loc = ("engines", name, "options")
            messages.append(source.explain(path, error, lines, model, prefix))
    if messages:
        raise ConfigError("\n".join(messages))


def _placement(
    name: str, engine: Engine, platforms: dict[str, Platform]
) -> list[tuple[Loc, str]]:
    """An engine on platforms of the wrong os, and options that name platforms the
    engine does not run on (or leave out one it does)."""
    needed = engine_options.OS_OF_KIND[engine.kind]
    fitting = ", ".join(sorted(p for p, c in platforms.items() if c.os == needed))
    problems: list[tuple[Loc, str]] = []
    for i, platform in enumerate(engine.platforms):
        config = platforms.get(platform)
        if config is not None and config.os != needed:
            problems.append(
                (
                    ("engines", name, "platforms", i),
                    f"{platform} has os: {config.os}, but a {engine.kind} engine "
                    f"runs on os: {needed} platforms; allowed values: "
                    f"{fitting or f'none (no platform has os: {needed})'}",
                )
            )
    own = [p for p in engine.platforms if p in platforms and platforms[p].os == needed]
    for loc, message in engine_options.placement_problems(
        engine.kind, engine.options, own
    ):
        problems.append((("engines", name, "options", *loc), message))
    return problems


def _trust_files(path: Path, m: Matrix) -> tuple[Matrix, list[tuple[Loc, str]]]:
    """Every ca_trust_path (a platform's `winrm`, an inventory host's `options`)
    made absolute against the matrix file's folder, where the run finds it whatever
    its working directory; one that names no file is a problem."""
    folder = path.absolute().parent
    problems: list[tuple[Loc, str]] = []
    platforms = {}
    for name, platform in m.platforms.items():
        at: Loc = ("platforms", name)
        winrm = _trust_file(folder, at + ("winrm",), platform.winrm, problems)
        hosts = []
        for i, host in enumerate(platform.hosts):
            if isinstance(host.get("options"), dict):
                loc = at + ("hosts", i, "options")
                host = {
                    **host,
                    "options": _trust_file(folder, loc, host["options"], problems),
                }
            hosts.append(host)
        platforms[name] = platform.model_copy(update={"winrm": winrm, "hosts": hosts})
    return m.model_copy(update={"platforms": platforms}), problems


def _trust_file(
    folder: Path, loc: Loc, options: dict[str, Any], problems: list[tuple[Loc, str]]
) -> dict[str, Any]:
    value = options.get("ca_trust_path")
    if value is None:
        return options
    loc += ("ca_trust_path",)
    if not isinstance(value, str) or not value.strip():
        problems.append((loc, f"must be the path of a CA bundle in PEM; got {value!r}"))
        return options
    file = folder / Path(value).expanduser()
    if not file.exists():
        problems.append(
            (
                loc,
                f"{value}: no such file{'' if file == Path(value) else f' ({file})'}"
                "; name the CA bundle (PEM) that signs the hosts' certificates, "
                "relative to the matrix file's folder",
            )
        )
    return {**options, "ca_trust_path": str(file)}


def _check_references(m: Matrix) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []

    def need(loc: Loc, value: str | None, allowed: Iterable[str], what: str) -> None:
        allowed = sorted(allowed)
        if value is not None and value not in allowed:
            problems.append(
                (loc, f"unknown {what} {value!r}; allowed values: {', '.join(allowed)}")
            )

    for name, engine in m.engines.items():
        for i, platform in enumerate(engine.platforms):
            need(("engines", name, "platforms", i), platform, m.platforms, "platform")
    for name, platform in m.platforms.items():
        need(("platforms", name, "client"), platform.client, m.platforms, "platform")
        targets = TARGETS[platform.os]
        if platform.target not in targets:
            problems.append(
                (
                    ("platforms", name, "target"),
                    f"got {platform.target!r}, but os: {platform.os} platforms "
                    f"come from another target; allowed values: {', '.join(targets)}",
                )
            )
    for name, engine in m.engines.items():
        problems.extend(_placement(name, engine, m.platforms))
    for i, service in enumerate(m.services):
        need(("services", i), service, catalogue.CATALOGUE, "service")
    if len(set(m.services)) != len(m.services):
        problems.append((("services",), "a service is listed twice"))
    if len(set(m.checks)) != len(m.checks):
        problems.append((("checks",), "a check is listed twice"))
    # what exclusions and known issues may name: the listed services that exist
    listed = [service for service in m.services if service in catalogue.CATALOGUE]
    for key in ("exclude", "known_issues"):
        for i, item in enumerate(getattr(m, key)):
            loc = (key, i)
            need(loc + ("platform",), item.platform, m.platforms, "platform")
            need(loc + ("engine",), item.engine, m.engines, "engine")
            if item.service in catalogue.CATALOGUE and item.service not in listed:
                problems.append(
                    (
                        loc + ("service",),
                        f"service {item.service!r} is not in services (listed: "
                        f"{', '.join(listed)}); list it there or remove this entry",
                    )
                )
            else:
                need(loc + ("service",), item.service, listed, "service")
    declared: dict[tuple[str, ...], int] = {}
    for i, issue in enumerate(m.known_issues):
        cell = (issue.platform, issue.engine, issue.service, issue.check)
        if cell in declared:
            problems.append(
                (
                    ("known_issues", i),
                    f"declares {'/'.join(cell)} again (first in "
                    f"known_issues[{declared[cell]}]); one declaration per cell",
                )
            )
        declared.setdefault(cell, i)
    if not problems:
        everything = expand(m.model_copy(update={"exclude": []}))
        for i, pattern in enumerate(m.exclude):
            if not any(_matches(pattern, cell) for cell in everything):
                problems.append(
                    (
                        ("exclude", i),
                        "matches no cell of the matrix: its engine does not run on "
                        "that platform, or one of its keys names nothing listed",
                    )
                )
        cells = set(expand(m))
        for i, issue in enumerate(m.known_issues):
            named = Cell(issue.platform, issue.engine, issue.service, issue.check)
            if named in cells:
                continue
            why = (
                f"check {issue.check!r} is not in checks (listed: "
                f"{', '.join(m.checks)}); list it there or remove this entry"
                if issue.check not in m.checks
                else f"{named.id} is excluded or its engine does not run on that "
                "platform"
            )
            problems.append(
                (("known_issues", i), f"names no cell of the matrix: {why}")
            )
    return problems


# --- expansion and selection ---------------------------------------------------------


def expand(m: Matrix) -> list[Cell]:
    """Every cell of the matrix, excluded ones removed, in a stable sorted order."""
    cells = [
        Cell(platform, engine_name, service, check)
        for engine_name, engine in m.engines.items()
        for platform in engine.platforms
        for service in m.services
        for check in m.checks
    ]
    cells = [c for c in cells if not any(_matches(p, c) for p in m.exclude)]
    return sorted(set(cells), key=Cell.sort_key)


def _matches(pattern: CellPattern, cell: Cell) -> bool:
    return all(
        getattr(pattern, key) in (None, getattr(cell, key))
        for key in ("platform", "engine", "service", "check")
    )


def known_issue(m: Matrix, cell: Cell) -> KnownIssue | None:
    """The declared known issue of a cell, if any."""
    for issue in m.known_issues:
        if (issue.platform, issue.engine, issue.service, issue.check) == (
            cell.platform,
            cell.engine,
            cell.service,
            cell.check,
        ):
            return issue
    return None


@dataclasses.dataclass(frozen=True)
class Filters:
    platforms: Sequence[str] = ()
    engines: Sequence[str] = ()
    services: Sequence[str] = ()
    checks: Sequence[str] = ()
    shard: tuple[int, int] | None = None  # (index from 1, count)


def select(m: Matrix, filters: Filters = Filters()) -> list[Cell]:
    """The cells a run covers.  Unknown filter values raise ConfigError listing the
    valid ones; without --platform only the `default: true` platforms run."""
    cells = expand(m)
    _validate_filter("--platform", filters.platforms, m.platforms)
    _validate_filter("--engine", filters.engines, m.engines)
    _validate_filter("--service", filters.services, m.services)
    _validate_filter("--check", filters.checks, m.checks)
    platforms = filters.platforms or [n for n, p in m.platforms.items() if p.default]
    cells = [
        c
        for c in cells
        if c.platform in platforms
        and (not filters.engines or c.engine in filters.engines)
        and (not filters.services or c.service in filters.services)
        and (not filters.checks or c.check in filters.checks)
    ]
    if filters.shard:
        cells = shard(cells, *filters.shard)
    return cells


def _validate_filter(
    option: str, values: Sequence[str], allowed: Iterable[str]
) -> None:
    allowed = sorted(allowed)
    for value in values:
        if value not in allowed:
            raise ConfigError(
                f"{option} {value!r} is not in the matrix; "
                f"allowed values: {', '.join(allowed)}"
            )


def shard(cells: Sequence[Cell], index: int, count: int) -> list[Cell]:
    """Shard `index` of `count` (1-based): a stable, disjoint, balanced share.

    Whole (platform, engine, service) groups go to one shard so that a suite's
    containers are made once.  Groups are ordered by a hash of their names and dealt
    out in turn, so shards differ by at most one group and every shard computes the
    same split from the same matrix and filters.
    """
    if not 1 <= index <= count:
        raise ConfigError(
            f"--shard {index}/{count}: the index must be from 1 to {count}"
        )
    groups = sorted({_group(c) for c in cells}, key=_group_hash)
    mine = {g for i, g in enumerate(groups) if i % count == index - 1}
    return [c for c in cells if _group(c) in mine]


def groups(cells: Sequence[Cell]) -> int:
    """How many (platform, engine, service) groups `--shard` shares out."""
    return len({_group(c) for c in cells})


def _group(cell: Cell) -> tuple[str, str, str]:
    return (cell.platform, cell.engine, cell.service)


def _group_hash(group: tuple[str, str, str]) -> bytes:
    return hashlib.sha256("\0".join(group).encode()).digest()


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4); ConfigError on anything else."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and int(count) > 0):
        raise ConfigError(f"--shard {text!r}: expected I/N such as 1/4")
    return int(index), int(count)
