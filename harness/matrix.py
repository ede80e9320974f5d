"""Load and validate matrix.yaml, expand it to cells, select cells by filters.

Validation happens once, at start, and every problem names the file, the line, the
key and the allowed values:

    matrix.yaml:14: engines.wine.platforms[0]: unknown platform 'wine-9';
        allowed values: wine-8, win2022

    >>> m = load(Path("matrix.yaml"))
    >>> [c.id for c in select(m, services=["ordinary"])][:1]
    ['wine-8/wine/ordinary/starts']
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
import yaml

from harness import services as catalogue
from harness.engines import options as engine_options
from harness.errors import ConfigError

CHECKS = catalogue.CHECKS
Name = pydantic.constr(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")
NAME_RULE = "lower-case letters, digits, '.', '_' and '-', at most 40, not first '.-_'"


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
    default: bool = False
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


class CellPattern(_Strict):
    """Matches cells; a key left out matches every value."""

    platform: str | None = None
    engine: str | None = None
    service: str | None = None
    check: Literal["starts", "serves", "isolated"] | None = None
    reason: str = ""


class KnownIssue(_Strict):
    platform: str
    engine: str
    service: str
    check: Literal["starts", "serves", "isolated"]
    outcome: Literal["failed", "broken"]
    reason: str = pydantic.Field(min_length=10)


class Matrix(_Strict):
    version: Literal[1]
    platforms: dict[Name, Platform]  # type: ignore[valid-type]
    engines: dict[Name, Engine]  # type: ignore[valid-type]
    services: list[str] = pydantic.Field(min_length=1)
    checks: list[Literal["starts", "serves", "isolated"]] = pydantic.Field(
        list(CHECKS), min_length=1
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
        raise ConfigError(f"{path}:1: cannot read: {error.strerror}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        message = (
            f"{path}:{line}: encoding: byte {error.start} is not UTF-8; "
            "allowed: UTF-8 text"
        )
        raise ConfigError(message) from None
    data, lines = _parse(path, text)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1: the file must be a mapping with keys: "
            f"{', '.join(_fields(Matrix))}"
        )
    try:
        matrix = Matrix.model_validate({**data, "path": path})
    except pydantic.ValidationError as error:
        raise ConfigError(_explain(path, error, lines)) from None
    _check_options(path, matrix, lines)
    problems = _check_references(matrix)
    if problems:
        raise ConfigError(
            "\n".join(
                f"{_where(path, lines, loc)}{_dotted(loc)}: {message}"
                for loc, message in problems
            )
        )
    return matrix


# --- YAML with line numbers -------------------------------------------------------

Loc = tuple[str | int, ...]


def _parse(path: Path, text: str) -> tuple[Any, dict[Loc, int]]:
    """YAML to data plus the line of every key and item; duplicate keys are errors."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
    except yaml.YAMLError as error:
        raise ConfigError(
            f"{path}:{_error_line(error, text)}: YAML syntax error: "
            f"{_yaml_problem(error)}"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Loc, int] = {}
    if node is None:
        return None, lines
    return _build(path, loader, node, (), lines), lines


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's problem in one line (its own text spans several)."""
    if isinstance(error, yaml.reader.ReaderError):
        return f"character {chr(error.character)!r} is not allowed ({error.reason})"
    return (getattr(error, "problem", None) or str(error)).splitlines()[0]


def _error_line(error: yaml.YAMLError, text: str) -> int:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        return mark.line + 1
    position = getattr(error, "position", None)  # reader errors: a character offset
    return text[: position or 0].count("\n") + 1


def _build(
    path: Path,
    loader: yaml.SafeLoader,
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: "
                    f"{_dotted(loc) or 'top level'}: keys must be text"
                )
            if key in result:
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: "
                    f"{_dotted(loc + (key,))}: duplicate key {key!r}"
                )
            result[key] = _build(path, loader, value_node, loc + (key,), lines)
            lines[loc + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(path, loader, item, loc + (i,), lines)
            for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}:{lines[loc]}: {_dotted(loc)}: {error}") from None


# --- error messages ----------------------------------------------------------------


def _dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if text else str(part))
        )
    return text


def _where(path: Path, lines: dict[Loc, int], loc: Loc) -> str:
    while loc and loc not in lines:
        loc = loc[:-1]
    return f"{path}:{lines.get(loc, 1)}: "


