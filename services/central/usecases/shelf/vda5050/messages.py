"""VDA 5050 2.0.0 messages: topics, headers, orders from a floor path, cancelOrder, validation.

Topics follow the specification: ``{interface}/{majorVersion}/{manufacturer}/{serialNumber}/{topic}``
with interface ``uagv`` and major version ``v2``; tests add a unique prefix in front. Every message
is validated against our JSON Schema of its topic (``schemas/<topic>.schema.json``) before it is
sent, and on receipt; a message that does not fit raises :class:`MessageRejected` naming the field.

>>> order = build_order(Header("anshin", "amr-1", 1), "o-1", [("b3", (3.0, 1.5)), ("produce", (3.0, 5.0))],
...                     map_id="demo-store", pick_at="b3", drop_at="produce", load_id="tea x4")
>>> [n["nodeId"] for n in order["nodes"]], [a["actionType"] for n in order["nodes"] for a in n["actions"]]
(['b3', 'produce'], ['pick', 'drop'])
>>> validate("order", order) is order
True
>>> try:
...     validate("connection", {**Header("anshin", "amr-1", 2).fields(), "connectionState": "SLEEPING"})
... except MessageRejected as e:
...     print(e)
connection: connectionState: 'SLEEPING' is not one of ['ONLINE', 'OFFLINE', 'CONNECTIONBROKEN']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Literal

VERSION = "2.0.0"
INTERFACE = "uagv"
MAJOR = "v2"
SCHEMAS = Path(__file__).parent / "schemas"
Topic = Literal["order", "instantActions", "state", "connection"]
TOPICS: tuple[Topic, ...] = ("order", "instantActions", "state", "connection")


class MessageRejected(ValueError):
    """A VDA 5050 message that does not fit its schema (or is not JSON)."""


@cache
def _validator(topic: str):  # noqa: ANN202 - jsonschema's validator class
    import jsonschema

    schema = json.loads((SCHEMAS / f"{topic}.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(topic: str, message: dict[str, Any]) -> dict[str, Any]:
    """``message`` if it fits the topic's schema, else :class:`MessageRejected` with the first problem."""
    if topic not in TOPICS:
        raise MessageRejected(f"unknown VDA 5050 topic {topic!r}; one of {', '.join(TOPICS)}")
    errors = sorted(_validator(topic).iter_errors(message), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(message)"
        raise MessageRejected(f"{topic}: {where}: {e.message}")
    return message


def parse(topic: str, payload: bytes) -> dict[str, Any]:
    """Decode and validate a received payload."""
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageRejected(f"{topic}: not JSON ({exc})") from None
    if not isinstance(message, dict):
        raise MessageRejected(f"{topic}: (message): not a JSON object")
    return validate(topic, message)


def topic(prefix: str, manufacturer: str, serial: str, name: str) -> str:
    """MQTT topic of a vehicle's ``name`` topic.

    >>> topic("", "anshin", "amr-1", "order")
    'uagv/v2/anshin/amr-1/order'
    """
    base = f"{INTERFACE}/{MAJOR}/{manufacturer}/{serial}/{name}"
    return f"{prefix.rstrip('/')}/{base}" if prefix else base


def now_stamp(at: datetime | None = None) -> str:
    """VDA 5050 timestamp: ISO 8601 UTC with milliseconds and ``Z``."""
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Header:
    manufacturer: str
    serial: str
    header_id: int

    def fields(self, at: datetime | None = None) -> dict[str, Any]:
        return {"headerId": self.header_id, "timestamp": now_stamp(at), "version": VERSION,
                "manufacturer": self.manufacturer, "serialNumber": self.serial}


def _action(kind: str, action_id: str, parameters: dict[str, Any] | None = None,
            blocking: str = "HARD") -> dict[str, Any]:
    action: dict[str, Any] = {"actionType": kind, "actionId": action_id, "blockingType": blocking}
    if parameters:
        action["actionParameters"] = [{"key": k, "value": v} for k, v in parameters.items()]
    return action


def build_order(header: Header, order_id: str, path: Sequence[tuple[str, tuple[float, float]]], map_id: str,
                pick_at: str, drop_at: str, load_id: str, update_id: int = 0) -> dict[str, Any]:
    """An order along ``path`` (node id, floor x/y in metres): pick at ``pick_at``, drop at ``drop_at``.

    Nodes get even sequence ids, edges the odd ids between them; everything is released (no horizon).
    """
    if len(path) < 1:
        raise ValueError("an order needs at least one node")
    nodes, edges = [], []
    for i, (node_id, (x, y)) in enumerate(path):
        actions = []
        if node_id == pick_at and not any(a["actionType"] == "pick" for n in nodes for a in n["actions"]):
            actions.append(_action("pick", f"{order_id}-pick", {"loadId": load_id, "stationType": "backroom"}))
        if node_id == drop_at and i == len(path) - 1:
            actions.append(_action("drop", f"{order_id}-drop", {"loadId": load_id, "stationType": "shelf"}))
        nodes.append({"nodeId": node_id, "sequenceId": 2 * i, "released": True,
                      "nodePosition": {"x": float(x), "y": float(y), "mapId": map_id}, "actions": actions})
        if i:
            prev = path[i - 1][0]
            edges.append({"edgeId": f"{prev}--{node_id}", "sequenceId": 2 * i - 1, "released": True,
                          "startNodeId": prev, "endNodeId": node_id, "actions": []})
    order = {**header.fields(), "orderId": order_id, "orderUpdateId": update_id, "nodes": nodes, "edges": edges}
    return validate("order", order)


def cancel_order(header: Header, action_id: str) -> dict[str, Any]:
    """instantActions with one ``cancelOrder``."""
    return validate("instantActions", {**header.fields(), "actions": [_action("cancelOrder", action_id, blocking="NONE")]})


def connection(header: Header, state: str) -> dict[str, Any]:
    return validate("connection", {**header.fields(), "connectionState": state})
