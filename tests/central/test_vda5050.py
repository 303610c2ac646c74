"""VDA 5050 2.0.0: our messages and the simulated AMR's fit our JSON Schemas (checked with the
``jsonschema`` package), malformed messages are refused by field, the order state machine, and a
cancel through ``instantActions`` against the real Mosquitto (unique topic prefix)."""

from __future__ import annotations

import json
import time
import uuid

import jsonschema
import pytest

from services.central.usecases.shelf.vda5050.fleet import Fleet
from services.central.usecases.shelf.vda5050.messages import (
    SCHEMAS,
    Header,
    MessageRejected,
    build_order,
    cancel_order,
    connection,
    parse,
    validate,
)
from services.central.usecases.shelf.vda5050.orders import OrderStatus, OrderTracker
from services.central.usecases.shelf.vda5050.sim import SimulatedAMR

PATH = [("b3", (3.0, 1.5)), ("produce", (3.0, 5.0)), ("m3", (3.0, 8.0))]


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


@pytest.mark.parametrize("name", ["order", "instantActions", "state", "connection"])
def test_the_schemas_are_valid_json_schemas_and_cite_the_specification(name: str) -> None:
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    assert "VDA 5050 specification, version 2.0.0" in s["description"]
    assert {"headerId", "timestamp", "version", "manufacturer", "serialNumber"} <= set(s["required"])


