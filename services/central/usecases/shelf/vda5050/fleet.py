"""Central's side of VDA 5050: publishes ``order`` and ``instantActions``, receives ``state`` and
``connection`` of every vehicle of one manufacturer, validated, onto a queue the controller drains.

Messages that do not fit their schema are counted in ``rejected`` (with the last reason) and
dropped: a malformed state never moves a task.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any

from services.central.usecases.shelf.vda5050.messages import (
    INTERFACE,
    MAJOR,
    Header,
    MessageRejected,
    build_order,
    cancel_order,
    parse,
    topic,
)


@dataclass(frozen=True)
class Received:
    """One validated message from a vehicle."""

    kind: str  # "state" or "connection"
    serial: str
    message: dict[str, Any]


class Fleet:
    """MQTT adapter for the vehicles of ``manufacturer`` (under ``prefix``, for tests)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, prefix: str = "", manufacturer: str = "anshin-sim",
                 client_id: str = "anshin-shelf-fleet") -> None:
        self.host, self.port, self.prefix, self.manufacturer, self.client_id = host, port, prefix, manufacturer, client_id
        self.inbox: queue.Queue[Received] = queue.Queue()
        self.rejected = 0
        self.last_rejection = ""
        self._headers: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._client: Any = None
        self._subscribed = threading.Event()

    def _header(self, serial: str, name: str) -> Header:
        with self._lock:
            key = (serial, name)
            self._headers[key] = self._headers.get(key, -1) + 1
            return Header(self.manufacturer, serial, self._headers[key])

    def start(self, timeout_s: float = 5.0) -> Fleet:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        base = f"{self.prefix.rstrip('/')}/" if self.prefix else ""

        def on_connect(c, _userdata, _flags, _rc, _props=None):  # noqa: ANN001, ANN202 - paho's callback
            c.subscribe([(f"{base}{INTERFACE}/{MAJOR}/{self.manufacturer}/+/state", 0),
                         (f"{base}{INTERFACE}/{MAJOR}/{self.manufacturer}/+/connection", 1)])

        client.on_connect = on_connect
        client.on_subscribe = lambda *_a, **_k: self._subscribed.set()
        client.on_message = self._on_message
        client.connect(self.host, self.port, keepalive=10)
        client.loop_start()
        self._client = client
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise ConnectionError(f"no MQTT subscription at {self.host}:{self.port} within {timeout_s} s")
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        parts = msg.topic.split("/")
        kind, serial = parts[-1], parts[-2]
        try:
            message = parse(kind, msg.payload)
        except MessageRejected as exc:
            self.rejected += 1
            self.last_rejection = str(exc)
            return
        if message["serialNumber"] != serial:
            self.rejected += 1
            self.last_rejection = f"{kind}: serialNumber {message['serialNumber']!r} is not the topic's {serial!r}"
            return
        self.inbox.put(Received(kind, serial, message))

    def _publish(self, serial: str, name: str, message: dict[str, Any]) -> None:
        if self._client is None:
            raise ConnectionError("fleet adapter not started")
        info = self._client.publish(topic(self.prefix, self.manufacturer, serial, name), json.dumps(message).encode(), qos=1)
        info.wait_for_publish(5)

    def send_order(self, serial: str, order_id: str, path: list[tuple[str, tuple[float, float]]], map_id: str,
                   pick_at: str, drop_at: str, load_id: str) -> dict[str, Any]:
        """Build, validate and publish an order; returns it."""
        order = build_order(self._header(serial, "order"), order_id, path, map_id, pick_at, drop_at, load_id)
        self._publish(serial, "order", order)
        return order

    def cancel(self, serial: str, action_id: str) -> dict[str, Any]:
        message = cancel_order(self._header(serial, "instantActions"), action_id)
        self._publish(serial, "instantActions", message)
        return message

    def drain(self) -> list[Received]:
        out = []
        while True:
            try:
                out.append(self.inbox.get_nowait())
            except queue.Empty:
                return out
