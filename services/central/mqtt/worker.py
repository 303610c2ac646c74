"""Central MQTT ingest worker: ``$share/anshin-ingest/anshin/v1/#`` → the same idempotent ingest as HTTP.

Delivery guarantee (at least once into the database, exactly once as stored rows):

* MQTT 5, persistent session (clean start off, session expiry from settings), QoS 1, and
  **manual acknowledgement**: paho's ``manual_ack`` holds back the PUBACK of each message until
  the transaction that stored it has committed. A worker that dies before that leaves the
  message unacknowledged in its session; the broker sends it again when the worker reconnects.
* Storage is idempotent by ``event_id`` (``INSERT ... ON CONFLICT DO NOTHING``), so a message
  delivered twice (redelivery, or an edge re-publishing after a lost PUBACK) is stored once.
* While the database is unreachable the batch is retried with backoff and nothing is acked; the
  broker stops sending after ``receive_maximum`` unacknowledged messages and queues the rest.
* A malformed message (not JSON, not a valid event, wrong topic for its content) goes to the
  ``ingest_dead_letters`` table with the reason, counted in ``anshin_ingest_dead_letters_total``,
  and is acknowledged: it can never block or crash ingest. If storing a whole batch fails for a
  reason other than the database being away, each event is stored on its own so one bad row
  only dead-letters itself (reason ``store_failed``).
* Several workers in one share group split the messages; each needs its own stable client id.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import exc as sa_exc

from services.central import edges
from services.central.db.session import Database
from services.central.ingest import dead_letters, ingest
from services.central.ingest.dead_letters import Rejected
from services.central.metrics import INGEST_BATCH, observe_ingest
from services.central.mqtt.messages import TRANSPORT, classify
from services.central.mqtt.settings import MqttSettings
from services.central.settings import Settings
from services.contract import EdgeStatus, Event

log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    """Database away or busy (retry later) as opposed to a bad row (set it aside)."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


