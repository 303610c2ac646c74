"""Turn a request body into contract events, or into a list of field errors naming each culprit.

Shared by HTTP and MQTT: the whole body is validated before anything is stored.

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
import math
from typing import Any

from pydantic import ValidationError

from services.contract import MAX_BATCH, SUPPORTED_SCHEMA_VERSIONS, Event
from services.contract.registry import validate_event_payload
from services.contract.types import PayloadRejected

FieldError = dict[str, Any]


class BodyNotJson(ValueError):
    """The body is not JSON at all (HTTP 400)."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def decode_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity (PostgreSQL and the audit digests reject them), at
    most 4300 digits per integer and about 1000 levels of nesting (else 400). What parses but
    cannot be stored or shown (2**60, 1e999, "\\ud800", 500 levels) is :func:`hostile_parts`'s
    job, which names the field (422)."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise BodyNotJson("body is not valid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise BodyNotJson(f"body is not valid JSON: {e}") from None


#: Deepest nesting of arrays and objects accepted in an event (the envelope itself is level 0).
#: Real payloads are a few levels deep; hundreds of levels only exhaust recursion further on.
MAX_DEPTH = 32
#: Largest magnitude of a number: 2**53, beyond which JSON readers (JavaScript, many databases'
#: float columns) silently round, and past which ``float()`` of an int may overflow.
MAX_NUMBER = 2**53
#: Problems reported per event; the rest are summed up in one line.
MAX_PROBLEMS = 20


def _text_problem(text: str) -> tuple[str, str] | None:
    """Why PostgreSQL (or any UTF-8 consumer) could not store ``text``, if it could not."""
    if "\x00" in text:
        return "text must not contain U+0000", "string_nul"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "text must not contain lone surrogates (e.g. \\ud800): not valid Unicode", "string_surrogate"
    return None


def _number_problem(value: int | float) -> tuple[str, str] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite (this one overflows a 64-bit float)", "number_range"
    if abs(value) > MAX_NUMBER:
        return f"numbers must lie within ±2**53 ({MAX_NUMBER})", "number_range"
    return None


def hostile_parts(doc: Any, prefix: list[str | int]) -> list[FieldError]:
    """Errors for the parts of a decoded JSON document that no store or page can take: nesting
    deeper than :data:`MAX_DEPTH`, numbers beyond ±2**53 or not finite, text with U+0000 or lone
    surrogates (keys included). Iterative, and it never descends past the depth limit, so it is
    safe on any document :func:`decode_json` returns.

    >>> [e["loc"] for e in hostile_parts({"a": [1, 2**60], "b\\x00": "x", "c": 1e999}, ["body"])]
    [['body', 'a', 1], ['body', 'b\\x00'], ['body', 'c']]
    >>> hostile_parts(json.loads("[" * 40 + "]" * 40), [])[0]["msg"]
    'nested deeper than 32 levels of arrays and objects'
    """
    found: list[FieldError] = []
    stack: list[tuple[Any, list[str | int], int]] = [(doc, prefix, 0)]
    while stack:
        value, path, depth = stack.pop()
        problem: tuple[str, str] | None = None
        if isinstance(value, str):
            problem = _text_problem(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = _number_problem(value)
        elif isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
            problem = (f"nested deeper than {MAX_DEPTH} levels of arrays and objects", "too_deep")
        elif isinstance(value, dict):
            for k, v in value.items():
                key_problem = _text_problem(k)
                if key_problem:
                    found.append({"loc": [*path, k], "msg": key_problem[0], "type": key_problem[1]})
                stack.append((v, [*path, k], depth + 1))
        elif isinstance(value, list):
            stack.extend((v, [*path, i], depth + 1) for i, v in enumerate(value))
        if problem:
            found.append({"loc": path, "msg": problem[0], "type": problem[1]})
    found.sort(key=lambda e: str(e["loc"]))
    if len(found) > MAX_PROBLEMS:
        more = len(found) - MAX_PROBLEMS
        found = [*found[:MAX_PROBLEMS], {"loc": prefix, "msg": f"and {more} more such problems", "type": "more"}]
    return found


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
    hostile = hostile_parts(doc, loc)
    if hostile:  # before pydantic: it must never see a 900-level document or an unstorable value
        return None, hostile
    try:
        event = Event.model_validate(doc)
    except ValidationError as e:
        return None, [
            {"loc": [*loc, *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in e.errors(include_url=False, include_input=False, include_context=False)
        ]
    try:
        validate_event_payload(event)  # a registered type, its use case, its payload model
    except PayloadRejected as e:
        return None, [{**err, "loc": [*loc, *err["loc"]]} for err in e.errors]
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
