"""Readings published on an MQTT topic (paho-mqtt 2.x).

The subscription is made in ``on_connect``, so every (re)connection subscribes again: a broker
that restarted without the session (clean session, or lost persistence) still delivers. The
network loop runs in the thread that iterates :meth:`MqttSensorSource.readings` (no paho
thread), which keeps reconnects under the same :class:`~edge.sources.Backoff` as cameras:
initial delay, doubling, capped, and a :class:`SensorError` naming the sensor, the broker and
the topic once ``max_retries`` attempts in a row failed.

A message whose payload is not a believable value is skipped with one warning naming the
sensor, the topic and what was wrong; the stream goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.sources.sensors.base import InvalidReading, SensorError, SensorReading, checked_value, reconnect
from edge.sources.sensors.config import MqttSensorConfig
from edge.sources.sensors.decode import parse_payload
from edge.sources.video import Backoff

log = logging.getLogger(__name__)


class MqttSensorSource:
    """Iterate readings of one MQTT sensor config (one topic filter, one quantity).

    Attributes:
        reconnects: successful reconnections, for health reports.
        skipped: messages skipped as invalid.
        subscribed: the broker acknowledged the subscription on the current connection.
    """

    def __init__(self, config: MqttSensorConfig) -> None:
        self.config = config
        self.name = config.id
        self.endpoint = f"{'mqtts' if config.tls else 'mqtt'}://{config.host}:{config.port}"
        r = config.reconnect
        self.backoff = Backoff(r.initial_delay_s, r.max_delay_s, r.max_retries)
        self.reconnects = 0
        self.skipped = 0
        self.subscribed = False
        self._plausible = config.plausible_range()
        self._pending: deque[SensorReading] = deque()
        self._connack: Any = None  # reason code of the last CONNACK; None while waiting
        self._refused_subscription: str | None = None
        self._client: mqtt.Client | None = None

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(self, client: mqtt.Client, _u: object, _flags: object, reason: Any, _p: object) -> None:
        self._connack = reason
        if not reason.is_failure:
            client.subscribe(self.config.topic, qos=self.config.qos)

    def _on_subscribe(self, _c: object, _u: object, _mid: int, reasons: list[Any], _p: object) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            self._refused_subscription = ", ".join(failed)
        else:
            self.subscribed = True

    def _on_disconnect(self, _c: object, _u: object, _flags: object, _reason: object, _p: object) -> None:
        self.subscribed = False

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        cfg = self.config
        try:
            value, at = parse_payload(message.payload, cfg.payload, cfg.value_path, cfg.timestamp_path)
            value = checked_value(value, cfg.quantity, self._plausible)
            reading = SensorReading(cfg.id, cfg.quantity, value, cfg.unit, at or datetime.now(timezone.utc), f"{self.endpoint}/{message.topic}")
        except InvalidReading as exc:
            self.skipped += 1
            log.warning("sensor %r: skipped a message on %s: %s", self.name, message.topic, exc)
            return
        self._pending.append(reading)

    # ------------------------------------------------------------------ connection

    def _new_client(self) -> mqtt.Client:
        cfg = self.config
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"anshin-sensor-{cfg.id}"[:128], protocol=mqtt.MQTTv311, clean_session=True
        )
        user, password = cfg.credentials()
        if user or password:
            client.username_pw_set(user, password)
        if cfg.tls:
            client.tls_set_context(cfg.tls_context())  # verified against ca_file or the system CAs, host name checked
        client.connect_timeout = cfg.connect_timeout_s
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _try_connect(self, stop: threading.Event) -> str | None:
        """One connection attempt, up to the CONNACK; None on success, else why it failed."""
        if self._client is None:
            self._client = self._new_client()
        self._connack = None
        self.subscribed = False
        try:
            self._client.connect(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        except (OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"
        deadline = time.monotonic() + self.config.connect_timeout_s
        while self._connack is None and not stop.is_set():
            if time.monotonic() > deadline:
                return f"no CONNACK within {self.config.connect_timeout_s} s"
            rc = self._client.loop(timeout=0.1)
            if rc != mqtt.MQTT_ERR_SUCCESS and self._connack is None:
                return f"connection lost before CONNACK ({mqtt.error_string(rc)})"
        if self._connack is not None and self._connack.is_failure:
            return f"broker refused the connection: {self._connack}"
        return None

    def _reconnect(self, stop: threading.Event, why: str) -> bool:
        """Connect with backoff; True when connected, False when stopped; SensorError when out of retries."""
        try:
            connected = reconnect(self.name, "MQTT broker", self.endpoint, self.backoff, stop, why,
                                  lambda: self._try_connect(stop), detail=f" (topic {self.config.topic})")
        except SensorError as exc:
            self.close()
            raise SensorError(f"{exc}; check the broker, its URL and credentials") from None
        self.reconnects += connected
        return connected

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected():
            client.disconnect()
            if client.socket() is not None:
                client.loop(timeout=0.05)  # let DISCONNECT leave before the socket closes
        # readings already received stay queued: a later readings() call yields them first

    def __enter__(self) -> MqttSensorSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def readings(self, stop: threading.Event | None = None, max_readings: int | None = None) -> Iterator[SensorReading]:
        """Yield readings until ``stop`` is set or ``max_readings`` were yielded.

        Raises:
            SensorError: the broker could not be reached within ``reconnect.max_retries`` attempts,
                or it refused the subscription (an ACL that does not allow the topic).
        """
        stop = stop or threading.Event()
        emitted = 0
        try:
            failure = self._try_connect(stop)
            if failure is not None and not self._reconnect(stop, failure):
                return
            while not stop.is_set() and (max_readings is None or emitted < max_readings):
                if self._pending:
                    emitted += 1
                    yield self._pending.popleft()
                    continue
                if self._refused_subscription is not None:
                    raise SensorError(
                        f"sensor {self.name!r}: MQTT broker {self.endpoint} refused the subscription to {self.config.topic} "
                        f"({self._refused_subscription}); check the broker's ACL for this client"
                    )
                assert self._client is not None
                rc = self._client.loop(timeout=0.2)
                if rc != mqtt.MQTT_ERR_SUCCESS and not self._reconnect(stop, f"connection lost ({mqtt.error_string(rc)})"):
                    return
        finally:
            self.close()