@dataclass
class IngestStats:
    """Totals since start (thread-safe enough: one writer thread)."""

    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    dead_letters: int = 0
    batches: int = 0
    db_retries: int = 0
    connected: bool = False
    connects: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class MqttIngestWorker:
    """Subscribe, batch, store, then acknowledge.

    Args:
        db: central database.
        settings: central settings (review policy for opened review items).
        mqtt_settings: broker, client id, share group, batch sizes.
        retry_initial_s, retry_max_s: database retry backoff, seconds.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        mqtt_settings: MqttSettings,
        *,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mqtt = mqtt_settings
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.stats = IngestStats()
        self.actor = f"mqtt:{mqtt_settings.client_id}"[:128]
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._subscribed = threading.Event()
        self._client = self._make_client()

    # ------------------------------------------------------------------ broker

    def _make_client(self) -> mqtt.Client:
        m = self.mqtt
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=m.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if m.username:
            client.username_pw_set(m.username, m.password.get_secret_value() if m.password else None)
        if m.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.mqtt.session_expiry_s
        props.ReceiveMaximum = self.mqtt.receive_maximum
        return props

    def _on_connect(self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker %s refused ingest worker %s: %s (check ANSHIN_MQTT_USERNAME/PASSWORD)",
                      self.mqtt.url, self.mqtt.client_id, reason)
            return
        self.stats.connected = True
        self.stats.connects += 1
        log.info("MQTT ingest %s connected to %s (session present: %s); subscribing %s",
                 self.mqtt.client_id, self.mqtt.url, flags.session_present, self.mqtt.subscription)
        client.subscribe(self.mqtt.subscription, qos=1)

    def _on_subscribe(self, _c: object, _u: object, _mid: int, reasons: list[object], _p: object) -> None:
        failed = [r for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            log.error("MQTT broker refused subscription %s: %s (check the ACL)", self.mqtt.subscription, failed)
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self.stats.connected = False
        self._subscribed.clear()
        log.warning("MQTT ingest %s disconnected from %s: %s; reconnecting", self.mqtt.client_id, self.mqtt.url, reason)

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(message)

    def wait_subscribed(self, timeout_s: float) -> bool:
        """True once the subscription is in place (for tests and start-up checks)."""
        return self._subscribed.wait(timeout_s)

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        """Connect in the background (paho's network thread reconnects by itself)."""
        self._client.connect_async(
            self.mqtt.host, self.mqtt.port, keepalive=self.mqtt.keepalive_s,
            clean_start=False, properties=self._connect_properties(),
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def run(self, stop: threading.Event) -> None:
        """Store batches until ``stop`` is set; then disconnect (unacked messages stay with the broker)."""
        self.start()
        try:
            while not stop.is_set():
                batch = self._next_batch(stop)
                if not batch:
                    continue
                try:
                    self.process(batch, stop)
                except Exception:  # noqa: BLE001 - keep ingesting; these stay unacked until a reconnect
                    log.exception("could not store %d MQTT messages; left unacknowledged", len(batch))
        finally:
            self.stop()

    def _next_batch(self, stop: threading.Event) -> list[mqtt.MQTTMessage]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.mqtt.batch_wait_ms / 1000
        while len(batch) < self.mqtt.batch_size and not stop.is_set():
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._inbox.get(timeout=remaining) if remaining > 0 else self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    # ------------------------------------------------------------------ one batch

    def process(self, messages: list[mqtt.MQTTMessage], stop: threading.Event | None = None) -> bool:
        """Classify, store in one transaction, then ack every message. False if stopped before storing."""
        events: list[Event] = []
        statuses: list[EdgeStatus] = []
        rejected: list[Rejected] = []
        for m in messages:
            result = classify(m.topic, m.payload, self.mqtt.max_payload_bytes)
            if isinstance(result, Event):
                events.append(result)
            elif isinstance(result, EdgeStatus):
                statuses.append(result)
            else:
                rejected.append(result)
        failures = 0
        while True:
            started = time.perf_counter()
            now = datetime.now(timezone.utc)
            try:
                stored, rejected_all = self._store(events, statuses, rejected, now)
                break
            except Exception as exc:  # noqa: BLE001 - classify below; ingest must never die
                if not is_transient(exc):
                    raise
                failures += 1
                self.stats.db_retries += 1
                delay = min(self.retry_max_s, self.retry_initial_s * 2 ** min(failures - 1, 10))
                log.warning("database unavailable while storing %d MQTT messages (%s); retry %d in %.1f s, nothing acked",
                            len(messages), type(exc).__name__, failures, delay)
                if stop is not None and stop.wait(delay):
                    return False
                if stop is None:
                    time.sleep(delay)
        INGEST_BATCH.labels(TRANSPORT).observe(time.perf_counter() - started)
        observe_ingest(TRANSPORT, events, stored, now)
        dead_letters.count(rejected_all)
        for m in messages:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)
        s = self.stats
        s.messages += len(messages)
        s.batches += 1
        s.stored += len(stored)
        s.duplicates += len({e.event_id for e in events}) - len(stored)
        s.statuses += len(statuses)
        s.dead_letters += len(rejected_all)
        for r in rejected_all:
            s.reasons[r.reason] = s.reasons.get(r.reason, 0) + 1
            log.warning("MQTT message on %s dead-lettered (%s): %s", r.topic, r.reason, r.detail[:300])
        return True

    def _store(
        self, events: list[Event], statuses: list[EdgeStatus], rejected: list[Rejected], now: datetime
    ) -> tuple[set[object], list[Rejected]]:
        try:
            with self.db.unit_of_work() as session:
                stored = set(ingest(session, events, self.settings, self.actor, now).stored) if events else set()
                edges.upsert(session, statuses, now)
                dead_letters.record(session, rejected, now)
            return stored, rejected
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc) or not events:
                raise
            log.error("storing a batch of %d events failed (%s: %s); storing them one by one",
                      len(events), type(exc).__name__, exc)
        # One bad row must not sink its batch: store one by one, dead-letter what still fails.
        stored = set()
        failed = list(rejected)
        for event in events:
            try:
                with self.db.unit_of_work() as session:
                    stored |= set(ingest(session, [event], self.settings, self.actor, now).stored)
            except Exception as exc:  # noqa: BLE001
                if is_transient(exc):
                    raise
                failed.append(Rejected(TRANSPORT, f"anshin/v1/{event.store_id}/{event.camera_id}/{event.type}",
                                       "store_failed", f"{type(exc).__name__}: {exc}"[:4000],
                                       event.model_dump_json().encode()))
        with self.db.unit_of_work() as session:
            edges.upsert(session, statuses, now)
            dead_letters.record(session, failed, now)
        return stored, failed