def test_an_order_from_a_floor_path_fits_the_schema() -> None:
    order = build_order(Header("anshin-sim", "amr-1", 7), "o-1", PATH, "demo-store", "b3", "m3", "spray x4")
    jsonschema.validate(order, schema("order"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert [n["sequenceId"] for n in order["nodes"]] == [0, 2, 4] and [e["sequenceId"] for e in order["edges"]] == [1, 3]
    assert [(e["startNodeId"], e["endNodeId"]) for e in order["edges"]] == [("b3", "produce"), ("produce", "m3")]
    actions = [(n["nodeId"], a["actionType"], a["blockingType"]) for n in order["nodes"] for a in n["actions"]]
    assert actions == [("b3", "pick", "HARD"), ("m3", "drop", "HARD")]
    assert order["version"] == "2.0.0" and order["headerId"] == 7 and order["timestamp"].endswith("Z")


def test_instant_actions_and_connection_fit_their_schemas() -> None:
    for name, message in (("instantActions", cancel_order(Header("m", "amr-1", 0), "c-1")),
                          ("connection", connection(Header("m", "amr-1", 0), "ONLINE"))):
        jsonschema.validate(message, schema(name))


def test_the_simulated_amr_state_fits_the_schema() -> None:
    robot = SimulatedAMR("amr-1")
    jsonschema.validate(robot.state(), schema("state"))


@pytest.mark.parametrize(("topic", "change", "field"), [
    ("order", lambda m: m.pop("orderId"), "'orderId' is a required property"),
    ("order", lambda m: m["nodes"][0].update(sequenceId=1), "nodes/0/sequenceId"),
    ("order", lambda m: m.update(version="1.1.0"), "version"),
    ("order", lambda m: m["nodes"][0]["actions"][0].update(blockingType="MAYBE"), "nodes/0/actions/0/blockingType"),
    ("order", lambda m: m.update(timestamp="2026-11-30 13:00"), "timestamp"),
    ("order", lambda m: m.update(robotName="x"), "Additional properties"),
])
def test_a_malformed_message_is_refused_naming_the_field(topic: str, change, field: str) -> None:  # noqa: ANN001
    message = build_order(Header("m", "amr-1", 0), "o-1", PATH, "demo-store", "b3", "m3", "x")
    change(message)
    with pytest.raises(MessageRejected, match=field):
        validate(topic, message)
    with pytest.raises(jsonschema.ValidationError):  # the stock validator agrees with ours
        jsonschema.validate(message, schema(topic), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_non_json_and_unknown_topics_are_refused() -> None:
    with pytest.raises(MessageRejected, match="not JSON"):
        parse("state", b"\xff{")
    with pytest.raises(MessageRejected, match="not a JSON object"):
        parse("state", b"[1]")
    with pytest.raises(MessageRejected, match="unknown VDA 5050 topic"):
        validate("factsheet", {})


def state(order_id: str = "o-1", nodes: int = 1, actions: dict | None = None, errors: list | None = None,
          last: str = "b3") -> dict:
    return {"orderId": order_id, "lastNodeId": last, "nodeStates": [{"nodeId": f"n{i}"} for i in range(nodes)],
            "edgeStates": [], "errors": errors or [],
            "actionStates": [{"actionId": a, "actionStatus": s} for a, s in (actions or {}).items()]}


ACTIONS = {"o-1-pick", "o-1-drop"}


def test_order_state_machine_happy_path() -> None:
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    assert t.on_state(state("other"), 1.0) == OrderStatus.SENT  # still on another order
    assert t.on_state(state(nodes=2, actions={"o-1-pick": "RUNNING"}), 2.0) == OrderStatus.RUNNING
    assert t.on_state(state(nodes=0, actions={"o-1-pick": "FINISHED"}), 3.0) == OrderStatus.RUNNING  # drop not done
    assert t.on_state(state(nodes=0, actions={"o-1-pick": "FINISHED", "o-1-drop": "FINISHED"}), 4.0) == OrderStatus.FINISHED
    assert t.on_state(state(errors=[{"errorType": "x", "errorLevel": "FATAL"}]), 5.0) == OrderStatus.FINISHED  # final


def test_order_state_machine_failures_and_timeouts() -> None:
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    assert t.on_state(state(errors=[{"errorType": "orderError", "errorLevel": "WARNING"}]), 1.0) == OrderStatus.RUNNING
    assert t.on_state(state(errors=[{"errorType": "navigationError", "errorLevel": "FATAL"}]), 2.0) == OrderStatus.FAILED
    assert t.reason == "navigationError"
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    assert t.on_state(state(actions={"o-1-pick": "FAILED"}), 1.0) == OrderStatus.FAILED
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    assert t.expire(9.0, accept_timeout_s=10, progress_timeout_s=30) == OrderStatus.SENT
    assert t.expire(11.0, accept_timeout_s=10, progress_timeout_s=30) == OrderStatus.TIMED_OUT and t.reason == "not accepted"
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    t.on_state(state(nodes=2, last="b3"), 1.0)
    t.on_state(state(nodes=2, last="b3"), 20.0)  # the same place: no progress
    assert t.expire(32.0, accept_timeout_s=10, progress_timeout_s=30) == OrderStatus.TIMED_OUT and t.reason == "no progress"


def test_order_state_machine_cancel() -> None:
    t = OrderTracker("o-1", ACTIONS, sent_at=0.0)
    t.on_state(state(nodes=2), 1.0)
    assert t.cancel("c-1") == OrderStatus.CANCELLING
    # the vehicle marks the order's actions FAILED when cancelled: that is not a failure
    assert t.on_state(state(nodes=0, actions={"o-1-pick": "FAILED"}), 2.0) == OrderStatus.CANCELLING
    assert t.on_state(state(nodes=0, actions={"o-1-pick": "FAILED", "c-1": "FINISHED"}), 3.0) == OrderStatus.CANCELLED


def test_cancel_through_instant_actions_over_mqtt() -> None:
    prefix = f"test-vda-{uuid.uuid4().hex[:10]}"
    fleet = Fleet(prefix=prefix, client_id=f"fleet-{prefix}").start()
    robot = SimulatedAMR("amr-1", prefix=prefix, speed_m_s=1.0, state_every_s=0.2).start()  # slow: still driving
    try:
        seen: list[dict] = []
        # The vehicle says ONLINE after subscribing to its order topic: once the fleet hears it, an order reaches it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(m.get("connectionState") == "ONLINE" for m in seen):
            seen += [m.message for m in fleet.drain()]
            time.sleep(0.05)
        assert any(m.get("connectionState") == "ONLINE" for m in seen), seen
        fleet.send_order("amr-1", "o-1", PATH, "demo-store", "b3", "m3", "x")
        tracker = OrderTracker("o-1", ACTIONS, time.monotonic())

        def pump(until: OrderStatus, timeout_s: float = 5.0) -> OrderStatus:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and tracker.status != until:
                for m in fleet.drain():
                    seen.append(m.message)
                    if m.kind == "state":
                        tracker.on_state(m.message, time.monotonic())
                time.sleep(0.05)
            return tracker.status

        assert pump(OrderStatus.RUNNING) == OrderStatus.RUNNING
        fleet.cancel("amr-1", "c-1")
        tracker.cancel("c-1")
        assert pump(OrderStatus.CANCELLED) == OrderStatus.CANCELLED
        assert fleet.rejected == 0, fleet.last_rejection
        last = [m for m in seen if "actionStates" in m][-1]
        assert last["nodeStates"] == [] and not last["driving"]
        for m in seen:  # everything the vehicle said fits our schemas, as the stock validator sees it
            jsonschema.validate(m, schema("state" if "actionStates" in m else "connection"))
    finally:
        robot.stop()
        fleet.stop()
