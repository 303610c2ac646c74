"""Config problems an operator can act on: each with its YAML line and dotted field path.

One job: turn what went wrong while loading a YAML config (bad YAML, duplicate keys, pydantic
validation errors, cross-field check findings) into :class:`ConfigProblem` values located at
the line of the YAML file where the operator has to look. :mod:`edge.config` uses it for store
configs; use cases yield :class:`ConfigProblem` from their own checks.

>>> root, data = parse_yaml("cameras:\\n  door:\\n    source: 0\\n    loop: yes\\n", "store.yaml")
>>> locate(ConfigProblem(("cameras", "door", "loop"), "not for USB cameras", True), root).render()
'line 4 cameras.door.loop: not for USB cameras (got True)'
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel

NO_VALUE = object()


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a config file.

    Attributes:
        loc: path of keys / list indices to the offending field.
        message: what is wrong, in words an operator acts on.
        value: the offending value (``NO_VALUE`` when there is none to show, e.g. a missing field).
        line: 1-based line in the YAML file (0 when unknown).
    """

    loc: tuple[str | int, ...]
    message: str
    value: Any = NO_VALUE
    line: int = 0

    @property
    def path(self) -> str:
        """``cameras.entrance.analyzers[0].zones`` style path."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "(top level)"

    def render(self) -> str:
        got = "" if self.value is NO_VALUE else f" (got {_short_repr(self.value)})"
        where = f"line {self.line} " if self.line else ""
        return f"{where}{self.path}: {self.message}{got}"


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: A cross-field check: the whole validated config in, its problems out.
Check = Callable[[Any], Iterator[ConfigProblem]]


class ConfigError(ValueError):
    """A config with problems; ``problems`` holds each one, ``str()`` lists them all."""

    def __init__(self, path: Path | str, problems: list[ConfigProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        lines = "\n".join(f"  {p.render()}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} {noun}\n{lines}")


def parse_yaml(text: str, path: Path | str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for line numbers) and the plain data of ``text``.

    Raises:
        ConfigError: not valid YAML, with the line of the first error.
    """
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [ConfigProblem((), f"not valid YAML: {reason}", line=line)]) from None


def from_pydantic(err: Any, root: type[BaseModel]) -> ConfigProblem:
    """One pydantic error (``ValidationError.errors()`` item) as a problem in the words of the file."""
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind, msg, value = err["type"], err["msg"], err.get("input", NO_VALUE)
    if kind == "missing":
        return ConfigProblem(loc, "required field is missing")
    if kind == "extra_forbidden":
        allowed = _allowed_fields(root, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        did_you_mean = f"did you mean {hint[0]!r}? " if hint else ""
        return ConfigProblem(loc, f"unknown field; {did_you_mean}allowed: {', '.join(allowed)}")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = err.get("ctx", {}).get("expected_tags") or ", ".join(repr(t) for t in _union_tags(root, loc))
        if kind == "union_tag_not_found":
            return ConfigProblem((*loc, "type"), f"'type' is required{'; one of: ' + expected if expected else ''}")
        return ConfigProblem((*loc, "type"), f"unknown type; expected one of: {expected}", err["ctx"]["tag"])
    if kind.startswith("value_error"):
        msg = msg.removeprefix("Value error, ")
    elif msg:
        msg = msg[0].lower() + msg[1:]
    return ConfigProblem(loc, msg, value)


def _annotation_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> Any:
    """The type annotation of the config field at ``loc``, through models, dicts, lists and union tags."""
    annotation: Any = root
    for part in loc:
        model = _as_model(annotation, part)
        if model is not None:
            field = model.model_fields.get(str(part))
            annotation = model if field is None else field.annotation  # no such field: a union tag, stay
            continue
        annotation = _strip_annotated(annotation)
        if typing.get_origin(annotation) not in (dict, list):
            return None
        annotation = typing.get_args(annotation)[-1]
    return annotation


def _allowed_fields(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the config model at ``loc`` (for "did you mean")."""
    model = _as_model(_annotation_at(root, loc), None)
    return list(model.model_fields) if model is not None else []


def _union_tags(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The ``type`` values a discriminated union at ``loc`` accepts."""
    annotation = _strip_annotated(_annotation_at(root, loc))
    tags: list[str] = []
    for member in typing.get_args(annotation) if typing.get_origin(annotation) in (Union, types.UnionType) else ():
        type_field = getattr(member, "model_fields", {}).get("type")
        if type_field is not None:
            tags += [str(t) for t in typing.get_args(type_field.annotation)]
    return tags


def _as_model(annotation: Any, tag: str | int | None) -> type[BaseModel] | None:
    """The pydantic model an annotation stands for; for a union, the member whose ``type`` is ``tag``."""
    annotation = _strip_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
        for member in members:
            type_field = member.model_fields.get("type")
            if type_field is not None and typing.get_args(type_field.annotation) == (tag,):
                return member
        return members[0] if len(members) == 1 else None
    return None


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def locate(problem: ConfigProblem, root: yaml.Node | None) -> ConfigProblem:
    """Attach the YAML line of the deepest node along ``problem.loc`` and drop union tags from the path."""
    if problem.line or root is None:
        return problem
    node: yaml.Node = root
    line = node.start_mark.line + 1
    path: list[str | int] = []
    parts = list(problem.loc)
    for k, part in enumerate(parts):
        child = _child(node, part)
        if child is not None:
            key_node, node = child
            path.append(part)
            # a scalar's line is its own; a mapping key's line is where the operator reads the field
            line = (key_node or node).start_mark.line + 1
            continue
        if isinstance(node, yaml.MappingNode) and _is_union_tag(node, part) and k < len(parts) - 1:
            continue  # pydantic's discriminator tag, e.g. 'onnx' in cameras.x.detector.onnx.imgsz
        if part == "[key]":
            continue  # a bad dict key: the key's own line is already set
        path.append(part)  # a missing field: keep the parent's line
    return ConfigProblem(tuple(path), problem.message, problem.value, line)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def _is_union_tag(node: yaml.MappingNode, part: str | int) -> bool:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "type" and isinstance(value, yaml.ScalarNode):
            return value.value == str(part)
    return False


def duplicate_keys(node: yaml.Node | None, loc: tuple[str | int, ...] = ()) -> Iterator[ConfigProblem]:
    """PyYAML keeps the last of two equal keys silently; an operator must hear about it."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            line = key.start_mark.line + 1
            if name in seen:
                yield ConfigProblem((*loc, name), f"duplicate key (first defined on line {seen[name]}); only the last one would count", line=line)
            seen.setdefault(name, line)
            yield from duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from duplicate_keys(item, (*loc, i))
