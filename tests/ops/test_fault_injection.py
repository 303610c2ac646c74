"""Fault injection on the MQTT path, each case bounded in time and ending with the same check:
every generated event is stored exactly once (in the events table, and listed as newly stored by
exactly one ingest audit entry).

Real processes: each test starts its own Mosquitto on a free port (never the shared broker) and
kills it with SIGKILL where the case says so; central writes to a throwaway PostgreSQL database.

1. The broker is killed (kill -9) after PUBACKing events and before saving them: the edge, which
   keeps every event until *central* acknowledges it, sends them again.
2. The edge starts, and publishes, before any ingest worker has subscribed (PUBACK 0x10 "no
   matching subscribers"): nothing is lost, and the problem is logged once, not per message.
3. Poison messages among valid ones of another store: the valid ones are stored, each poison
   message sits in the dead letters with its reason, the ingest worker keeps going.
4. A reconnect ends the edge publisher's backoff at once.
5. The edge process is killed (kill -9) mid-video: restarted, it replays the file under the same
   deterministic event ids; nothing is stored twice and nothing is missing.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from edge.outbox import Outbox
from edge.publish.mqtt import MqttPublisher
from services.central.db.session import Database
from services.central.db.tables import IngestDeadLetter
from services.central.mqtt.local_broker import LocalBroker
from services.central.mqtt.messages import classify
from services.central.mqtt.settings import MqttSettings
from services.central.mqtt.worker import MqttIngestWorker
from services.central.settings import Settings
from services.contract import Event, mqtt_topic

from .conftest import occupancy, stored_ids, stored_mentions, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.mqtt]
ROOT = Path(__file__).resolve().parents[2]

#: Long enough that the broker never saves during a test: a kill -9 loses all it holds.
NEVER_SAVES_S = 3600


def assert_exactly_once(url: str, store: str, ids: list[str]) -> None:
    stored = stored_ids(url, store)
    assert len(ids) == len(set(ids))
    assert sorted(stored) == sorted(ids), f"{len(set(ids) - set(stored))} lost, {len(stored) - len(set(stored))} twice"
    assert stored_mentions(url, set(ids)) == len(ids), "an event was listed as newly stored more than once"


@contextmanager
def ingest_worker(db: Database, settings: Settings, broker: LocalBroker, client_id: str,
                  **kwargs: object) -> Iterator[MqttIngestWorker]:
    """Central's MQTT ingest worker running in a thread, subscribed, until the block ends."""
    ms = MqttSettings(url=broker.url, client_id=client_id, session_expiry_s=300,
                      batch_wait_ms=int(kwargs.pop("batch_wait_ms", 20)))  # type: ignore[call-overload]
    worker = MqttIngestWorker(db, settings, ms, retry_initial_s=0.1, retry_max_s=0.5, **kwargs)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name=f"ingest-{client_id}", daemon=True)
    thread.start()
    try:
        assert worker.wait_subscribed(10), "the ingest worker did not subscribe"
        yield worker
    finally:
        stop.set()
        thread.join(timeout=10)


@contextmanager
def publishing(publisher: MqttPublisher) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run, args=(stop,), name="publisher", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        publisher.notify()
        thread.join(timeout=10)


