"""MQTT ingest against the Mosquitto at 127.0.0.1:1883: idempotent like HTTP, malformed payloads
dead-lettered with the reason and a metric, edge status reports in /metrics."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from edge.outbox import Outbox
from edge.publish.mqtt import MqttPublisher
from services.central.db.tables import IngestDeadLetter
from services.central.metrics import DEAD_LETTERS
from services.central.mqtt.local_broker import LocalBroker
from services.central.mqtt.settings import MqttSettings
from services.central.mqtt.worker import MqttIngestWorker
from services.contract import EdgeStatus, mqtt_topic, status_topic
from services.contract.acks import ack_topic

from .conftest import (
    bearer,
    forget_session,
    mqtt_client,
    occupancy,
    publish,
    running,
    stored_ids,
    subscribe_and_wait,
    wait_until,
)

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres]


@pytest.fixture
def tag() -> str:
    return secrets.token_hex(4)


@pytest.fixture
def worker(db, settings, tag: str) -> Iterator[MqttIngestWorker]:  # type: ignore[no-untyped-def]
    ms = MqttSettings(client_id=f"test-ingest-{tag}", share_group=f"test-{tag}", session_expiry_s=60, batch_wait_ms=20)
    with running(MqttIngestWorker(db, settings, ms), "ingest worker") as w:
        yield w
    forget_session(ms.client_id)


@pytest.fixture
def raw(tag: str) -> Iterator[mqtt.Client]:
    with mqtt_client(f"test-raw-{tag}") as c:
        yield c


def test_events_over_mqtt_are_stored_once_even_when_published_twice(worker: MqttIngestWorker, db, tmp_path, tag: str,  # type: ignore[no-untyped-def]
                                                                     raw: mqtt.Client) -> None:
    store = f"mq-{tag}"
    events = [occupancy(store, "cam-1", i) for i in range(300)]
    box = Outbox(tmp_path / "outbox.sqlite")
    box.append(events)
    publisher = MqttPublisher(box, "127.0.0.1", 1883, f"test-edge-{tag}", session_expiry_s=60, batch_size=100)
    try:
        assert publisher.wait_connected(10)
        assert publisher.flush(30) and box.depth() == 0
    finally:
        publisher.close()
        forget_session(f"test-edge-{tag}")
    for e in events[:50]:  # a redelivery, as after a lost PUBACK
        publish(raw, mqtt_topic(e), e.model_dump_json().encode())
    # The worker reads all of anshin/v1/# on the shared broker, so its totals may include other
    # tests' stragglers: wait for this test's redeliveries, and judge by this store's rows.
    assert wait_until(lambda: worker.stats.duplicates >= 50, 20), worker.stats
    assert sorted(stored_ids(db, store)) == sorted(str(e.event_id) for e in events)
    assert worker.stats.stored >= 300


@pytest.mark.parametrize(("kind", "reason"), [
    pytest.param("not_json", "not_json", id="not JSON"),
    pytest.param("invalid", "invalid_event", id="JSON but not an event"),
    pytest.param("array", "invalid_event", id="an array instead of one event"),
    pytest.param("other_store", "topic_mismatch", id="event of another store on this store's topic"),
    pytest.param("bad_topic", "bad_topic", id="topic outside the contract"),
])
def test_a_malformed_message_is_dead_lettered_and_ingest_goes_on(worker: MqttIngestWorker, db, tag: str,  # type: ignore[no-untyped-def]
                                                                  raw: mqtt.Client, kind: str, reason: str) -> None:
    store = f"mq-{tag}"
    good = occupancy(store)
    topic = mqtt_topic(good)
    payload = {
        "not_json": b"{oops",
        "invalid": json.dumps({"type": "zone.occupancy", "store_id": store}).encode(),
        "array": json.dumps([good.model_dump(mode="json")]).encode(),
        "other_store": occupancy(f"other-{tag}").model_dump_json().encode(),
        "bad_topic": b"{}",
    }[kind]
    before = DEAD_LETTERS.labels("mqtt", reason)._value.get()
    publish(raw, f"anshin/v1/{store}/x" if kind == "bad_topic" else topic, payload)
    publish(raw, topic, good.model_dump_json().encode())  # the next message is stored as usual
    assert wait_until(lambda: stored_ids(db, store) == [str(good.event_id)], 10)
    with db.read_session() as s:
        letters = s.scalars(select(IngestDeadLetter).where(IngestDeadLetter.payload == payload)).all()
    assert [(d.reason, d.transport) for d in letters] == [(reason, "mqtt")]
    assert letters[0].detail
    assert DEAD_LETTERS.labels("mqtt", reason)._value.get() == before + 1


def test_edge_status_over_mqtt_shows_in_metrics(worker: MqttIngestWorker, client: TestClient, key, tag: str,  # type: ignore[no-untyped-def]
                                                raw: mqtt.Client) -> None:
    from datetime import datetime, timezone

    status = EdgeStatus(store_id=f"mq-{tag}", camera_id="cam-7", at=datetime.now(timezone.utc),
                        outbox_depth=42, dead_letters=1, oldest_age_s=3.5, inference_ms=37.25)
    publish(raw, status_topic(status), status.model_dump_json().encode())
    assert wait_until(lambda: worker.stats.statuses >= 1, 10)
    text = client.get("/metrics", headers=bearer(key("prometheus", "metrics:read"))).text
    labels = f'{{camera_id="cam-7",store_id="mq-{tag}"}}'
    assert f"anshin_edge_outbox_depth{labels} 42.0" in text
    assert f"anshin_edge_inference_ms{labels} 37.25" in text
    assert "anshin_ingest_events_total" in text and "anshin_review_backlog" in text


@contextmanager
def shipped_acl_clients() -> Iterator[tuple[dict[str, mqtt.Client], dict[str, list[tuple[str, bytes]]]]]:
    """docker/mosquitto/acl on a broker of the test's own, with clients for two stores and central."""
    # Mosquitto started as root reads its files as user mosquitto: pytest's tmp_path is private.
    folder = Path(tempfile.mkdtemp(prefix="anshin-acl-"))
    folder.chmod(0o755)
    passwd = folder / "passwd"
    passwd.touch()
    users = ("tokyo-01", "osaka-02", "anshin-central")
    for user in users:
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, f"pw-{user}"], check=True, capture_output=True)
    passwd.chmod(0o644)
    acl = Path(shutil.copy(Path(__file__).resolve().parents[2] / "docker/mosquitto/acl", folder / "acl"))
    acl.chmod(0o644)
    try:
        with LocalBroker(passwd_file=passwd, acl_file=acl) as broker:
            received: dict[str, list[tuple[str, bytes]]] = {}
            clients: dict[str, mqtt.Client] = {}
            for user in users:
                c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{user}", protocol=mqtt.MQTTv5)
                c.username_pw_set(user, f"pw-{user}")
                got = received.setdefault(user, [])
                c.on_message = lambda _c, _u, m, got=got: got.append((m.topic, bytes(m.payload)))
                c.connect("127.0.0.1", broker.port)
                c.loop_start()
                clients[user] = c
            try:
                yield clients, received
            finally:
                for c in clients.values():
                    c.disconnect()
                    c.loop_stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_shipped_acl_lets_only_central_acknowledge_and_each_store_read_its_own_acks() -> None:
    """Central writes anshin/v1/+/+/_ack, a store's user reads its own acknowledgements, another
    store can neither read nor forge them."""
    with shipped_acl_clients() as (clients, received):
        topic = ack_topic("tokyo-01", "cam-1")
        for user in ("tokyo-01", "osaka-02"):
            subscribe_and_wait(clients[user], topic)
        clients["anshin-central"].publish(topic, b"from central", qos=1).wait_for_publish(5)
        clients["osaka-02"].publish(topic, b"forged", qos=1).wait_for_publish(5)
        assert wait_until(lambda: received["tokyo-01"] != [], 5)
        time.sleep(0.5)
    assert received["tokyo-01"] == [(topic, b"from central")]
    assert received["osaka-02"] == []


