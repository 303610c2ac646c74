"""MQTT publisher: outbox → broker, QoS 1, persistent session, one topic per event.

Topic: ``anshin/v1/{store_id}/{camera_id}/{event_type}`` (``services.contract.mqtt_topic``);
payload: the event's contract JSON exactly as queued. An event leaves the outbox only when the
broker acknowledged it (PUBACK, reason code below 0x80); the broker then holds it in the
persistent sessions of central's ingest workers until one of them has stored it.

Rules it keeps, as the HTTP publisher does:

* Broker unreachable, connection lost mid-batch, or PUBACKs not back within ``ack_timeout_s``:
  the events stay queued and the batch is sent again after a backoff with jitter. Central
  deduplicates by event id, so a re-sent event is stored once.
* A PUBACK with a failure reason (e.g. 0x87 not authorised: the store's broker user may not
  write that topic) is a configuration problem: the events stay queued, logged as an error.
* One log line when the broker goes away and one when it is back.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.outbox import Outbox, OutboxItem
from edge.publish.base import OutboxPublisher, TransientError
from services.contract import EdgeStatus, status_topic

log = logging.getLogger(__name__)


def topic_for(body: str) -> str:
    """The topic of a queued event body (same as ``services.contract.mqtt_topic(event)``).

    >>> topic_for('{"store_id": "s1", "camera_id": "c1", "type": "zone.occupancy"}')
    'anshin/v1/s1/c1/zone.occupancy'
    """
    doc = json.loads(body)
    return f"anshin/v1/{doc['store_id']}/{doc['camera_id']}/{doc['type']}"


class MqttPublisher(OutboxPublisher):
    """Publishes the outbox to an MQTT broker.

    Args:
        outbox: the durable queue to drain.
        host, port: the broker; ``tls`` for mqtts.
        client_id: stable and unique per camera (the broker keeps the session under it).
        username, password: broker credentials (one user per store; the ACL limits it to the
            store's topics).
        batch_size: events published before waiting for their PUBACKs.
        ack_timeout_s: how long to wait for those PUBACKs, seconds.
        session_expiry_s: how long the broker keeps this session while disconnected, seconds.
        retry_initial_s, retry_max_s: backoff bounds, seconds (doubling, 50-100 % jitter).
        idle_poll_s: how often an idle publisher looks at the outbox without being notified.
    """

    _log = log

    def __init__(
        self,
        outbox: Outbox,
        host: str,
        port: int,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        keepalive_s: int = 30,
        session_expiry_s: int = 86_400,
        batch_size: int = 500,
        ack_timeout_s: float = 10.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        idle_poll_s: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(outbox, batch_size=batch_size, retry_initial_s=retry_initial_s,
                         retry_max_s=retry_max_s, idle_poll_s=idle_poll_s, rng=rng)
        self.url = f"{'mqtts' if tls else 'mqtt'}://{host}:{port}"
        self.client_id = client_id
        self.ack_timeout_s = ack_timeout_s
        #: Called with the event ids of each batch just before it is published (benchmarks time it).
        self.on_send: Callable[[list[str]], None] | None = None
        #: An HttpPublisher that uploads evidence pictures queued with alerts (see publish/factory.py).
        self.snapshots: Any | None = None
        self._connected = threading.Event()
        self._refused: dict[int, str] = {}  # mid → PUBACK failure reason
        self._connect_error: str | None = None

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.max_inflight_messages_set(max(20, batch_size))
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=int(max(1, retry_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s
        client.connect_async(host, port, keepalive=keepalive_s, clean_start=False, properties=props)
        client.loop_start()
        self._client = client

    @classmethod
    def from_config(cls, outbox: Outbox, store: Any, camera_id: str, **kwargs: Any) -> MqttPublisher:
        """Build from a store config's ``mqtt`` section (password from its environment variable)."""
        cfg = store.mqtt
        return cls(
            outbox, cfg.host, cfg.port, cfg.client_id_for(store.store_id, camera_id),
            username=cfg.username_for(store.store_id), password=cfg.password(), tls=cfg.tls,
            keepalive_s=cfg.keepalive_s, session_expiry_s=cfg.session_expiry_s, batch_size=cfg.batch_size,
            ack_timeout_s=cfg.ack_timeout_s, retry_initial_s=cfg.retry_initial_s, retry_max_s=cfg.retry_max_s,
            **kwargs,
        )

    # ------------------------------------------------------------------ broker callbacks

    def _on_connect(self, _c: object, _u: object, flags: mqtt.ConnectFlags, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            self._connect_error = f"broker refused the connection: {reason} (check the store's broker user and password)"
            log.error("MQTT %s: %s", self.url, self._connect_error)
            return
        self._connect_error = None
        self._connected.set()
        self._wake.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: Any, _p: object) -> None:
        self._connected.clear()
        self._connect_error = f"disconnected: {reason}"

    def _on_publish(self, _c: object, _u: object, mid: int, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            self._refused[mid] = str(reason)

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        if self.snapshots is not None:
            self.snapshots.close()

    # ------------------------------------------------------------------ one batch

    def publish_once(self) -> int:
        """Publish the oldest batch and wait for its PUBACKs; returns how many left the queue.

        Raises:
            TransientError: broker unreachable, or some PUBACKs missing or refused (those stay queued).
        """
        with self._send_lock:
            items = self.outbox.peek(self.batch_size)
            if not items:
                return 0
            if not self._connected.is_set():
                self._fail(items, self._connect_error or f"MQTT broker {self.url} not connected")
            if self.snapshots is not None:
                items = self.snapshots._with_snapshots(items)  # pictures first, their refs into the events
            started = time.perf_counter()
            self.stats.requests += 1
            sent: list[tuple[OutboxItem, mqtt.MQTTMessageInfo]] = []
            dead = 0
            if self.on_send is not None:
                self.on_send([i.event_id for i in items])
            for item in items:
                try:
                    topic = topic_for(item.body)
                except (ValueError, KeyError, TypeError) as exc:
                    if self.outbox.dead_letter(item.event_id, f"queued body has no store/camera/type: {exc}", None):
                        self.stats.dead_lettered += 1
                        dead += 1
                    continue
                info = self._client.publish(topic, item.body, qos=1)
                sent.append((item, info))
            acked, missing, refused = self._await_acks(sent)
            self.stats.post_seconds += time.perf_counter() - started
            done = self.outbox.ack([i.event_id for i in acked]) + dead
            self.stats.delivered += len(acked)
            if missing or refused:
                reason = (f"broker refused {len(refused)} event(s): {refused[0][1]} (check the store's ACL)"
                          if refused else f"{len(missing)} PUBACK(s) missing after {self.ack_timeout_s:.0f} s")
                self._fail([i for i, _ in refused] + missing, reason, error=bool(refused))
            self._came_up()
            return done

    def _await_acks(
        self, sent: list[tuple[OutboxItem, mqtt.MQTTMessageInfo]]
    ) -> tuple[list[OutboxItem], list[OutboxItem], list[tuple[OutboxItem, str]]]:
        deadline = time.monotonic() + self.ack_timeout_s
        acked: list[OutboxItem] = []
        missing: list[OutboxItem] = []
        refused: list[tuple[OutboxItem, str]] = []
        for item, info in sent:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                published = info.is_published()
            except (RuntimeError, ValueError):
                published = False  # not sent (connection lost): it stays queued and goes again
            if not published:
                missing.append(item)
            elif info.mid in self._refused:
                refused.append((item, self._refused.pop(info.mid)))
            else:
                acked.append(item)
        return acked, missing, refused

    def _fail(self, items: list[OutboxItem], reason: str, error: bool = False) -> None:
        self._count_failure(items, reason)
        if self._went_offline():
            self._log_outage(logging.ERROR if error else logging.WARNING, f"MQTT broker {self.url}", reason)
        raise TransientError(reason, category="mqtt")

    def _log_back_up(self, outage_s: float) -> None:
        log.warning("MQTT broker %s reachable again after %.1f s; %d events still queued",
                    self.url, outage_s, self.outbox.depth())

    def _log_first_contact(self) -> None:
        log.info("publishing to MQTT broker %s as %s", self.url, self.client_id)

    # ------------------------------------------------------------------ status

    def send_status(self, status: EdgeStatus) -> None:
        """Publish an edge status report (QoS 1; not waited for: the next one supersedes it)."""
        self._client.publish(status_topic(status), status.model_dump_json(), qos=1)
