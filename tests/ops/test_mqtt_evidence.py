"""Evidence pictures over MQTT: an edge with ``publisher: mqtt`` and no HTTP key sends an alert with
its picture; central stores the picture through its snapshot service and serves it from
``GET /api/v1/snapshots/{ref}``. Pictures are stored once, in any order relative to their event,
and never kept for a store whose privacy profile keeps no images."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from edge.config import CentralConfig
from edge.outbox import Outbox
from edge.publish.config import MqttConfig
from edge.publish.factory import build_publisher
from edge.publish.mqtt import MqttPublisher
from services.central.db.tables import AuditEntry, IngestDeadLetter, SnapshotRow
from services.central.mqtt.local_broker import LocalBroker
from services.central.mqtt.settings import MqttSettings
from services.central.mqtt.worker import MqttIngestWorker
from services.central.stores import set_profile
from services.contract import Event, Evidence, mqtt_topic
from services.contract.blobs import blob_topic, digest, encode_blob, snapshot_ref

from .conftest import bearer, mqtt_client, occupancy, publish, running, wait_until

pytestmark = [pytest.mark.postgres]


def picture(seed: int) -> bytes:
    """A real JPEG (central decodes what it stores)."""
    rng = np.random.default_rng(seed)
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def alert(store: str, camera: str = "cam-1") -> Event:
    return occupancy(store, camera, 9, event_type="zone.overcrowded")


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalBroker]:
    """A broker of this module's own: no other test's traffic reaches these ingest workers."""
    with LocalBroker() as b:
        yield b


@pytest.fixture
def worker(broker: LocalBroker, db, settings) -> Iterator[MqttIngestWorker]:  # type: ignore[no-untyped-def]
    tag = secrets.token_hex(4)
    ms = MqttSettings(url=broker.url, client_id=f"evidence-ingest-{tag}", share_group=f"ev-{tag}",
                      session_expiry_s=0, batch_wait_ms=20)
    with running(MqttIngestWorker(db, settings, ms), "ingest worker") as w:
        yield w


@pytest.fixture
def raw(broker: LocalBroker) -> Iterator[mqtt.Client]:
    with mqtt_client(f"evidence-raw-{secrets.token_hex(3)}", broker.port) as c:
        yield c


def test_an_mqtt_alert_arrives_with_its_picture_without_any_http_key(
        worker: MqttIngestWorker, broker: LocalBroker, client: TestClient, key, db, settings,  # type: ignore[no-untyped-def]
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = f"ev-{secrets.token_hex(4)}"
    monkeypatch.delenv("ANSHIN_TEST_NO_EDGE_KEY", raising=False)
    config = SimpleNamespace(  # a store config with publisher: mqtt and no HTTP key in its environment
        publisher="mqtt", store_id=store, central=CentralConfig(api_key_env="ANSHIN_TEST_NO_EDGE_KEY"),
        mqtt=MqttConfig(url=broker.url, password_env="ANSHIN_TEST_NO_BROKER_PASSWORD", batch_size=10,
                        retry_initial_s=0.05, retry_max_s=0.2))
    jpeg = picture(1)
    event, routine = alert(store), occupancy(store, "cam-1", 1)
    with Outbox(tmp_path / "outbox.sqlite") as box:
        box.append([event, routine], blobs={str(event.event_id): (jpeg, True)})
        publisher = build_publisher(box, config, "cam-1")
        try:
            assert isinstance(publisher, MqttPublisher)
            assert publisher.wait_connected(10)
            assert publisher.flush(30), "central did not acknowledge the alert"
            assert box.depth() == 0 and box.blobs_for([str(event.event_id)]) == {}, "picture kept until the ack"
            assert publisher.stats.extra["snapshots_sent"] == 1
        finally:
            publisher.close()
    reader = bearer(key("reader", "events:read"))
    ref = "sha256:" + hashlib.sha256(jpeg).hexdigest()
    stored = client.get(f"/api/v1/events/{event.event_id}", headers=reader)
    assert stored.status_code == 200 and stored.json()["evidence"]["snapshot_ref"] == ref
    assert (client.get(f"/api/v1/events/{routine.event_id}", headers=reader).json().get("evidence") or {}).get("snapshot_ref") is None
    served = client.get(f"/api/v1/snapshots/{ref}", headers=reader)
    assert served.status_code == 200 and served.content == jpeg  # anonymised on the edge: served as sent
    assert (Path(settings.data_dir) / "snapshots" / f"{digest(jpeg)}.jpg").read_bytes() == jpeg
    with db.read_session() as s:
        row = s.get(SnapshotRow, (digest(jpeg), "evidence"))
        assert row is not None and (row.store_id, row.camera_id, row.anonymised) == (store, "cam-1", True)
        assert row.uploaded_by == f"mqtt:{store}"
        uploads = s.scalars(select(AuditEntry).where(AuditEntry.action == "snapshot.upload",
                                                     AuditEntry.subject == f"snapshot:{digest(jpeg)}")).all()
        assert [u.actor for u in uploads] == [f"mqtt:{store}"]
    assert worker.stats.pictures == 1


def test_a_picture_after_its_event_or_sent_twice_is_stored_once(worker: MqttIngestWorker, raw: mqtt.Client,
                                                                  client: TestClient, key, db) -> None:  # type: ignore[no-untyped-def]
    store = f"ev-{secrets.token_hex(4)}"
    jpeg = picture(2)
    sha = digest(jpeg)
    event = alert(store).model_copy(update={"evidence": Evidence(snapshot_ref=snapshot_ref(sha))})
    reader = bearer(key("reader", "events:read"))
    publish(raw, mqtt_topic(event), event.model_dump_json().encode())  # the event first (another worker may get the picture)
    assert wait_until(lambda: client.get(f"/api/v1/events/{event.event_id}", headers=reader).status_code == 200, 10)
    assert client.get(f"/api/v1/snapshots/sha256:{sha}", headers=reader).status_code == 404  # not yet
    for _ in range(2):  # the picture, then the same picture again (a re-sent alert brings it along)
        publish(raw, blob_topic(store, "cam-1", sha), encode_blob(jpeg, True))
    assert wait_until(lambda: worker.stats.pictures >= 2, 10), worker.stats
    served = client.get(f"/api/v1/snapshots/sha256:{sha}", headers=reader)
    assert served.status_code == 200 and served.content == jpeg
    with db.read_session() as s:
        assert len(s.scalars(select(SnapshotRow).where(SnapshotRow.sha256 == sha)).all()) == 1
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.subject == f"snapshot:{sha}")).all()) == 1


def test_a_refused_picture_is_a_dead_letter_and_a_minimal_stores_picture_is_not_kept(
        worker: MqttIngestWorker, raw: mqtt.Client, db, settings) -> None:  # type: ignore[no-untyped-def]
    minimal, other = f"ev-min-{secrets.token_hex(3)}", f"ev-{secrets.token_hex(3)}"
    with db.unit_of_work() as s:
        set_profile(s, minimal, "minimal", "JP")
    jpeg = picture(3)
    event = alert(minimal)
    publish(raw, blob_topic(minimal, "cam-1", digest(jpeg)), encode_blob(jpeg, True))
    publish(raw, mqtt_topic(event), event.model_dump_json().encode())
    wrong = blob_topic(other, "cam-1", "0" * 64)
    publish(raw, wrong, encode_blob(jpeg, True))  # the topic names other bytes than it carries
    publish(raw, blob_topic(other, "cam-1", digest(b"\xff\xd8 broken")), encode_blob(b"\xff\xd8 broken", True))
    assert wait_until(lambda: worker.stats.dead_letters >= 3 and worker.stats.stored >= 1, 10), worker.stats
    time.sleep(0.2)
    with db.read_session() as s:
        assert s.scalars(select(SnapshotRow).where(SnapshotRow.sha256 == digest(jpeg))).all() == []
        letters = {d.topic: d for d in s.scalars(select(IngestDeadLetter).where(IngestDeadLetter.transport == "mqtt")).all()}
    refused = letters[blob_topic(minimal, "cam-1", digest(jpeg))]
    assert "minimal" in refused.detail and refused.payload == b"", "central keeps no image of a minimal store"
    assert letters[wrong].reason == "topic_mismatch"
    broken = letters[blob_topic(other, "cam-1", digest(b"\xff\xd8 broken"))]
    assert broken.reason == "invalid_event" and "could not be decoded" in broken.detail
    assert not (Path(settings.data_dir) / "snapshots" / f"{digest(jpeg)}.jpg").exists()
    assert worker.stats.stored == 1  # the alert itself is stored, without a picture to show


def test_a_picture_too_large_for_a_message_never_holds_its_alert_back(
        worker: MqttIngestWorker, broker: LocalBroker, client: TestClient, key, tmp_path: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import edge.publish.mqtt as edge_mqtt

    monkeypatch.setattr(edge_mqtt, "MAX_BLOB_BYTES", 100)  # the real limit is the broker's 1 MiB message size
    store = f"ev-{secrets.token_hex(4)}"
    event = alert(store)
    with Outbox(tmp_path / "outbox.sqlite") as box, caplog.at_level("ERROR", "edge.publish.mqtt"):
        box.append([event], blobs={str(event.event_id): (picture(4), True)})
        publisher = MqttPublisher(box, "127.0.0.1", broker.port, f"ev-edge-{store}", session_expiry_s=0)
        try:
            assert publisher.wait_connected(10) and publisher.flush(30)
            assert box.depth() == 0 and box.blobs_for([str(event.event_id)]) == {}
        finally:
            publisher.close()
    assert publisher.stats.extra == {"snapshots_dropped": 1}
    assert "cannot go over MQTT" in caplog.text and "sending the event without it" in caplog.text
    got = client.get(f"/api/v1/events/{event.event_id}", headers=bearer(key("reader", "events:read")))
    assert got.status_code == 200 and (got.json().get("evidence") or {}).get("snapshot_ref") is None