def test_the_shipped_acl_carries_commands_to_a_stores_devices_and_their_results_back() -> None:
    """Central writes anshin/v1/+/+/_cmd and reads results; a store reads its own devices'
    commands only, and another store can neither read them nor forge a result."""
    from services.contract.commands import command_topic, result_topic

    with shipped_acl_clients() as (clients, received):
        commands, results = command_topic("tokyo-01", "ahu-1"), result_topic("tokyo-01", "ahu-1")
        for user in ("tokyo-01", "osaka-02"):
            subscribe_and_wait(clients[user], commands)
        subscribe_and_wait(clients["anshin-central"], results)
        clients["anshin-central"].publish(commands, b"command", qos=1).wait_for_publish(5)
        clients["tokyo-01"].publish(results, b"result", qos=1).wait_for_publish(5)
        clients["osaka-02"].publish(results, b"forged", qos=1).wait_for_publish(5)
        assert wait_until(lambda: received["tokyo-01"] != [] and received["anshin-central"] != [], 5)
        time.sleep(0.5)
    assert received["tokyo-01"] == [(commands, b"command")]
    assert received["anshin-central"] == [(results, b"result")]
    assert received["osaka-02"] == []


def test_the_shipped_acl_lets_a_store_send_pictures_only_under_its_own_name() -> None:
    """Evidence pictures (anshin/v1/<store>/<camera>/_blob/<sha256>): a store's user writes its own,
    central reads them, another store can neither forge nor read them."""
    from services.contract.blobs import blob_topic, digest, encode_blob

    jpeg = b"\xff\xd8 picture"
    topic = blob_topic("tokyo-01", "cam-1", digest(jpeg))
    with shipped_acl_clients() as (clients, received):
        for user in ("anshin-central", "osaka-02"):
            subscribe_and_wait(clients[user], "anshin/v1/tokyo-01/+/_blob/#")
        clients["tokyo-01"].publish(topic, encode_blob(jpeg, True), qos=1).wait_for_publish(5)
        clients["osaka-02"].publish(topic, b"forged", qos=1).wait_for_publish(5)
        assert wait_until(lambda: received["anshin-central"] != [], 5)
        time.sleep(0.5)
    assert received["anshin-central"] == [(topic, encode_blob(jpeg, True))]
    assert received["osaka-02"] == []
