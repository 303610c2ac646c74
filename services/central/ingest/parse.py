"""Turn a request body into contract events, or into a list of field errors naming each culprit.

Shared by HTTP (and later MQTT): the whole body is validated before anything is stored.

>>> events, errors = parse_body(b'[{"type": "zone.occupancy"}]')
>>> events, [e["loc"] for e in errors][:3]
([], [['body', 0, 'use_case'], ['body', 0, 'store_id'], ['body', 0, 'camera_id']])
>>> parse_body(b'{"schema_version": "2.0", "type": "x.y"}')[1][0]["msg"]
"unsupported schema_version '2.0'; this service accepts: 1.0"
>>> try:
...     parse_body(b'{"a": 1,}')
... except BodyNotJson as refused:
...     print(refused)
body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 9 (char 8)
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from services.contract import MAX_BATCH, SUPPORTED_SCHEMA_VERSIONS, Event

FieldError = dict[str, Any]


class BodyNotJson(ValueError):
    """The body is not JSON at all (HTTP 400)."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def decode_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity (PostgreSQL and the audit digests reject them)."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise BodyNotJson("body is not valid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise BodyNotJson(f"body is not valid JSON: {e}") from None


def _nul_paths(doc: Any, prefix: list[str | int]) -> list[list[str | int]]:
    """Paths of strings (values or keys) holding U+0000, which PostgreSQL cannot store."""
    found: list[list[str | int]] = []
    stack: list[tuple[Any, list[str | int]]] = [(doc, prefix)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                if "\x00" in k:
                    found.append([*path, k])
                stack.append((v, [*path, k]))
        elif isinstance(value, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(value))
    return sorted(found, key=str)


def validate_event(doc: Any, loc: list[str | int]) -> tuple[Event | None, list[FieldError]]:
    """One event, or the errors that name its bad fields under ``loc``."""
    if isinstance(doc, dict) and "schema_version" in doc and doc["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        # Other fields mean nothing under an unknown version: report only the version.
        accepted = ", ".join(sorted(SUPPORTED_SCHEMA_VERSIONS))
        return None, [{
            "loc": [*loc, "schema_version"],
            "msg": f"unsupported schema_version {doc['schema_version']!r}; this service accepts: {accepted}",
            "type": "unsupported_schema_version",
        }]
    try:
        event = Event.model_validate(doc)
    except ValidationError as e:
        return None, [
            {"loc": [*loc, *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in e.errors(include_url=False, include_input=False, include_context=False)
        ]
    nul = _nul_paths(doc, loc)
    if nul:
        return None, [{"loc": p, "msg": "text must not contain U+0000", "type": "string_nul"} for p in nul]
    return event, []


def parse_events(doc: Any) -> tuple[list[Event], list[FieldError]]:
    """One event object or an array of 1..MAX_BATCH; all or nothing."""
    if isinstance(doc, dict):
        items, locs = [doc], [["body"]]
    elif isinstance(doc, list):
        if not 1 <= len(doc) <= MAX_BATCH:
            return [], [{
                "loc": ["body"],
                "msg": f"a batch holds 1 to {MAX_BATCH} events; got {len(doc)}",
                "type": "batch_size",
            }]
        items, locs = doc, [["body", i] for i in range(len(doc))]
    else:
        return [], [{"loc": ["body"], "msg": "expected one event object or an array of events",
                     "type": "model_type"}]
    events: list[Event] = []
    errors: list[FieldError] = []
    for item, loc in zip(items, locs, strict=True):
        event, problems = validate_event(item, loc)
        errors.extend(problems)
        if event is not None:
            events.append(event)
    return (events, []) if not errors else ([], errors)


def parse_body(body: bytes) -> tuple[list[Event], list[FieldError]]:
    """Decode and validate a whole body; raises :class:`BodyNotJson` for non-JSON."""
    return parse_events(decode_json(body))