def _check_options(path: Path, m: Matrix, lines: dict[Loc, int]) -> None:
    """Each engine's options against the options of its kind."""
    messages = []
    for name, engine in m.engines.items():
        model = engine_options.BY_KIND[engine.kind]
        try:
            model.model_validate(engine.options)
        except pydantic.ValidationError as error:
            prefix: Loc = ("engines", name, "options")
            messages.append(_explain(path, error, lines, prefix, model))
    if messages:
        raise ConfigError("\n".join(messages))


def _explain(
    path: Path,
    error: pydantic.ValidationError,
    lines: dict[Loc, int],
    prefix: Loc = (),
    root: type[pydantic.BaseModel] | None = None,
) -> str:
    """pydantic's errors as 'file:line: key: what is wrong; allowed ...' lines;
    `prefix` and `root` place a model validated on its own (engine options)."""
    root = root or Matrix
    messages = []
    for item in error.errors():
        local = tuple(p for p in item["loc"] if not _is_pydantic_tag(p))
        loc = prefix + local
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_fields(_model_at(local[:-1], root)))
            message = f"unknown key {loc[-1]!r}; allowed keys: {allowed}"
        elif item["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing"
        elif item["type"] == "string_pattern_mismatch":
            message = f"{item['input']!r} is not a valid name ({NAME_RULE})"
        else:
            message = _plain(item, _model_at(local, root)) or message
        messages.append(
            f"{_where(path, lines, loc)}{_dotted(loc) or 'top level'}: {message}"
        )
    return "\n".join(messages)


# What a value of each kind must be, in the words of a YAML file.
_KINDS = {
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
}


def _plain(item: Any, model: type[pydantic.BaseModel] | None) -> str | None:
    """pydantic's message for a wrong type or value, said with the allowed ones."""
    kind = item["type"]
    value = item["input"]
    given = f"got {value!r}"
    if isinstance(value, dict | list):
        given = f"got a {'mapping' if isinstance(value, dict) else 'list'}"
    if kind == "literal_error":
        return (
            f"{given}; allowed values: {item['ctx']['expected'].replace(' or ', ', ')}"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        keys = ", ".join(_fields(model))
        return f"must be a mapping{' with keys: ' + keys if keys else ''}; {given}"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}; {given}"
    if kind == "too_short" and isinstance(value, list | dict):
        return f"must hold at least {item['ctx']['min_length']}; got none"
    if kind == "string_too_short":
        return f"must be at least {item['ctx']['min_length']} characters long"
    if kind == "value_error":
        return str(item["ctx"]["error"])
    return None


def _is_pydantic_tag(part: Any) -> bool:
    # Keys of dict fields are validated under a synthetic "[key]" location.
    return part == "[key]"


def _fields(model: type[pydantic.BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [
        field.alias or name
        for name, field in model.model_fields.items()
        if name != "path"
    ]


def _model_at(
    loc: Loc, root: type[pydantic.BaseModel]
) -> type[pydantic.BaseModel] | None:
    """The model class that validates the mapping at `loc` (for 'allowed keys')."""
    current: Any = root
    for part in loc:
        if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            args = [a for a in typing.get_args(current) if a is not type(None)]
            current = args[-1] if args else None
        while typing.get_origin(current) in (Union, types.UnionType):
            current = [a for a in typing.get_args(current) if a is not type(None)][0]
    if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
        return current
    return None


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
    for i, service in enumerate(m.services):
        need(("services", i), service, catalogue.CATALOGUE, "service")
    if len(set(m.services)) != len(m.services):
        problems.append((("services",), "a service is listed twice"))
    for key in ("exclude", "known_issues"):
        for i, item in enumerate(getattr(m, key)):
            loc = (key, i)
            need(loc + ("platform",), item.platform, m.platforms, "platform")
            need(loc + ("engine",), item.engine, m.engines, "engine")
            need(loc + ("service",), item.service, m.services, "service")
    declared: dict[tuple[str, ...], int] = {}
    for i, issue in enumerate(m.known_issues):
        key = (issue.platform, issue.engine, issue.service, issue.check)
        if key in declared:
            problems.append(
                (
                    ("known_issues", i),
                    f"declares {'/'.join(key)} again (first in "
                    f"known_issues[{declared[key]}]); one declaration per cell",
                )
            )
        declared.setdefault(key, i)
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
            cell = Cell(issue.platform, issue.engine, issue.service, issue.check)
            if cell not in cells:
                problems.append(
                    (
                        ("known_issues", i),
                        f"names no cell of the matrix: {cell.id} is excluded "
                        "or its engine does not run on that platform",
                    )
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
