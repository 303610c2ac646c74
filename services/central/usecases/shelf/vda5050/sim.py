"""A simulated AMR that speaks VDA 5050 2.0.0 over MQTT (tests and the demo).

It announces itself on ``connection`` (ONLINE, retained; the MQTT last will says CONNECTIONBROKEN),
takes an ``order`` when idle, drives node to node at ``speed_m_s`` (floor metres), runs each node's
actions (``pick``, ``drop``) for ``action_s`` seconds, and publishes ``state`` on every change and
at least every ``state_every_s``. The battery drains per metre; below ``min_battery`` it refuses
orders (a WARNING ``orderError``). ``instantActions`` ``cancelOrder`` stops it: the order's
remaining actions become FAILED and the cancel FINISHED, as the specification says.

Failure modes (``fail``): ``pick`` (the pick action FAILS with a FATAL ``loadHandlingError``),
``drive`` (a FATAL ``navigationError`` on the first edge) and ``offline`` (the connection drops on
the first edge without a goodbye, so the broker sends the last will); ``fail_after`` orders go right
before the failure mode applies.

    anshin shelf robot --serial amr-1 [--fail pick]
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from services.central.usecases.shelf.vda5050.messages import Header, MessageRejected, parse, topic, validate

Failure = Literal["pick", "drive", "offline"]


@dataclass
class _Run:
    order: dict[str, Any]
    next_node: int = 0  # index of the node being driven to
    action_states: dict[str, dict[str, Any]] = field(default_factory=dict)


class SimulatedAMR:
    """One simulated vehicle; :meth:`start` connects and runs it in a thread, :meth:`stop` ends it."""

    def __init__(self, serial: str, host: str = "127.0.0.1", port: int = 1883, prefix: str = "",
                 manufacturer: str = "anshin-sim", speed_m_s: float = 2.0, action_s: float = 0.5,
                 battery: float = 100.0, drain_per_m: float = 0.2, min_battery: float = 15.0,
                 fail: Failure | None = None, state_every_s: float = 1.0, map_id: str = "demo-store",
                 start_at: tuple[float, float] = (3.0, 1.5), fail_after: int = 0,
                 keepalive_s: int = 5) -> None:
        self.serial, self.host, self.port, self.prefix, self.manufacturer = serial, host, port, prefix, manufacturer
        self.speed, self.action_s, self.battery, self.drain = speed_m_s, action_s, battery, drain_per_m
        self.min_battery, self._fail, self.state_every_s, self.map_id = min_battery, fail, state_every_s, map_id
        self.fail_after, self.orders_taken, self.keepalive_s = fail_after, 0, keepalive_s
        self.x, self.y = start_at
        self.last_node, self.last_seq = "", 0
        self.run: _Run | None = None
        self.order_id, self.order_update = "", 0
        self.errors: list[dict[str, Any]] = []
        self.instant_states: dict[str, dict[str, Any]] = {}
        self.driving = False
        self._headers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self.offline = False

    @property
    def fail(self) -> Failure | None:
        """The failure mode, once ``fail_after`` orders went right (demo: the second order fails)."""
        return self._fail if self.orders_taken > self.fail_after else None

    # ------------------------------------------------------------------ MQTT

    def _topic(self, name: str) -> str:
        return topic(self.prefix, self.manufacturer, self.serial, name)

    def _header(self, name: str) -> Header:
        self._headers[name] = self._headers.get(name, -1) + 1
        return Header(self.manufacturer, self.serial, self._headers[name])

    def _connection_message(self, state: str) -> bytes:
        return json.dumps(validate("connection", {**self._header("connection").fields(), "connectionState": state})).encode()

    def start(self) -> SimulatedAMR:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"amr-{self.serial}-{id(self)}")
        client.will_set(self._topic("connection"), self._connection_message("CONNECTIONBROKEN"), qos=1, retain=True)
        client.on_message = self._on_message

        def on_connect(c, _userdata, _flags, _rc, _props=None):  # noqa: ANN001, ANN202 - paho's callback
            c.subscribe([(self._topic("order"), 1), (self._topic("instantActions"), 1)])
            c.publish(self._topic("connection"), self._connection_message("ONLINE"), qos=1, retain=True)

        client.on_connect = on_connect
        client.connect(self.host, self.port, keepalive=self.keepalive_s)  # the broker sends the will 1.5 x this after a drop
        client.loop_start()
        self._client = client
        self._thread = threading.Thread(target=self._loop, name=f"amr-{self.serial}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Say OFFLINE (unless the connection already dropped) and disconnect."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._client is not None and not self.offline:
            self._client.publish(self._topic("connection"), self._connection_message("OFFLINE"), qos=1, retain=True).wait_for_publish(2)
            self._client.disconnect()
        if self._client is not None:
            self._client.loop_stop()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        name = msg.topic.rsplit("/", 1)[-1]
        try:
            message = parse(name, msg.payload)
        except MessageRejected as exc:
            with self._lock:
                self.errors.append({"errorType": "validationError", "errorLevel": "WARNING",
                                    "errorDescription": str(exc)[:200]})
            self._dirty.set()
            return
        with self._lock:
            if name == "order":
                self._take_order(message)
            elif name == "instantActions":
                for action in message["actions"]:
                    self._instant(action)
        self._dirty.set()

    # ------------------------------------------------------------------ behaviour

    def _take_order(self, order: dict[str, Any]) -> None:
        self.errors = [e for e in self.errors if e["errorLevel"] == "FATAL"]  # warnings are per order
        if self.errors:
            self._warn("orderError", f"vehicle has a fatal error; order {order['orderId']} refused")
        elif self.run is not None:
            self._warn("orderError", f"busy with order {self.order_id}")
        elif self.battery < self.min_battery:
            self._warn("orderError", f"battery {self.battery:.0f} % below {self.min_battery:.0f} %")
        else:
            self.run = _Run(order, action_states={
                a["actionId"]: {"actionId": a["actionId"], "actionType": a["actionType"], "actionStatus": "WAITING"}
                for n in order["nodes"] for a in n["actions"]})
            self.order_id, self.order_update = order["orderId"], order["orderUpdateId"]
            self.orders_taken += 1

    def _warn(self, kind: str, text: str) -> None:
        self.errors.append({"errorType": kind, "errorLevel": "WARNING", "errorDescription": text})

    def _instant(self, action: dict[str, Any]) -> None:
        if action["actionType"] != "cancelOrder":
            self.instant_states[action["actionId"]] = {"actionId": action["actionId"], "actionType": action["actionType"],
                                                       "actionStatus": "FAILED", "resultDescription": "not supported"}
            return
        ok = self.run is not None
        if self.run is not None:
            for st in self.run.action_states.values():
                if st["actionStatus"] != "FINISHED":
                    st["actionStatus"] = "FAILED"
            self.run.order["nodes"], self.run.order["edges"] = [], []
            self._finished_actions = dict(self.run.action_states)
            self.run, self.driving = None, False
        self.instant_states[action["actionId"]] = {
            "actionId": action["actionId"], "actionType": "cancelOrder", "actionStatus": "FINISHED" if ok else "FAILED",
            **({} if ok else {"resultDescription": "no order to cancel"})}

    def _loop(self) -> None:
        last_sent, tick = 0.0, 0.05
        while not self._stop.is_set():
            with self._lock:
                self._step(tick)
            now = time.monotonic()
            if self.offline:
                return
            if self._dirty.is_set() or now - last_sent >= self.state_every_s:
                self._dirty.clear()
                self._publish_state()
                last_sent = now
            time.sleep(tick)

    def _step(self, dt: float) -> None:
        run = self.run
        if run is None or self.errors and any(e["errorLevel"] == "FATAL" for e in self.errors):
            self.driving = False
            return
        nodes = run.order["nodes"]
        if run.next_node >= len(nodes):
            self._finished_actions = dict(run.action_states)
            self.run, self.driving = None, False
            self._dirty.set()
            return
        node = nodes[run.next_node]
        pos = node.get("nodePosition", {"x": self.x, "y": self.y})
        dx, dy = pos["x"] - self.x, pos["y"] - self.y
        dist = math.hypot(dx, dy)
        if dist > 1e-6:
            if run.next_node > 0 and self.fail in ("drive", "offline"):
                if self.fail == "offline":
                    self._drop_connection()
                    return
                self.errors.append({"errorType": "navigationError", "errorLevel": "FATAL",
                                    "errorDescription": "path blocked (simulated)"})
                self._dirty.set()
                return
            step = min(dist, self.speed * dt)
            self.x, self.y = self.x + dx / dist * step, self.y + dy / dist * step
            self.battery = max(0.0, self.battery - self.drain * step)
            self.driving = True
            return
        self.driving = False
        if self.last_node != node["nodeId"] or self.last_seq != node["sequenceId"]:
            self.last_node, self.last_seq = node["nodeId"], node["sequenceId"]
            self._dirty.set()
        for action in node["actions"]:
            st = run.action_states[action["actionId"]]
            if st["actionStatus"] == "WAITING":
                st["actionStatus"], st["_t"] = "RUNNING", 0.0
                self._dirty.set()
                return
            if st["actionStatus"] == "RUNNING":
                st["_t"] += dt
                if st["_t"] >= self.action_s:
                    if self.fail == "pick" and action["actionType"] == "pick":
                        st["actionStatus"], st["resultDescription"] = "FAILED", "gripper could not take the load (simulated)"
                        self.errors.append({"errorType": "loadHandlingError", "errorLevel": "FATAL",
                                            "errorDescription": "pick failed (simulated)",
                                            "errorReferences": [{"referenceKey": "actionId", "referenceValue": action["actionId"]}]})
                    else:
                        st["actionStatus"] = "FINISHED"
                    self._dirty.set()
                return
        run.next_node += 1
        self._dirty.set()

    def _drop_connection(self) -> None:
        """Vanish without a goodbye: close the socket so the broker publishes the last will."""
        self.offline = True
        sock = self._client.socket()
        self._client.loop_stop()
        if sock is not None:
            sock.close()

    def state(self) -> dict[str, Any]:
        """The current ``state`` message (validated)."""
        run = self.run
        if run is not None:
            nodes = run.order["nodes"][run.next_node:]
            seq = nodes[0]["sequenceId"] if nodes else 0
            edges = [e for e in run.order["edges"] if e["sequenceId"] > seq - 1]
            actions = list(run.action_states.values())
        else:
            nodes, edges = [], []
            actions = list(getattr(self, "_finished_actions", {}).values())
        actions = [{k: v for k, v in a.items() if not k.startswith("_")} for a in actions]
        return validate("state", {
            **self._header("state").fields(),
            "orderId": self.order_id, "orderUpdateId": self.order_update,
            "lastNodeId": self.last_node, "lastNodeSequenceId": self.last_seq, "driving": self.driving,
            "operatingMode": "AUTOMATIC",
            "nodeStates": [{"nodeId": n["nodeId"], "sequenceId": n["sequenceId"], "released": n["released"]} for n in nodes],
            "edgeStates": [{"edgeId": e["edgeId"], "sequenceId": e["sequenceId"], "released": e["released"]} for e in edges],
            "agvPosition": {"x": round(self.x, 3), "y": round(self.y, 3), "theta": 0.0, "mapId": self.map_id,
                            "positionInitialized": True},
            "actionStates": actions + list(self.instant_states.values()),
            "batteryState": {"batteryCharge": round(self.battery, 2), "charging": False},
            "errors": list(self.errors),
            "safetyState": {"eStop": "NONE", "fieldViolation": False},
        })

    def _publish_state(self) -> None:
        with self._lock:
            message = self.state()
        self._client.publish(self._topic("state"), json.dumps(message).encode(), qos=0)
