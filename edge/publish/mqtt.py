"""MQTT publisher: outbox → broker, QoS 1, persistent session, one topic per event.

Topic: ``anshin/v1/{store_id}/{camera_id}/{event_type}`` (``services.contract.mqtt_topic``);
payload: the event's contract JSON exactly as queued.

Delivery is end to end: **an event leaves the outbox only when central says it is stored.** A
broker's PUBACK is not a safe store (Mosquitto keeps messages in memory and saves them every
``autosave_interval``; a broker crash in between loses them), and a PUBACK with reason code 0x10
("no matching subscribers": no ingest worker has subscribed yet) means the broker dropped it.

* A PUBACK (reason code 0x00) marks the event *in flight*: it stays in the outbox, is not sent
  again for ``delivery_timeout_s``, and is deleted when central's acknowledgement arrives on
  ``anshin/v1/{store}/{camera}/_ack`` (``services.contract.acks``: sent by central's ingest
  worker after its database commit, naming ids stored now, stored before, or dead-lettered).
* In-flight events are sent again when that timeout passes and whenever the connection to the
  broker is established again (the broker may have lost them). Central deduplicates by event
  id, so a re-sent event is stored once.
* PUBACK 0x10 (no subscribers): the events stay queued (not in flight) and are retried with
  backoff; logged as an error once per outage, not per message.
* Broker unreachable, connection lost mid-batch, or PUBACKs not back within ``ack_timeout_s``:
  the events stay queued and the batch is sent again after a backoff with jitter; a reconnect
  ends the backoff at once.
* A PUBACK with a failure reason (e.g. 0x87 not authorised: the store's broker user may not
  write that topic) is a configuration problem: the events stay queued, logged as an error.
* One log line when the broker goes away and one when it is back.

Evidence pictures go over the same connection, with no second credential
(``services.contract.blobs``): an alert's picture, queued next to it in the outbox, is published
first as its own QoS 1 message (not retained) on ``anshin/v1/{store}/{camera}/_blob/{sha256}``,
and the event goes with ``evidence.snapshot_ref = "sha256:<hex>"``. The event counts as taken by
the broker only when its picture's PUBACK came back too; the picture stays in the outbox until
central acknowledges the event (and is sent again with it), so a re-sent alert brings its picture
along. A picture larger than the broker's message limit is dropped with an error line and the
alert goes without it: a picture never holds an alert back.

TLS: ``mqtts://`` verifies the broker's certificate (against ``ca_file``, e.g. the private CA of
``docker/mosquitto/make-certs.sh``, else the system's CAs) and checks that it names the host.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.outbox import Outbox, OutboxItem
from edge.publish.base import OutboxPublisher, TransientError
from services.contract import EdgeStatus, status_topic
from services.contract.acks import ACK_TOPIC_LEVEL, DeliveryAck, ack_topic
from services.contract.blobs import MAX_BLOB_BYTES, blob_topic, digest, encode_blob, snapshot_ref
from services.shared.config_fields import tls_context

log = logging.getLogger(__name__)

#: PUBACK reason code 0x10: the broker accepted the message but no subscriber matched, so it is gone.
NO_MATCHING_SUBSCRIBERS = 16


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
        host, port: the broker; ``tls`` for mqtts (certificate verified, host name checked).
        ca_file: with ``tls``: PEM file of the CA that signed the broker's certificate (default:
            the system's CAs).
        client_id: stable and unique per camera (the broker keeps the session under it).
        username, password: broker credentials (one user per store; the ACL limits it to the
            store's topics).
        batch_size: events published before waiting for their PUBACKs.
        ack_timeout_s: how long to wait for those PUBACKs, seconds.
        delivery_timeout_s: send an event again when central has not acknowledged storing it
            this long after its PUBACK, seconds.
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
        ca_file: str | Path | None = None,
        keepalive_s: int = 30,
        session_expiry_s: int = 86_400,
        batch_size: int = 500,
        ack_timeout_s: float = 10.0,
        delivery_timeout_s: float = 60.0,
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
        self.delivery_timeout_s = delivery_timeout_s
        #: Called with the event ids of each batch just before it is published (benchmarks time it).
        self.on_send: Callable[[list[str]], None] | None = None
        self._connected = threading.Event()
        self._refused: dict[int, str] = {}  # mid → PUBACK failure reason
        self._connect_error: str | None = None
        self._unrouted: set[int] = set()  # mids the broker answered with 0x10 (no subscribers)
        self._unrouted_since: float | None = None  # monotonic start of a no-subscriber outage
        self._ack_topics: set[str] = set()  # central's acknowledgement topics this edge listens on
        self._ack_lock = threading.Lock()
        self._awaiting: set[str] = set()  # ids marked in flight by this process, until acknowledged
        self._resend_logged = False

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set_context(tls_context(ca_file))  # raises ValueError naming an unreadable ca_file
        client.max_inflight_messages_set(max(20, batch_size))
        client.max_queued_messages_set(0)
        # Reconnect attempts back off too, but never beyond 5 s: a broker that is back should not
        # wait long for an edge (each reconnect then ends the publisher's own backoff at once).
        client.reconnect_delay_set(min_delay=1, max_delay=int(max(1, min(retry_max_s, 5))))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
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
            username=cfg.username_for(store.store_id), password=cfg.password(), tls=cfg.tls, ca_file=cfg.ca_file,
            keepalive_s=cfg.keepalive_s, session_expiry_s=cfg.session_expiry_s, batch_size=cfg.batch_size,
            ack_timeout_s=cfg.ack_timeout_s, delivery_timeout_s=cfg.delivery_timeout_s, retry_initial_s=cfg.retry_initial_s, retry_max_s=cfg.retry_max_s,
            **kwargs,
        )

    # ------------------------------------------------------------------ broker callbacks

    def _on_connect(self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            self._connect_error = f"broker refused the connection: {reason} (check the store's broker user and password)"
            log.error("MQTT %s: %s", self.url, self._connect_error)
            return
        self._connect_error = None
        # The broker may have lost what it PUBACKed (a crash before its next save): everything
        # central has not acknowledged goes again. Subscriptions may be lost with it: renew them.
        with self._ack_lock:
            topics = sorted(self._ack_topics)
            self._awaiting.clear()  # sent again because of this reconnect, not for want of an ack
        for topic in topics:
            client.subscribe(topic, qos=1)
        try:
            released = self.outbox.release_in_flight()
        except Exception:  # noqa: BLE001 - a paho callback must not die; the timeout re-sends them anyway
            log.exception("could not release in-flight events after connecting to %s", self.url)
            released = 0
        if released:
            log.info("connected to MQTT broker %s: sending %d events again that central has not acknowledged yet",
                     self.url, released)
        self._connected.set()
        self._signal_reconnected()

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: Any, _p: object) -> None:
        self._connected.clear()
        self._connect_error = f"disconnected: {reason}"

    def _on_publish(self, _c: object, _u: object, mid: int, reason: Any, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            self._refused[mid] = str(reason)
        elif getattr(reason, "value", None) == NO_MATCHING_SUBSCRIBERS:
            self._unrouted.add(mid)  # "success" to paho, but the broker dropped the message

    def _on_subscribe(self, _c: object, _u: object, _mid: int, reasons: list[Any], _p: object) -> None:
        failed = [str(r) for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            log.error("MQTT broker %s refused the subscription to central's acknowledgements: %s (the store's "
                      "user must be allowed to read anshin/v1/<store>/+/%s); events will be re-sent until then",
                      self.url, failed, ACK_TOPIC_LEVEL)

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        """Central's acknowledgement: delete what it settled (stored, already stored, dead-lettered)."""
        if not message.topic.endswith("/" + ACK_TOPIC_LEVEL):
            return
        try:
            ack = DeliveryAck.model_validate_json(message.payload)
        except ValueError as exc:
            log.warning("ignoring a malformed acknowledgement on %s: %s", message.topic, str(exc)[:300])
            return
        try:
            self._settle(ack)
        except Exception:  # noqa: BLE001 - a paho callback must not die; unsettled events are simply re-sent
            log.exception("could not apply central's acknowledgement of %d events", len(ack.settled()))
        self._wake.set()

    def _settle(self, ack: DeliveryAck) -> None:
        self.stats.delivered += self.outbox.ack(str(i) for i in ack.stored)
        self.stats.duplicates += self.outbox.ack(str(i) for i in ack.duplicates)
        for r in ack.rejected:
            if self.outbox.dead_letter(str(r.event_id), f"central set it aside as a dead letter: {r.reason}", None):
                self.stats.dead_lettered += 1
        with self._ack_lock:
            self._awaiting.difference_update(str(i) for i in ack.settled())
            self._resend_logged = False

    def _listen_for_acks(self, store_id: str, camera_id: str) -> None:
        """Subscribe to central's acknowledgements for this camera (once; renewed on each connect).

        Subscribed before the first publish on the same connection, so the broker has the
        subscription before central can answer."""
        topic = ack_topic(store_id, camera_id)
        with self._ack_lock:
            if topic in self._ack_topics:
                return
            self._ack_topics.add(topic)
        self._client.subscribe(topic, qos=1)

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    # ------------------------------------------------------------------ one batch

    def publish_once(self) -> int:
        """Publish the oldest ready batch and wait for its PUBACKs; returns how many the broker took
        (now in flight until central acknowledges them) plus how many were dead-lettered here.

        Raises:
            TransientError: broker unreachable, or some PUBACKs missing, refused or answered "no
                matching subscribers" (those stay queued, ready to send).
        """
        with self._send_lock:
            items = self.outbox.peek(self.batch_size)
            if not items:
                return 0
            if not self._connected.is_set():
                self._fail(items, self._connect_error or f"MQTT broker {self.url} not connected")
            pictures = self._pictures_for(items)
            self._note_resends(items)
            # PUBACK verdicts of earlier messages (status reports) must not leak onto this batch's
            # mids: forget them before anything of this batch is published.
            self._refused.clear()
            self._unrouted.clear()
            started = time.perf_counter()
            self.stats.requests += 1
            sent: list[tuple[OutboxItem, list[mqtt.MQTTMessageInfo]]] = []
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
                self._listen_for_acks(*topic.split("/")[2:4])
                infos = []
                picture = pictures.get(item.event_id)
                if picture is not None:  # the picture first: it is in the broker before the event refers to it
                    item, topic_of_blob, payload = picture
                    infos.append(self._client.publish(topic_of_blob, payload, qos=1, retain=False))
                    self.stats.extra["snapshots_sent"] = self.stats.extra.get("snapshots_sent", 0) + 1
                infos.append(self._client.publish(topic, item.body, qos=1))
                sent.append((item, infos))
            acked, missing, refused, unrouted = self._await_acks(sent)
            self.stats.post_seconds += time.perf_counter() - started
            # Taken by the broker, not yet stored by central: wait for central's acknowledgement.
            self.outbox.mark_in_flight([i.event_id for i in acked], self.delivery_timeout_s)
            with self._ack_lock:
                self._awaiting.update(i.event_id for i in acked)
            if missing or refused:
                reason = (f"broker refused {len(refused)} event(s): {refused[0][1]} (check the store's ACL)"
                          if refused else f"{len(missing)} PUBACK(s) missing after {self.ack_timeout_s:.0f} s")
                self._fail([i for i, _ in refused] + missing, reason, error=bool(refused))
            if unrouted:
                self._no_subscribers(unrouted)
            self._came_up()
            self._routed_again()
            return len(acked) + dead

    def _note_resends(self, items: list[OutboxItem]) -> None:
        """Warn (once until the next acknowledgement) when events go again because central did not
        acknowledge them in time: central's ingest is down or behind, or the ack topic unreadable."""
        with self._ack_lock:
            resent = sum(1 for i in items if i.event_id in self._awaiting)
            if not resent or self._resend_logged:
                return
            self._resend_logged = True
        log.warning("central has not acknowledged %d event(s) within %.0f s of their PUBACK; sending them again "
                    "(is central's MQTT ingest running, and may this store's user read anshin/v1/<store>/+/%s?)",
                    resent, self.delivery_timeout_s, ACK_TOPIC_LEVEL)

    def _no_subscribers(self, items: list[OutboxItem]) -> None:
        """PUBACK 0x10: nobody subscribed, the broker dropped them; keep them queued, say so once."""
        reason = (f"broker {self.url} has no subscriber for {len(items)} event(s) (PUBACK reason code 0x10 "
                  f"'No matching subscribers': no central ingest worker has subscribed yet)")
        self._count_failure(items, reason)
        if self._unrouted_since is None:
            self._unrouted_since = time.monotonic()
            log.error("%s; %d events stay queued in the outbox, retrying with backoff (up to %.0f s)",
                      reason, self.outbox.depth(), self.retry_max_s)
        raise TransientError(reason, category="mqtt-no-subscribers")

    def _routed_again(self) -> None:
        if self._unrouted_since is not None:
            log.warning("MQTT broker %s routes events to central's ingest again after %.1f s; %d events still queued",
                        self.url, time.monotonic() - self._unrouted_since, self.outbox.depth())
            self._unrouted_since = None

    def _pictures_for(self, items: list[OutboxItem]) -> dict[str, tuple[OutboxItem, str, bytes]]:
        """The pictures queued with these events: event id → (the item with ``evidence.snapshot_ref``
        set, the picture's topic, its payload). The body with the reference is derived again on each
        send, not stored: the picture stays in the outbox until central acknowledges the event."""
        found = self.outbox.blobs_for(i.event_id for i in items)
        out: dict[str, tuple[OutboxItem, str, bytes]] = {}
        for item in items:
            if item.event_id not in found:
                continue
            jpeg, anonymised = found[item.event_id]
            try:
                doc = json.loads(item.body)
                if len(jpeg) > MAX_BLOB_BYTES:
                    raise ValueError(f"the picture has {len(jpeg)} bytes, more than the {MAX_BLOB_BYTES} a message may carry")
                sha = digest(jpeg)
                topic = blob_topic(doc["store_id"], doc["camera_id"], sha)
            except (ValueError, KeyError, TypeError) as exc:
                self.outbox.attach_snapshot(item.event_id, None)  # given up: the alert goes without it
                self.stats.extra["snapshots_dropped"] = self.stats.extra.get("snapshots_dropped", 0) + 1
                log.error("event %s: its evidence picture cannot go over MQTT (%s); sending the event without it",
                          item.event_id, exc)
                continue
            doc["evidence"] = {**(doc.get("evidence") or {}), "snapshot_ref": snapshot_ref(sha)}
            body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
            out[item.event_id] = (replace(item, body=body), topic, encode_blob(jpeg, anonymised))
        return out

    def _await_acks(
        self, sent: list[tuple[OutboxItem, list[mqtt.MQTTMessageInfo]]]
    ) -> tuple[list[OutboxItem], list[OutboxItem], list[tuple[OutboxItem, str]], list[OutboxItem]]:
        """Sort a batch by its PUBACKs: (taken, missing, refused with the reason, dropped for lack of
        subscribers). An event with a picture is taken only when both messages were."""
        deadline = time.monotonic() + self.ack_timeout_s
        acked: list[OutboxItem] = []
        missing: list[OutboxItem] = []
        refused: list[tuple[OutboxItem, str]] = []
        unrouted: list[OutboxItem] = []
        for item, infos in sent:
            verdicts = [self._verdict(info, deadline) for info in infos]
            if "missing" in verdicts:
                missing.append(item)
            elif any(v.startswith("refused:") for v in verdicts):
                refused.append((item, next(v for v in verdicts if v.startswith("refused:")).removeprefix("refused:")))
            elif "unrouted" in verdicts:
                unrouted.append(item)
            else:
                acked.append(item)
        return acked, missing, refused, unrouted

    def _verdict(self, info: mqtt.MQTTMessageInfo, deadline: float) -> str:
        """One message's PUBACK: ``taken``, ``missing``, ``unrouted`` or ``refused:<reason>``."""
        try:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            published = info.is_published()
        except (RuntimeError, ValueError):
            published = False  # not sent (connection lost): it stays queued and goes again
        if not published:
            return "missing"
        if info.mid in self._refused:
            return "refused:" + self._refused.pop(info.mid)
        if info.mid in self._unrouted:
            self._unrouted.discard(info.mid)
            return "unrouted"
        return "taken"

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
