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
* Every message is classified on its own: a malformed one (not JSON, not a valid event, wrong
  topic for its content), and any message whose parsing or validation raises *anything*, goes
  to the ``ingest_dead_letters`` table with the reason, counted in
  ``anshin_ingest_dead_letters_total``, and is acknowledged: one poison message never holds back
  the others in its batch. If storing a whole batch fails for a reason other than the database
  being away, each event is stored on its own so one bad row only dead-letters itself (reason
  ``store_failed``). Should handling a batch still fail, each of its messages is handled on its
  own: the worker never stalls on a batch.
* **End-to-end acknowledgement to the edges** (``services.contract.acks``): after the commit, the
  worker publishes one :class:`~services.contract.acks.DeliveryAck` (QoS 1) per sending camera on
  ``anshin/v1/{store}/{camera}/_ack``, naming the ids stored now, those already stored, and those
  dead-lettered. Edges delete an event only then, never on the broker's PUBACK, so a broker that
  loses messages it had accepted (a crash before its next save) loses nothing: the edge sends
  them again. These acknowledgements match the ingest subscription too; the worker skips them.
* **Evidence pictures** arrive as their own messages on ``anshin/v1/{store}/{camera}/_blob/{sha256}``
  (``services.contract.blobs``), published by the edge just before the alert that refers to them
  (``evidence.snapshot_ref = "sha256:<hex>"``). They are stored through the snapshot service
  (JPEG check, size limit ``ANSHIN_SNAPSHOT_MAX_BYTES``, the store's privacy profile, the
  ``snapshot.upload`` audit entry; actor ``mqtt:<store>``), idempotently by digest, in the same
  transaction as the events of their batch. An event is stored whether or not its picture has
  arrived: with several workers, picture and event may reach different workers in either order,
  and the reference resolves as soon as the picture is stored. A picture central refuses is a
  dead letter (for a ``minimal`` store without its bytes: central keeps no images for it).
  Known limit: the edge forgets a picture once its event is acknowledged. Should the broker crash
  between delivering the event to one worker and the picture to another, before its next save,
  the picture is lost while the event is kept (its reference then shows no picture).
* Several workers in one share group split the messages; each needs its own stable client id.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from services.central import edges
from services.central.db.session import Database
from services.central.ingest import dead_letters, ingest
from services.central.ingest.dead_letters import Rejected
from services.central.metrics import INGEST_BATCH, observe_ingest
from services.central.mqtt.messages import TRANSPORT, BlobMessage, classify, is_control_topic, sender_of
from services.central.mqtt.settings import MqttSettings
from services.central.settings import Settings
from services.central.snapshots import service as snapshots
from services.central.stores import get_profile
from services.contract import EdgeStatus, Event
from services.contract.acks import DeliveryAck, RejectedId, ack_topic

#: How one message becomes an event, a status report, a picture or a dead letter (``messages.classify``).
Classifier = Callable[[str, bytes, int], "Event | EdgeStatus | BlobMessage | Rejected"]

log = logging.getLogger(__name__)


class DatabaseAway(Exception):
    """The database became unreachable part-way through handling a batch (retry it later)."""