def edge(outbox: Outbox, broker: LocalBroker, client_id: str, **kwargs: float) -> MqttPublisher:
    kwargs = {"ack_timeout_s": 2.0, "retry_initial_s": 0.1, "retry_max_s": 0.5, "idle_poll_s": 0.05,
              "delivery_timeout_s": 30.0} | kwargs
    return MqttPublisher(outbox, "127.0.0.1", broker.port, client_id, batch_size=25, session_expiry_s=300, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def central(pg_url: str) -> Iterator[tuple[Database, Settings]]:
    settings = Settings(database_url=pg_url)
    db = Database.from_settings(settings)
    yield db, settings
    db.dispose()


@pytest.mark.timeout(60)
def test_broker_killed_between_puback_and_its_next_save_loses_nothing(central, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, settings = central
    store = "fi-kill"
    events = [occupancy(store, "cam-1", i) for i in range(60)]
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        with ingest_worker(db, settings, broker, "fi-ingest-kill"):
            pass  # central's ingest session exists; while its worker is away the broker queues for it
        outbox = Outbox(tmp_path / "outbox.sqlite")
        outbox.append(events)
        publisher = edge(outbox, broker, "fi-edge-kill")
        try:
            assert publisher.wait_connected(10)
            while outbox.peek(100):  # every event PUBACKed by the broker, held only in its memory
                publisher.publish_once()
            assert outbox.depth() == 60 and outbox.in_flight() == 60, "a PUBACK must not delete an event"
            assert stored_ids(db, store) == []

            broker.kill()  # before its next save: the queued messages are gone
            broker.start()
            with ingest_worker(db, settings, broker, "fi-ingest-kill") as worker, publishing(publisher):
                assert wait_until(lambda: outbox.depth() == 0, 30), f"{outbox.depth()} events still in the outbox"
                assert worker.stats.stored == 60
        finally:
            publisher.close()
        assert outbox.dead_letter_depth() == 0
        outbox.close()
    assert_exactly_once(pg_url, store, [str(e.event_id) for e in events])


@pytest.mark.timeout(60)
def test_broker_killed_while_events_flow_loses_nothing(central, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Events stored by central whose acknowledgements the crash lost come back as duplicates, once."""
    db, settings = central
    store = "fi-flow"
    produced: list[str] = []
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        publisher = edge(outbox, broker, "fi-edge-flow")
        try:
            with ingest_worker(db, settings, broker, "fi-ingest-flow") as worker, publishing(publisher):
                for i in range(120):  # about 6 s at 20 events/s, the broker killed after 2 s
                    if i == 40:
                        broker.kill()
                    if i == 50:
                        broker.start()
                    batch = [occupancy(store, "cam-1", i)]
                    outbox.append(batch)
                    produced.extend(str(e.event_id) for e in batch)
                    publisher.notify()
                    time.sleep(0.05)
                assert wait_until(lambda: outbox.depth() == 0, 30), f"{outbox.depth()} events still in the outbox"
                assert worker.stats.connects >= 2
        finally:
            publisher.close()
        outbox.close()
    assert_exactly_once(pg_url, store, produced)


@pytest.mark.timeout(60)
def test_edge_publishing_before_any_ingest_worker_loses_nothing(central, pg_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                caplog: pytest.LogCaptureFixture) -> None:
    db, settings = central
    store = "fi-early"
    events = [occupancy(store, "cam-1", i) for i in range(40)]
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        outbox.append(events[:20])
        publisher = edge(outbox, broker, "fi-edge-early", retry_initial_s=0.05, retry_max_s=0.2)
        try:
            with caplog.at_level(logging.INFO, logger="edge.publish.mqtt"), publishing(publisher):
                # Nobody subscribed: the broker answers 0x10 and drops each message; they stay queued.
                assert wait_until(lambda: publisher.stats.failures >= 5, 20)
                assert outbox.depth() == 20 and outbox.in_flight() == 0
                assert stored_ids(db, store) == []
                with ingest_worker(db, settings, broker, "fi-ingest-early"):
                    outbox.append(events[20:])
                    publisher.notify()
                    assert wait_until(lambda: outbox.depth() == 0, 30), f"{outbox.depth()} events still in the outbox"
        finally:
            publisher.close()
        outbox.close()
    no_subscriber = [r for r in caplog.records if "0x10" in r.getMessage()]
    assert len(no_subscriber) == 1 and no_subscriber[0].levelno == logging.ERROR, "logged once per outage"
    assert any("routes events to central's ingest again" in r.getMessage() for r in caplog.records)
    assert_exactly_once(pg_url, store, [str(e.event_id) for e in events])


def year_one(event: Event) -> bytes:
    """The event with ``occurred_at`` in year 1 at UTC+1: before year 1 in UTC (once an OverflowError)."""
    doc = json.loads(event.model_dump_json())
    doc["occurred_at"] = "0001-01-01T00:00:00+01:00"
    return json.dumps(doc).encode()


RAISES = b"raise-inside-validation"


def classify_or_raise(topic: str, payload: bytes, max_bytes: int) -> object:
    """The real classifier, except that it raises (as a contract bug would) on one marked payload."""
    if RAISES in payload:
        raise RuntimeError("a validator blew up")
    return classify(topic, payload, max_bytes)


@pytest.mark.timeout(60)
def test_poison_messages_are_dead_lettered_alone_and_ingest_goes_on(central, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, settings = central
    poisoned, good = "fi-poison", "fi-good"
    valid = [occupancy(good, "cam-2", i) for i in range(5)]
    bad_time = occupancy(poisoned, "cam-1", 0)
    raising = occupancy(poisoned, "cam-1", 1).model_copy(update={"payload": {"zone": RAISES.decode(), "count": 1, "capacity": 8}})
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        with ingest_worker(db, settings, broker, "fi-ingest-poison", batch_wait_ms=500,
                           classifier=classify_or_raise) as worker:
            raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fi-raw", protocol=mqtt.MQTTv5)
            raw.connect("127.0.0.1", broker.port)
            raw.loop_start()
            try:
                # One batch: the poison ones first, then five valid events of another store.
                infos = [raw.publish(mqtt_topic(bad_time), year_one(bad_time), qos=1),
                         raw.publish(mqtt_topic(raising), raising.model_dump_json(), qos=1)]
                infos += [raw.publish(mqtt_topic(e), e.model_dump_json(), qos=1) for e in valid]
                for info in infos:
                    info.wait_for_publish(5)
                assert wait_until(lambda: len(stored_ids(db, good)) == 5, 20), worker.stats
                assert worker.stats.batches == 1 and worker.stats.dead_letters == 2

                # The worker goes on: the same store's edge sends a valid event and both poison ones
                # (queued by an older build); central stores the valid one and tells the edge to
                # set the other two aside, so they do not come back forever.
                outbox = Outbox(tmp_path / "outbox.sqlite")
                later = occupancy(poisoned, "cam-1", 2)
                with sqlite3.connect(outbox.path) as conn:
                    conn.executemany("INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, 0)",
                                     [(str(bad_time.event_id), year_one(bad_time).decode()),
                                      (str(raising.event_id), raising.model_dump_json())])
                outbox.append([later])
                publisher = edge(outbox, broker, "fi-edge-poison")
                try:
                    assert publisher.wait_connected(10)
                    assert publisher.flush(20), f"{outbox.depth()} events still in the outbox"
                finally:
                    publisher.close()
                reasons = sorted(d.reason for d in outbox.dead_letters())
                assert reasons == ["central set it aside as a dead letter: invalid_event"] * 2
                outbox.close()
            finally:
                raw.disconnect()
                raw.loop_stop()
    assert sorted(stored_ids(db, good)) == sorted(str(e.event_id) for e in valid)
    assert stored_ids(db, poisoned) == [str(later.event_id)]
    with db.read_session() as s:
        letters = s.execute(select(IngestDeadLetter.reason, IngestDeadLetter.detail, IngestDeadLetter.payload)).all()
    by_payload = {bytes(p): (reason, detail) for reason, detail, p in letters}
    assert by_payload[year_one(bad_time)][0] == "invalid_event"
    assert by_payload[raising.model_dump_json().encode()] == (
        "invalid_event", "validating this message raised RuntimeError: a validator blew up")
    assert len(letters) == 4  # each poison message once per delivery (raw client, then the edge)


@pytest.mark.timeout(90)
def test_a_reconnect_ends_the_publishers_backoff_at_once(central, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, settings = central
    store = "fi-wake"
    events = [occupancy(store, "cam-1", i) for i in range(10)]
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        # A backoff of 10-20 s after the first failures: without the wake-up, a publisher would
        # sit out most of it after the broker is back.
        publisher = edge(outbox, broker, "fi-edge-wake", retry_initial_s=20.0, retry_max_s=20.0)
        try:
            with ingest_worker(db, settings, broker, "fi-ingest-wake"), publishing(publisher):
                assert publisher.wait_connected(10)
                broker.stop()
                assert wait_until(lambda: not publisher._connected.is_set(), 10)
                outbox.append(events)
                publisher.notify()
                assert wait_until(lambda: publisher.stats.failures >= 1, 10)  # now in its long backoff
                time.sleep(1.0)
                sends = publisher.stats.requests  # counts only sends over a live connection
                broker.start()
                assert publisher.wait_connected(15)
                reconnected = time.monotonic()
                assert wait_until(lambda: publisher.stats.requests > sends, 5)
                assert time.monotonic() - reconnected < 3.0, "the reconnect did not end the backoff"
                # Delivered in the end (if the broker answered 0x10 because central's ingest had not
                # resubscribed yet, after one more backoff).
                assert wait_until(lambda: outbox.depth() == 0, 30)
        finally:
            publisher.close()
        outbox.close()
    assert_exactly_once(pg_url, store, [str(e.event_id) for e in events])


def short_clip(folder: Path, frames: int) -> Path:
    """The first frames of PETS 2009 (people walking through a plaza) as a video file."""
    import cv2

    from edge.paths import media_dir

    source = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    path = folder / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (480, 360))
    for _ in range(frames):
        ok, image = source.read()
        assert ok, "PETS 2009 clip missing (edge media folder)"
        writer.write(image)
    writer.release()
    source.release()
    return path


def edge_store_yaml(folder: Path, name: str, video: Path, broker_url: str) -> Path:
    """One store, one camera on ``video``, an occupancy event every frame, publishing over MQTT."""
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps({
        "store_id": "fi-video", "privacy_profile": "standard", "publisher": "mqtt",
        "mqtt": {"url": broker_url, "retry_initial_s": 0.1, "retry_max_s": 0.5, "delivery_timeout_s": 30},
        "outbox": {"path": str(folder / f"{name}.sqlite")},
        "cameras": {"aisle": {
            "source": str(video), "tracker": {"frame_rate": 10}, "detect_every": 2,
            "zones": {"all": {"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}},
            "analyzers": [{"type": "occupancy", "interval_s": 0.1, "min_frames": 1, "hysteresis": 0,
                           "zones": {"all": {"capacity": 1}}}],
        }},
    }))  # JSON is YAML
    return path


def edge_process(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    return subprocess.Popen([sys.executable, "-c", "from anshin.cli import app; app()", "edge", "run", "--config", str(config),
                             "--progress-every", "60", "--log-level", "WARNING", *extra],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.timeout(120)
def test_edge_killed_mid_video_replays_and_nothing_is_stored_twice(central, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """kill -9 of the edge process while it publishes; restarted, it replays the file from frame 0
    under the same deterministic event ids: the events central has are stored once, the rest arrive."""
    db, settings = central
    video = short_clip(tmp_path, 30)
    with LocalBroker(autosave_interval_s=NEVER_SAVES_S) as broker:
        # The ids the whole file yields (not published: its own outbox is the reference).
        reference = edge_process(edge_store_yaml(tmp_path, "reference", video, broker.url), "--no-publish")
        out, _ = reference.communicate(timeout=60)
        assert reference.returncode == 0, out.decode()[-2000:]
        with Outbox(tmp_path / "reference.sqlite") as box:
            expected = [i.event_id for i in box.peek(10_000)]
        assert len(expected) >= 20

        config = edge_store_yaml(tmp_path, "edge", video, broker.url)
        with ingest_worker(db, settings, broker, "fi-ingest-video"):
            first = edge_process(config, "--drain-timeout", "30")
            try:
                assert wait_until(lambda: len(stored_ids(db, "fi-video")) >= 5 or first.poll() is not None, 60)
            finally:
                first.kill()  # kill -9, mid-video: events queued, in flight, and stored
                first.wait(timeout=10)
            before = set(stored_ids(db, "fi-video"))
            assert 0 < len(before) < len(expected), "the edge was not killed mid-video"
            again = edge_process(config, "--drain-timeout", "30")
            out, _ = again.communicate(timeout=90)
            assert again.returncode == 0, out.decode()[-2000:]
        with Outbox(tmp_path / "edge.sqlite") as box:
            assert (box.depth(), box.dead_letter_depth()) == (0, 0)
    assert before <= set(expected)
    assert_exactly_once(pg_url, "fi-video", expected)
