"""The published JSON Schema of contract v1: the envelope and every event type's payload.

Each payload model sits under ``$defs``; ``allOf`` holds one ``if type == X then payload is X's
model (and use_case and review_required are X's)`` per type, so a stock JSON Schema validator checks payloads too;
``payload_schemas`` maps each type to its model for readers who want the table.

>>> s = event_json_schema()
>>> s["payload_schemas"]["zone.occupancy"]
{'$ref': '#/$defs/ZoneOccupancyPayload'}
>>> [t for t in s["properties"]["type"]["enum"] if t.startswith("entrance.")]
['entrance.fever_suspected', 'entrance.no_mask']
"""

from __future__ import annotations

from typing import Any

from services.contract import events
from services.contract.registry import EVENT_TYPES

REF = "#/$defs/{model}"


def event_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the v1 event: envelope (``events.event_json_schema``) plus
    the payload model of each registered type."""
    schema = events.event_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    by_type: dict[str, dict[str, str]] = {}
    rules: list[dict[str, Any]] = []
    for name, declared in sorted(EVENT_TYPES.items()):
        model = declared.payload
        body = model.model_json_schema(ref_template=REF)
        for nested, nested_schema in body.pop("$defs", {}).items():
            _define(defs, nested, nested_schema)
        _define(defs, model.__name__, body)
        ref = {"$ref": REF.format(model=model.__name__)}
        by_type[name] = ref
        rules.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"properties": {"payload": ref, "use_case": {"const": declared.use_case.value},
                                    "review_required": {"const": declared.review}}},
        })
    schema["properties"]["type"]["enum"] = sorted(EVENT_TYPES)
    schema["allOf"] = rules
    schema["payload_schemas"] = by_type
    return schema


def _define(defs: dict[str, Any], name: str, body: dict[str, Any]) -> None:
    if name in defs and defs[name] != body:
        raise ValueError(f"two different models are both named {name!r} in the event schema")
    defs[name] = body