def is_transient(exc: BaseException) -> bool:
    """Database away or busy (retry later) as opposed to a bad row (set it aside)."""
    if isinstance(exc, (DatabaseAway, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
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
    acks_sent: int = 0  # DeliveryAck messages published to edges
    pictures: int = 0  # evidence pictures (blob messages) stored or already stored
    isolated_batches: int = 0  # batches that failed as a whole and were handled message by message
    reasons: dict[str, int] = field(default_factory=dict)


class MqttIngestWorker:
    """Subscribe, batch, store, then acknowledge.

    Args:
        db: central database.
        settings: central settings (review policy for opened review items).
        mqtt_settings: broker, client id, share group, batch sizes.
        retry_initial_s, retry_max_s: database retry backoff, seconds.
        classifier: turns one message into an event, a status or a dead letter (default
            :func:`~services.central.mqtt.messages.classify`); whatever it raises dead-letters
            only that message.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        mqtt_settings: MqttSettings,
        *,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
        classifier: Classifier = classify,
    ) -> None:
        self.db = db
        self.classifier = classifier
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
            client.tls_set_context(m.tls_context())  # certificate verified, host name checked
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
                except Exception:  # noqa: BLE001 - never stall on a batch: handle its messages one by one
                    log.exception("handling a batch of %d MQTT messages failed; handling each on its own", len(batch))
                    self.stats.isolated_batches += 1
                    for message in batch:
                        self._process_alone(message, stop)
        finally:
            self.stop()

    def _process_alone(self, message: mqtt.MQTTMessage, stop: threading.Event) -> None:
        """One message of a failed batch; if even that fails, keep it as a dead letter (or, when the
        database will not take that either, in the log with its payload) and acknowledge it."""
        try:
            self.process([message], stop)
            return
        except Exception as exc:  # noqa: BLE001 - the last resort below keeps the message
            log.exception("handling one MQTT message on %s failed", message.topic)
            letter = Rejected(TRANSPORT, message.topic, "store_failed", f"{type(exc).__name__}: {exc}"[:4000],
                              bytes(message.payload))
        if not self._record_dead_letters([letter], datetime.now(timezone.utc)):
            return  # the database is away: left unacknowledged, the broker sends it again
        dead_letters.count([letter])
        self.stats.dead_letters += 1
        self._ack_broker([message])

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
        """Classify each message, store in one transaction, ack every message to the broker, then
        tell each sending edge what is settled. False if stopped before storing (nothing acked)."""
        events: list[Event] = []
        statuses: list[EdgeStatus] = []
        pictures: list[BlobMessage] = []
        rejected: list[Rejected] = []
        for m in messages:
            if is_control_topic(m.topic):
                continue  # an ack to an edge or a command/result, seen through anshin/v1/#: not ours
            result = self._classify(m.topic, bytes(m.payload))
            if isinstance(result, Event):
                events.append(result)
            elif isinstance(result, EdgeStatus):
                statuses.append(result)
            elif isinstance(result, BlobMessage):
                pictures.append(result)
            else:
                rejected.append(result)
        failures = 0
        while True:
            started = time.perf_counter()
            now = datetime.now(timezone.utc)
            try:
                stored, rejected_all, failed = self._store(events, statuses, rejected, now, pictures)
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
        self._ack_broker(messages)
        self._ack_edges(events, stored, failed, rejected_all)
        s = self.stats
        s.messages += len(messages)
        s.batches += 1
        s.stored += len(stored)
        s.duplicates += len({e.event_id for e in events} - stored - failed)
        s.statuses += len(statuses)
        refused_topics = {r.topic for r in rejected_all}
        s.pictures += sum(1 for p in pictures if p.topic not in refused_topics)
        s.dead_letters += len(rejected_all)
        for r in rejected_all:
            s.reasons[r.reason] = s.reasons.get(r.reason, 0) + 1
            log.warning("MQTT message on %s dead-lettered (%s): %s", r.topic, r.reason, r.detail[:300])
        return True

    def _classify(self, topic: str, payload: bytes) -> Event | EdgeStatus | Rejected:
        """One message's verdict; ANY exception while parsing or validating it dead-letters only it."""
        try:
            return self.classifier(topic, payload, self.mqtt.max_payload_bytes)
        except Exception as exc:  # noqa: BLE001 - a poison message must not sink its batch
            log.error("classifying an MQTT message on %s raised %s: %s", topic, type(exc).__name__, str(exc)[:300])
            return Rejected(TRANSPORT, topic, "invalid_event",
                            f"validating this message raised {type(exc).__name__}: {exc}"[:4000], payload)

    def _ack_broker(self, messages: list[mqtt.MQTTMessage]) -> None:
        """PUBACK to the broker: these messages are handled (stored, duplicate or dead-lettered)."""
        for m in messages:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)

    def _ack_edges(self, events: list[Event], stored: set[UUID], failed: set[UUID], rejected: list[Rejected]) -> None:
        """Publish one DeliveryAck per sending camera (after the commit; QoS 1, not waited for: an
        edge that misses it sends the events again, and they come back as duplicates)."""
        acks: dict[tuple[str, str], DeliveryAck] = {}

        def ack_for(store: str, camera: str) -> DeliveryAck:
            return acks.setdefault((store, camera), DeliveryAck.model_construct(
                v=1, store_id=store, camera_id=camera, stored=[], duplicates=[], rejected=[]))

        settled: set[UUID] = set()
        for e in events:
            if e.event_id in failed or e.event_id in settled:
                continue
            settled.add(e.event_id)
            ack = ack_for(e.store_id, e.camera_id)
            (ack.stored if e.event_id in stored else ack.duplicates).append(e.event_id)
        for r in rejected:
            sender = sender_of(r)
            if sender is None or sender[2] in settled:
                continue  # no id to name, or a valid copy of that event was stored
            settled.add(sender[2])
            ack_for(sender[0], sender[1]).rejected.append(RejectedId(event_id=sender[2], reason=r.reason))
        for (store, camera), ack in acks.items():
            try:
                body = DeliveryAck.model_validate(ack.model_dump()).model_dump_json()  # checks the identifiers
                self._client.publish(ack_topic(store, camera), body, qos=1)
                self.stats.acks_sent += 1
            except Exception as exc:  # noqa: BLE001 - the edge re-sends after its timeout; ingest goes on
                log.warning("could not acknowledge %d events to %s/%s: %s", len(ack.settled()), store, camera, exc)

    def _store_pictures(self, session: Session, pictures: list[BlobMessage], now: datetime) -> list[Rejected]:
        """Store evidence pictures through the snapshot service (idempotent by digest; the caller
        commits); returns the ones it refuses, as dead letters."""
        refused: list[Rejected] = []
        blobs = snapshots.blob_store(self.settings.data_dir)
        for p in pictures:
            if len(p.jpeg) > self.settings.snapshot_max_bytes:
                refused.append(Rejected(TRANSPORT, p.topic, "too_large", f"evidence picture of {len(p.jpeg)} bytes; "
                                        f"ANSHIN_SNAPSHOT_MAX_BYTES is {self.settings.snapshot_max_bytes}", p.jpeg))
                continue
            upload = snapshots.Upload(p.jpeg, p.store_id, p.camera_id, "evidence", p.anonymised)
            try:
                profile = get_profile(session, p.store_id, self.settings)
                snapshots.accept(session, blobs, upload, profile, f"mqtt:{p.store_id}"[:128], now,
                                 self.settings.live_snapshots_kept)
            except snapshots.SnapshotRejected as e:
                # Refused before anything was written. A store whose profile keeps no images must not
                # have them kept as dead letters either: the reason, not the bytes.
                keep = b"" if e.status == 403 else p.jpeg
                refused.append(Rejected(TRANSPORT, p.topic, "invalid_event", f"evidence picture refused: {e}", keep))
        return refused

    def _store(
        self, events: list[Event], statuses: list[EdgeStatus], rejected: list[Rejected], now: datetime,
        pictures: list[BlobMessage] | None = None,
    ) -> tuple[set[UUID], list[Rejected], set[UUID]]:
        """Store a batch: ``(ids newly stored, every dead letter, ids of events that failed to store)``."""
        pictures = pictures or []
        try:
            with self.db.unit_of_work() as session:
                refused = self._store_pictures(session, pictures, now)
                stored = set(ingest(session, events, self.settings, self.actor, now).stored) if events else set()
                edges.upsert(session, statuses, now)
                dead_letters.record(session, rejected + refused, now)
            return stored, rejected + refused, set()
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc):
                raise
            log.error("storing a batch of %d events, %d statuses and %d dead letters failed (%s: %s); "
                      "storing them one by one", len(events), len(statuses), len(rejected), type(exc).__name__, exc)
        # One bad row must not sink its batch: store one by one, dead-letter what still fails.
        stored = set()
        failed_ids: set[UUID] = set()
        failed = list(rejected)
        for picture in pictures:
            try:
                with self.db.unit_of_work() as session:
                    failed += self._store_pictures(session, [picture], now)
            except Exception as exc:  # noqa: BLE001
                if is_transient(exc):
                    raise
                failed.append(Rejected(TRANSPORT, picture.topic, "store_failed", f"{type(exc).__name__}: {exc}"[:4000],
                                       picture.jpeg))
        for event in events:
            try:
                with self.db.unit_of_work() as session:
                    stored |= set(ingest(session, [event], self.settings, self.actor, now).stored)
            except Exception as exc:  # noqa: BLE001
                if is_transient(exc):
                    raise
                failed_ids.add(event.event_id)
                failed.append(Rejected(TRANSPORT, f"anshin/v1/{event.store_id}/{event.camera_id}/{event.type}",
                                       "store_failed", f"{type(exc).__name__}: {exc}"[:4000],
                                       event.model_dump_json().encode()))
        for status in statuses:  # superseded by the next report in seconds: log, never block on one
            try:
                with self.db.unit_of_work() as session:
                    edges.upsert(session, [status], now)
            except Exception as exc:  # noqa: BLE001
                if is_transient(exc):
                    raise
                log.error("could not store the status of %s/%s: %s", status.store_id, status.camera_id, exc)
        if not self._record_dead_letters(failed, now):
            raise DatabaseAway("the database went away while recording dead letters")
        return stored, failed, failed_ids

    def _record_dead_letters(self, letters: list[Rejected], now: datetime) -> bool:
        """Record dead letters (together, else one by one); one the database refuses even alone is
        logged with its payload instead. False when the database is unreachable."""
        if not letters:
            return True
        try:
            with self.db.unit_of_work() as session:
                dead_letters.record(session, letters, now)
            return True
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc):
                return False
            if len(letters) == 1:
                r = letters[0]
                log.error("could not record a dead letter (%s: %s); keeping it here instead: transport=%s topic=%r "
                          "reason=%s detail=%r payload_base64=%s", type(exc).__name__, exc, r.transport, r.topic,
                          r.reason, r.detail[:1000], base64.b64encode(r.payload[:65536]).decode())
                return True
        return all([self._record_dead_letters([r], now) for r in letters])
