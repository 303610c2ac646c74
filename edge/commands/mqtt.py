"""A device's MQTT command channel: ``anshin/v1/{store}/{device}/_cmd`` in, ``_cmd_result`` out.

MQTT 5, QoS 1, persistent session (clean start off, session expiry): while the device is away
the broker keeps its commands, and delivers them when it is back (an expired one is then
refused, never run). Each command's PUBACK is held back (paho ``manual_ack``) until the receiver
has recorded it in its ledger, run it and the broker has taken every report; a device that dies
before that gets the command again and answers from its ledger (``duplicate``), so the result
reaches central even if the first report was lost.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.commands.receiver import CommandReceiver
from services.contract.commands import CommandResult, command_topic, result_topic

log = logging.getLogger(__name__)


class ReportNotDelivered(RuntimeError):
    """The broker did not acknowledge a report in time."""


class MqttCommandChannel:
    """Feeds a :class:`CommandReceiver` from the broker and publishes its reports.

    Args:
        receiver: runs the commands (its store and device name the topics).
        host, port, tls: the store's broker.
        client_id: stable per device (the broker keeps the session under it); default
            ``anshin-device-{store}-{device}``.
        username, password: the store's broker user (the ACL must let it read ``.../_cmd`` and
            write ``.../_cmd_result`` of its store).
        session_expiry_s: how long the broker keeps commands for a device that is away.
        report_timeout_s: wait this long for the PUBACK of each report.
    """

    def __init__(self, receiver: CommandReceiver, host: str = "127.0.0.1", port: int = 1883, *,
                 client_id: str | None = None, username: str | None = None, password: str | None = None,
                 tls: bool = False, keepalive_s: int = 30, session_expiry_s: int = 86_400,
                 report_timeout_s: float = 10.0) -> None:
        self.receiver = receiver
        self.host, self.port = host, port
        self.client_id = client_id or f"anshin-device-{receiver.store_id}-{receiver.device_id}"[:128]
        self.topic = command_topic(receiver.store_id, receiver.device_id)
        self.report_topic = result_topic(receiver.store_id, receiver.device_id)
        self.keepalive_s = keepalive_s
        self.session_expiry_s = session_expiry_s
        self.report_timeout_s = report_timeout_s
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._connection = 0  # counts connects: a packet id is only meaningful on its own connection
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        if username:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = lambda _c, _u, message: self._inbox.put((self._connection, message))
        self._client = client

    # ------------------------------------------------------------------ broker callbacks

    def _on_connect(self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT %s:%s refused device %s: %s (check the store's broker user and password)",
                      self.host, self.port, self.client_id, reason)
            return
        self._connection += 1
        log.info("device %s connected (session present: %s); subscribing %s", self.client_id, flags.session_present, self.topic)
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, _c: object, _u: object, _mid: int, reasons: list[object], _p: object) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("MQTT broker refused subscription %s: %s (check the ACL)", self.topic, reasons)
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("device %s lost the broker %s:%s (%s); reconnecting", self.client_id, self.host, self.port, reason)

    # ------------------------------------------------------------------ running

    def start(self) -> MqttCommandChannel:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive_s, clean_start=False, properties=props)
        self._client.loop_start()
        self._worker = threading.Thread(target=self._run, name=f"commands-{self.client_id}", daemon=True)
        self._worker.start()
        return self

    def wait_subscribed(self, timeout_s: float) -> bool:
        return self._subscribed.wait(timeout_s)

    def stop(self) -> None:
        """Disconnect; commands not yet acknowledged stay with the broker for the next start."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    def _report(self, result: CommandResult) -> None:
        info = self._client.publish(self.report_topic, result.model_dump_json(), qos=1)
        info.wait_for_publish(self.report_timeout_s)
        if not info.is_published():
            raise ReportNotDelivered(f"no PUBACK for the {result.status.value} report of {result.command_id} "
                                     f"within {self.report_timeout_s} s")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, message = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            delivered = True

            def report(result: CommandResult) -> None:
                nonlocal delivered
                try:
                    self._report(result)
                except Exception:
                    delivered = False
                    raise

            self.receiver.receive_payload(message.payload, report)
            if delivered and connection == self._connection:
                self._client.ack(message.mid, message.qos)
            else:  # unacknowledged: the broker delivers it again after a reconnect; the ledger answers
                log.warning("command on %s left unacknowledged: a report did not reach the broker", message.topic)
