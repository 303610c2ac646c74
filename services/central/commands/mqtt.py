"""Central's side of the MQTT command channels.

* :func:`publish_commands`: each command on ``anshin/v1/{store}/{device}/_cmd``, QoS 1, and which
  of them the broker acknowledged (PUBACK below 0x80). A short-lived connection per call:
  commands are rare, and the API process then holds no broker state.
* :class:`CommandResultListener` (``anshin commands listen``): subscribes to every device's
  ``_cmd_result`` (shared subscription, persistent session, QoS 1, manual acks), stores each
  report with its audit entry and only then acknowledges it, so a listener that dies mid-way gets
  the report again; storage is idempotent per (command, status). A report that cannot be stored
  (not JSON, not a result, another device's topic, an unknown command) is kept in
  ``ingest_dead_letters`` with the reason and acknowledged: it never blocks the channel. It also
  publishes, every ``republish_every_s``, the pending commands the API could not publish.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from services.central.commands import service
from services.central.commands.settings import CommandSettings
from services.central.db.session import Database
from services.central.ingest import dead_letters
from services.central.ingest.dead_letters import Rejected
from services.central.mqtt.worker import is_transient
from services.contract.commands import RESULT_TOPIC_LEVEL, Command, CommandResult, command_topic, parse_command_channel

log = logging.getLogger(__name__)
TRANSPORT = "mqtt"


def _client(settings: CommandSettings, client_id: str, **kwargs: object) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kwargs)  # type: ignore[arg-type]
    if settings.username:
        client.username_pw_set(settings.username, settings.password.get_secret_value() if settings.password else None)
    if settings.tls:
        client.tls_set_context(settings.tls_context())  # certificate verified, host name checked
    return client


def publish_commands(settings: CommandSettings, commands: Sequence[Command]) -> list[UUID]:
    """Publish ``commands`` (QoS 1) and return the ids the broker acknowledged; never raises:
    a broker that is away or refuses is logged, and those commands wait for the listener's
    republish or the device's HTTP long-poll."""
    if not commands or settings.mqtt_url is None:
        return []
    connected = threading.Event()
    refused: dict[int, str] = {}
    connect_error: list[str] = []

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            connect_error.append(str(reason))
        connected.set()

    def on_publish(_c: object, _u: object, mid: int, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            refused[mid] = str(reason)

    client = _client(settings, f"anshin-central-cmd-{secrets.token_hex(6)}")
    client.on_connect = on_connect
    client.on_publish = on_publish
    published: list[UUID] = []
    try:
        client.connect(settings.host, settings.port, keepalive=settings.keepalive_s)
        client.loop_start()
        if not connected.wait(settings.publish_timeout_s) or connect_error:
            log.error("commands: broker %s %s; %d command(s) left for republish or the HTTP long-poll",
                      settings.mqtt_url, f"refused the connection: {connect_error[0]}" if connect_error else "did not answer",
                      len(commands))
            return []
        sent = [(c, client.publish(command_topic(c.store_id, c.device_id), c.model_dump_json(), qos=1)) for c in commands]
        deadline = time.monotonic() + settings.publish_timeout_s
        for command, info in sent:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                log.error("commands: publishing %s failed: %s", command.command_id, exc)
                continue
            if info.is_published() and info.mid not in refused:
                published.append(command.command_id)
            else:
                log.error("commands: broker did not take command %s on %s: %s", command.command_id,
                          command_topic(command.store_id, command.device_id), refused.get(info.mid, "no PUBACK in time"))
    except OSError as exc:
        log.error("commands: broker %s unreachable (%s); %d command(s) left for republish or the HTTP long-poll",
                  settings.mqtt_url, exc, len(commands))
    finally:
        client.disconnect()
        client.loop_stop()
    return published


def publish_and_mark(db: Database, settings: CommandSettings, commands: Sequence[Command]) -> list[UUID]:
    """Publish, then record ``published_at`` of what the broker took."""
    published = publish_commands(settings, commands)
    if published:
        with db.unit_of_work() as session:
            service.mark_published(session, published, datetime.now(timezone.utc))
    return published


def classify_result(topic: str, payload: bytes, max_bytes: int) -> tuple[str, CommandResult] | Rejected:
    """The store and report of one ``_cmd_result`` message, or why it is refused (never raises).

    >>> classify_result("anshin/v1/s1/fan-1/_cmd_result", b"{oops", 1024).reason
    'not_json'
    >>> classify_result("anshin/v1/s1/fan-1/zone.occupancy", b"{}", 1024).reason
    'bad_topic'
    """
    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(TRANSPORT, topic, reason, detail, payload)

    if len(payload) > max_bytes:
        return reject("too_large", f"{len(payload)} bytes; the limit is {max_bytes}")
    channel = parse_command_channel(topic)
    if channel is None or channel[2] != RESULT_TOPIC_LEVEL:
        return reject("bad_topic", f"expected anshin/v1/{{store_id}}/{{device_id}}/{RESULT_TOPIC_LEVEL}")
    store, device, _ = channel
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return reject("not_json", f"payload is not JSON: {exc}")
    try:
        result = CommandResult.model_validate(doc)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return reject("invalid_event", "not a command result: " + json.dumps(errors, default=str)[:3900])
    if result.device_id != device:
        return reject("topic_mismatch", f"topic device {device!r} but result device_id {result.device_id!r}")
    return store, result


@dataclass
class ListenerStats:
    messages: int = 0
    stored: int = 0
    repeats: int = 0
    dead_letters: int = 0
    republished: int = 0
    db_retries: int = 0
    connected: bool = False


class CommandResultListener:
    """Store device reports from MQTT; republish commands the API could not publish."""

    def __init__(self, db: Database, settings: CommandSettings, *, retry_initial_s: float = 0.5,
                 retry_max_s: float = 10.0) -> None:
        if settings.mqtt_url is None:
            raise ValueError("the command result listener needs a broker: set ANSHIN_COMMANDS_MQTT_URL")
        self.db = db
        self.settings = settings
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.stats = ListenerStats()
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._subscribed = threading.Event()
        self._client = _client(settings, settings.client_id, manual_ack=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = lambda _c, _u, message: self._inbox.put(message)

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("commands: broker %s refused listener %s: %s (check ANSHIN_COMMANDS_USERNAME/PASSWORD)",
                      self.settings.mqtt_url, self.settings.client_id, reason)
            return
        self.stats.connected = True
        client.subscribe(self.settings.subscription, qos=1)

    def _on_subscribe(self, _c: object, _u: object, _mid: int, reasons: list[object], _p: object) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("commands: broker refused subscription %s: %s (check the ACL)", self.settings.subscription, reasons)
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self.stats.connected = False
        self._subscribed.clear()
        log.warning("commands: listener %s disconnected from %s: %s; reconnecting",
                    self.settings.client_id, self.settings.mqtt_url, reason)

    def wait_subscribed(self, timeout_s: float) -> bool:
        return self._subscribed.wait(timeout_s)

    def run(self, stop: threading.Event) -> None:
        """Listen until ``stop`` is set; unacknowledged reports stay with the broker."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s,
                                   clean_start=False, properties=props)
        self._client.loop_start()
        next_republish = time.monotonic()
        try:
            while not stop.is_set():
                if time.monotonic() >= next_republish:
                    next_republish = time.monotonic() + self.settings.republish_every_s
                    self._republish()
                try:
                    message = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                if self.process(message, stop):
                    self._client.ack(message.mid, message.qos)
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def process(self, message: mqtt.MQTTMessage, stop: threading.Event) -> bool:
        """Store one report (retrying while the database is away); False if stopped first."""
        self.stats.messages += 1
        classified = classify_result(message.topic, message.payload, self.settings.max_payload_bytes)
        failures = 0
        while True:
            now = datetime.now(timezone.utc)
            try:
                self._store(classified, message, now)
                return True
            except Exception as exc:  # noqa: BLE001 - a listener must never die of one message
                if not is_transient(exc) and isinstance(classified, Rejected):
                    log.exception("commands: could not even dead-letter the report on %s (%d bytes): %r",
                                  message.topic, len(message.payload), message.payload[:2000])
                    return True
                if not is_transient(exc):
                    log.exception("commands: could not store the report on %s; dead-lettered", message.topic)
                    classified = Rejected(TRANSPORT, message.topic, "store_failed",
                                          f"{type(exc).__name__}: {exc}"[:4000], message.payload)
                    continue
                failures += 1
                self.stats.db_retries += 1
                delay = min(self.retry_max_s, self.retry_initial_s * 2 ** min(failures - 1, 10))
                log.warning("commands: database unavailable (%s); retry %d in %.1f s, report not acked",
                            type(exc).__name__, failures, delay)
                if stop.wait(delay):
                    return False

    def _store(self, classified: tuple[str, CommandResult] | Rejected, message: mqtt.MQTTMessage, now: datetime) -> None:
        if isinstance(classified, tuple):
            store, result = classified
            try:
                with self.db.unit_of_work() as session:
                    recorded = service.record_result(session, result, reporter=f"device:{store}/{result.device_id}",
                                                     transport=TRANSPORT, now=now, store_id=store)
            except (service.CommandNotFound, service.CommandRefused) as exc:
                classified = Rejected(TRANSPORT, message.topic, "invalid_event", str(exc), message.payload)
            else:
                if recorded.stored:
                    self.stats.stored += 1
                else:
                    self.stats.repeats += 1
                return
        with self.db.unit_of_work() as session:
            dead_letters.record(session, [classified], now)
        dead_letters.count([classified])
        self.stats.dead_letters += 1
        log.warning("commands: report on %s dead-lettered (%s): %s", classified.topic, classified.reason, classified.detail[:300])

    def _republish(self) -> None:
        try:
            with self.db.read_session() as session:
                # The API publishes right after issuing; give it its publish timeout (and a second) first.
                rows = service.unpublished(session, datetime.now(timezone.utc), grace_s=self.settings.publish_timeout_s + 1)
                commands = [service.to_contract(r) for r in rows]
        except Exception as exc:  # noqa: BLE001 - next round
            log.warning("commands: could not read unpublished commands (%s: %s)", type(exc).__name__, exc)
            return
        if commands:
            self.stats.republished += len(publish_and_mark(self.db, self.settings, commands))
