"""Reading matrix.yaml: YAML with the line of every key and item, and problems said
as ``file:line: key: what is wrong; allowed values ...`` in the words of a YAML
file rather than pydantic's.

    >>> dotted(("engines", "wine", "platforms", 0))
    'engines.wine.platforms[0]'
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Union

import pydantic
import yaml

from harness.errors import ConfigError

NAME_RULE = "lower-case letters, digits, '.', '_' and '-', at most 40, not first '.-_'"

Loc = tuple[str | int, ...]
Lines = dict[Loc, int]  # the line of each key and item


def parse(path: Path, text: str) -> tuple[Any, Lines]:
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
    lines: Lines = {}
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
    lines: Lines,
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: "
                    f"{dotted(loc) or 'top level'}: keys must be text"
                )
            if key in result:
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: "
                    f"{dotted(loc + (key,))}: duplicate key {key!r}"
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
        raise ConfigError(f"{path}:{lines[loc]}: {dotted(loc)}: {error}") from None


# --- error messages ----------------------------------------------------------------


def dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if text else str(part))
        )
    return text


def where(path: Path, lines: Lines, loc: Loc) -> str:
    while loc and loc not in lines:
        loc = loc[:-1]
    return f"{path}:{lines.get(loc, 1)}: "


def explain(
    path: Path,
    error: pydantic.ValidationError,
    lines: Lines,
    root: type[pydantic.BaseModel],
    prefix: Loc = (),
) -> str:
    """pydantic's errors of the model `root` as 'file:line: key: what is wrong;
    allowed ...' lines; `prefix` places a model validated on its own (an engine's
    options) in the file."""
    messages = []
    for item in error.errors():
        local = tuple(p for p in item["loc"] if not _is_pydantic_tag(p))
        loc = prefix + local
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(fields(_model_at(local[:-1], root)))
            message = f"unknown key {loc[-1]!r}; allowed keys: {allowed}"
        elif item["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing"
        elif item["type"] == "string_pattern_mismatch":
            message = f"{item['input']!r} is not a valid name ({NAME_RULE})"
        else:
            message = _plain(item, _model_at(local, root)) or message
        messages.append(
            f"{where(path, lines, loc)}{dotted(loc) or 'top level'}: {message}"
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
        keys = ", ".join(fields(model))
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


def fields(model: type[pydantic.BaseModel] | None) -> list[str]:
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
