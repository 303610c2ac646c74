"""Commands over the shared Mosquitto (127.0.0.1:1883), central on PostgreSQL: the API publishes
on ``_cmd``, a real device (:class:`edge.commands.CommandReceiver` behind
:class:`edge.commands.mqtt.MqttCommandChannel`) acks and reports on ``_cmd_result``, and
central's result listener stores the reports. Shown: the ack; a command that expired while the
device was away is refused and never run; the same command published again, and again after a
device restart on the same ledger, is answered ``duplicate`` and run once; a command the API
could not publish is republished by the listener; a malformed report is dead-lettered; every
issue and report is in the audit chain, which still verifies."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from typer.testing import CliRunner

from edge.commands import CommandOutcome, CommandReceiver
from edge.commands.mqtt import MqttCommandChannel
from services.central import audit
from services.central.cli import central_app
from services.central.commands.mqtt import CommandResultListener
from services.central.commands.settings import CommandSettings
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, IngestDeadLetter
from services.contract.commands import Command, command_topic, result_topic

from .conftest import bearer, forget_session, running, subscribe_and_wait, wait_until

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres]

BROKER = ("127.0.0.1", 1883)
C = "/api/v1/commands"


class RecordingHandler:
    def __init__(self) -> None:
        self.calls: list[Command] = []

    def __call__(self, command: Command) -> CommandOutcome:
        self.calls.append(command)
        return CommandOutcome.succeeded(f"said {command.arguments.get('say')}")


class Wire:
    """A raw client on the shared broker: publishes, and records every report a device sends."""

    def __init__(self, tag: str, store: str, device: str) -> None:
        self.reports: list[dict[str, Any]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-wire-{tag}", protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(*BROKER)
        self.client.loop_start()
        subscribe_and_wait(self.client, result_topic(store, device))

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.payload.startswith(b"{\""):  # reports; the test's own malformed payload is not one
            self.reports.append(json.loads(message.payload))

    def publish(self, topic: str, payload: str | bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def statuses(self, command_id: str) -> list[str]:
        return [r["status"] for r in self.reports if r["command_id"] == command_id]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def tag() -> str:
    return secrets.token_hex(4)


@pytest.fixture
def cmd_settings(tag: str) -> CommandSettings:
    return CommandSettings(mqtt_url=f"mqtt://{BROKER[0]}:{BROKER[1]}", client_id=f"test-cmd-{tag}",
                           share_group=f"test-cmd-{tag}", session_expiry_s=60, republish_every_s=0.5,
                           publish_timeout_s=1.0)


@pytest.fixture
def listener(db: Database, cmd_settings: CommandSettings) -> Iterator[CommandResultListener]:
    with running(CommandResultListener(db, cmd_settings, retry_initial_s=0.1), "command result listener") as worker:
        yield worker
    forget_session(cmd_settings.client_id)


class Device:
    """A test device: receiver + MQTT channel on a ledger file that survives restarts."""

    def __init__(self, store: str, device: str, ledger: Path, client_id: str) -> None:
        self.store, self.device, self.ledger, self.client_id = store, device, ledger, client_id
        self.handler = RecordingHandler()
        self.receiver: CommandReceiver | None = None
        self.channel: MqttCommandChannel | None = None

    def start(self) -> Device:
        self.handler = RecordingHandler()  # a fresh process: nothing in memory
        self.receiver = CommandReceiver(self.store, self.device, self.handler, self.ledger)
        self.channel = MqttCommandChannel(self.receiver, *BROKER, client_id=self.client_id, session_expiry_s=60).start()
        assert self.channel.wait_subscribed(10), "device did not subscribe at 127.0.0.1:1883"
        return self

    def stop(self) -> None:
        if self.channel is not None and self.receiver is not None:
            self.channel.stop()
            self.receiver.close()
        self.channel = self.receiver = None


@pytest.fixture
def device(tag: str, tmp_path: Path) -> Iterator[Device]:
    d = Device(f"mq-{tag}", "fan-1", tmp_path / "device" / "ledger.sqlite", f"test-device-{tag}")
    yield d
    d.stop()
    forget_session(d.client_id)


def command_of(client: TestClient, headers: dict[str, str], command_id: str) -> dict[str, Any]:
    return client.get(f"{C}/{command_id}", headers=headers).json()  # type: ignore[no-any-return]


def status_is(client: TestClient, headers: dict[str, str], command_id: str, status: str) -> Callable[[], bool]:
    return lambda: command_of(client, headers, command_id)["status"] == status


def test_commands_over_mqtt_ack_expire_and_run_once(app: FastAPI, client: TestClient, db: Database, key,  # type: ignore[no-untyped-def]
                                                    pg_url: str, tag: str, cmd_settings: CommandSettings,
                                                    listener: CommandResultListener, device: Device) -> None:
    app.state.command_settings = cmd_settings
    operator = bearer(key("hq-operator", "commands:write"))
    wire = Wire(tag, device.store, device.device)
    try:
        device.start()

        # 1. Issued → published → the device acks and runs it → central stores both reports.
        r = client.post(C, json={"store_id": device.store, "device_id": "fan-1", "action": "test.echo",
                                 "arguments": {"say": "hello"}}, headers=operator)
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["published_at"] is not None, "the broker took the command"
        assert wait_until(status_is(client, operator, first["command_id"], "succeeded"), 15), command_of(client, operator, first["command_id"])
        got = command_of(client, operator, first["command_id"])
        assert [(x["status"], x["transport"], x["detail"]) for x in got["results"]] == [
            ("accepted", "mqtt", None), ("succeeded", "mqtt", "said hello")]
        assert wire.statuses(first["command_id"]) == ["accepted", "succeeded"]
        assert [c.arguments for c in device.handler.calls] == [{"say": "hello"}]

        # 2. Redelivery: the same command on _cmd twice more → duplicate each time, never run again.
        body = Command.model_validate({k: got[k] for k in Command.model_fields}).model_dump_json()
        topic = command_topic(device.store, "fan-1")
        wire.publish(topic, body)
        wire.publish(topic, body)
        assert wait_until(lambda: wire.statuses(first["command_id"]).count("duplicate") == 2, 10), wire.reports
        assert len(device.handler.calls) == 1

        # 3. Restart on the same ledger: the replayed command is answered from the ledger.
        device.stop()
        device.start()
        wire.publish(topic, body)
        assert wait_until(lambda: wire.statuses(first["command_id"]).count("duplicate") == 3, 10), wire.reports
        assert device.handler.calls == []
        dup = [r for r in wire.reports if r["command_id"] == first["command_id"]][-1]
        assert (dup["original_status"], dup["detail"]) == ("succeeded", "said hello")

        # 4. Expired while away: the broker keeps the command in the device's session; when the
        #    device is back it is past expires_at, so it is refused and never run.
        device.stop()
        r = client.post(C, json={"store_id": device.store, "device_id": "fan-1", "action": "test.echo",
                                 "arguments": {"say": "stale"}, "ttl_s": 1}, headers=operator)
        late = r.json()
        assert late["published_at"] is not None
        time.sleep(1.3)
        device.start()
        assert wait_until(status_is(client, operator, late["command_id"], "expired"), 15), command_of(client, operator, late["command_id"])
        assert device.handler.calls == []
        assert wire.statuses(late["command_id"]) == ["expired"]

        # 5. The audit chain holds every issue and every stored report, and still verifies.
        with db.read_session() as s:
            entries = [(e.action, e.details) for e in s.scalars(select(AuditEntry).where(
                AuditEntry.subject.in_([f"command:{first['command_id']}", f"command:{late['command_id']}"])).order_by(AuditEntry.seq))]
            verified = audit.verify(s)
        assert [(a, d.get("status")) for a, d in entries] == [
            ("command.issue", None), ("command.result", "accepted"), ("command.result", "succeeded"),
            ("command.result", "duplicate"), ("command.issue", None), ("command.result", "expired")]
        assert verified.ok, verified
        assert client.get("/api/v1/audit/verify", headers=bearer(key("auditor", "audit:read"))).json()["ok"] is True
        r = CliRunner().invoke(central_app, ["audit", "verify", "--database-url", pg_url])
        assert r.exit_code == 0, r.output
        assert listener.stats.dead_letters == 0
    finally:
        wire.close()


def test_listener_republishes_what_the_api_could_not_and_dead_letters_bad_reports(
    app: FastAPI, client: TestClient, db: Database, key, tag: str, cmd_settings: CommandSettings,  # type: ignore[no-untyped-def]
    listener: CommandResultListener, device: Device,
) -> None:
    # The API's broker is away (nothing listens on this port): the command is stored unpublished.
    app.state.command_settings = cmd_settings.model_copy(update={"mqtt_url": "mqtt://127.0.0.1:9"})
    operator = bearer(key("hq-operator", "commands:write"))
    device.start()
    r = client.post(C, json={"store_id": device.store, "device_id": "fan-1", "action": "test.echo",
                             "arguments": {"say": "later"}}, headers=operator)
    assert r.status_code == 201 and r.json()["published_at"] is None
    command_id = r.json()["command_id"]
    assert wait_until(status_is(client, operator, command_id, "succeeded"), 15), command_of(client, operator, command_id)
    assert command_of(client, operator, command_id)["published_at"] is not None
    assert listener.stats.republished >= 1 and [c.arguments for c in device.handler.calls] == [{"say": "later"}]

    wire = Wire(tag, device.store, device.device)
    try:
        wire.publish(result_topic(device.store, "fan-1"), b"{not json")
        assert wait_until(lambda: listener.stats.dead_letters >= 1, 10)
    finally:
        wire.close()
    with db.read_session() as s:
        letters = s.scalars(select(IngestDeadLetter).where(IngestDeadLetter.payload == b"{not json")).all()
    assert [(d.reason, d.topic) for d in letters] == [("not_json", result_topic(device.store, "fan-1"))]
