"""Evidence pictures from the edge: made per privacy profile, queued with their alert, uploaded
before the alert, referenced in ``evidence.snapshot_ref``; live pictures for the store view.

Real frames (PETS 2009, the facemask scene), the real detector and face detector, a real central.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from datetime import datetime

import cv2
import httpx
import numpy as np
import pytest
from edge_builders import T0, CentralServer, free_port, make_events

from edge.config import OutboxConfig, load_store_config
from edge.evidence import evidence_jpeg
from edge.faces import FaceFinder
from edge.outbox import Outbox
from edge.paths import PROJECT_ROOT, media_dir
from edge.publish import HttpPublisher
from edge.worker import EdgeWorker
from services.contract import Box, Event, Evidence, Explanation
from services.shared.anonymise import head_region

STORE = "store-1"


def pets_frame(index: int = 0) -> np.ndarray:
    video = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    video.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = video.read()
    video.release()
    assert ok
    return frame


def people(frame: np.ndarray) -> np.ndarray:
    from edge.detectors import create_detector
    from edge.detectors.config import OnnxDetectorConfig

    return create_detector(OnnxDetectorConfig()).detect(frame).xyxy


def detail(image: np.ndarray, region: tuple[int, int, int, int]) -> float:
    """Sharpness (variance of the Laplacian) of a region, pixels x1, y1, x2, y2."""
    x1, y1, x2, y2 = region
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def alert(camera: str = "cam-1", store: str = STORE) -> Event:
    return Event(type="zone.overcrowded", use_case="F", store_id=store, camera_id=camera, occurred_at=T0,
                 severity="warning", review_required=True, payload={"zone": "plaza", "count": 5, "capacity": 3},
                 explanation=Explanation(rule="occupancy_over_capacity"),
                 evidence=Evidence(frame_size=(480, 360), boxes=[Box(xyxy=(10, 10, 50, 120), label="person", score=0.9)]))


# ---------------------------------------------------------------------------------- pictures


def test_minimal_makes_no_picture_standard_blurs_heads_identified_keeps_them() -> None:
    frame = pets_frame(60)
    boxes = people(frame)
    assert len(boxes) >= 4
    assert evidence_jpeg(frame, "minimal", boxes) is None
    standard, identified = evidence_jpeg(frame, "standard", boxes), evidence_jpeg(frame, "identified", boxes)
    assert standard.anonymised and not identified.anonymised
    blurred, kept = decoded(standard.jpeg), decoded(identified.jpeg)
    for box in boxes:
        head = head_region(box)
        assert detail(blurred, head) < 0.3 * detail(frame, head), head
        assert detail(kept, head) > 0.5 * detail(frame, head), head
    # Away from people the picture is the frame (up to JPEG noise): the scene stays readable.
    assert np.abs(blurred[300:, :100].astype(int) - frame[300:, :100].astype(int)).mean() < 4


def test_faces_found_by_yunet_are_blurred_too() -> None:
    scene = cv2.imread(str(media_dir() / "facemask" / "scenes" / "chandrikadeb7_pic2.jpg"))
    faces = FaceFinder()(scene).xyxy
    assert len(faces) >= 2, "YuNet should find the visitors' faces in the entrance scene"
    picture = decoded(evidence_jpeg(scene, "standard", np.zeros((0, 4)), faces).jpeg)
    for box in faces:
        region = tuple(int(v) for v in box)
        assert detail(picture, region) < 0.2 * detail(scene, region), region


# ---------------------------------------------------------------------------------- outbox


def test_a_picture_is_queued_with_its_alert_and_leaves_with_it(tmp_path) -> None:
    with Outbox(tmp_path / "outbox.sqlite") as box:
        event, other = alert(), make_events(1)[0]
        assert box.append([event, other], blobs={str(event.event_id): (b"\xff\xd8jpeg", True)}) == 2
        assert box.append([event], blobs={str(event.event_id): (b"\xff\xd8other", False)}) == 0  # a repeat adds nothing
        assert box.blobs_for([str(event.event_id), str(other.event_id)]) == {str(event.event_id): (b"\xff\xd8jpeg", True)}
        box.attach_snapshot(str(event.event_id), '{"replaced": true}')
        assert box.blobs_for([str(event.event_id)]) == {}
        assert [i.body for i in box.peek(10) if i.event_id == str(event.event_id)] == ['{"replaced": true}']
        second = alert()
        box.append([second], blobs={str(second.event_id): (b"\xff\xd8x", True)})
        box.ack([str(second.event_id)])
        assert box.blobs_for([str(second.event_id)]) == {}


# ---------------------------------------------------------------------------------- publisher


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    server = CentralServer(tmp_path_factory.mktemp("central")).start()
    server.writer = server.create_key("edge-store-1", ["events:write"], STORE)
    server.minimal_writer = server.create_key("edge-counts-only", ["events:write"], "counts-only")
    server.reader = server.create_key("reader", ["events:read"])
    from services.central.db.session import Database
    from services.central.stores import set_profile

    db = Database.from_settings(server.settings)
    with db.unit_of_work() as s:
        set_profile(s, "counts-only", "minimal", "JP")
    db.dispose()
    yield server
    server.stop()


def publisher(outbox: Outbox, url: str, key: str) -> HttpPublisher:
    return HttpPublisher(outbox, url, key, connect_timeout_s=1.0, read_timeout_s=10.0, retry_initial_s=0.01,
                         retry_max_s=0.05, idle_poll_s=0.05, rng=random.Random(1))


def stored(central, event: Event) -> dict:
    r = httpx.get(f"{central.url}/api/v1/events/{event.event_id}", headers={"Authorization": f"Bearer {central.reader}"})
    r.raise_for_status()
    return r.json()


def test_the_picture_is_uploaded_first_and_the_alert_points_to_it(central, tmp_path) -> None:
    jpeg = evidence_jpeg(pets_frame(10), "standard", people(pets_frame(10))).jpeg
    with Outbox(tmp_path / "outbox.sqlite") as box:
        event = alert(camera="upload")
        box.append([event, *make_events(3, camera_id="upload")], blobs={str(event.event_id): (jpeg, True)})
        pub = publisher(box, central.url, central.writer)
        assert pub.flush(timeout_s=20)
        assert box.depth() == 0 and box.blobs_for([str(event.event_id)]) == {}
    ref = stored(central, event)["evidence"]["snapshot_ref"]
    assert ref == "sha256:" + hashlib.sha256(jpeg).hexdigest()
    picture = httpx.get(f"{central.url}/api/v1/snapshots/{ref}", headers={"Authorization": f"Bearer {central.reader}"})
    assert picture.status_code == 200 and picture.content == jpeg  # anonymised on the edge: served as sent
    assert pub.stats.extra["snapshots_uploaded"] == 1 and pub.stats.delivered == 4


def test_a_refused_picture_never_holds_the_alert_back(central, tmp_path, caplog) -> None:
    jpeg = evidence_jpeg(pets_frame(10), "standard", np.zeros((0, 4))).jpeg
    with Outbox(tmp_path / "outbox.sqlite") as box, caplog.at_level(logging.ERROR, "edge.publish.http"):
        event = alert(camera="door", store="counts-only")  # central keeps no pictures for this store
        box.append([event], blobs={str(event.event_id): (jpeg, True)})
        pub = publisher(box, central.url, central.minimal_writer)
        assert pub.flush(timeout_s=20)
        assert box.depth() == 0 and box.blobs_for([str(event.event_id)]) == {}
    assert stored(central, event)["evidence"]["snapshot_ref"] is None
    assert pub.stats.extra["snapshots_dropped"] == 1
    assert "refused its evidence picture (HTTP 403" in caplog.text


def test_while_central_is_away_the_picture_waits_with_its_alert(central, tmp_path) -> None:
    jpeg = evidence_jpeg(pets_frame(20), "standard", np.zeros((0, 4))).jpeg
    with Outbox(tmp_path / "outbox.sqlite") as box:
        event = alert(camera="away")
        box.append([event], blobs={str(event.event_id): (jpeg, True)})
        assert not publisher(box, f"http://127.0.0.1:{free_port()}", central.writer).flush(timeout_s=0.5)
        assert box.depth() == 1 and box.blobs_for([str(event.event_id)]) == {str(event.event_id): (jpeg, True)}
        assert publisher(box, central.url, central.writer).flush(timeout_s=20)
    assert stored(central, event)["evidence"]["snapshot_ref"] == "sha256:" + hashlib.sha256(jpeg).hexdigest()


# ---------------------------------------------------------------------------------- worker


def test_the_worker_queues_a_blurred_frame_with_each_alert_and_sends_live_pictures(central, tmp_path, monkeypatch) -> None:
    store = load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml")
    camera = store.cameras["pets-aisle"]
    analyzers = [a.model_copy(update={"min_frames": 1, "zones": {n: z.model_copy(update={"capacity": 1}) for n, z in a.zones.items()}})
                 for a in camera.analyzers if a.type == "occupancy"]  # F's alerts; the camera's other use cases aside
    camera = camera.model_copy(update={"analyzers": analyzers, "live_snapshot_s": 0.01, "loop": False})
    store = store.model_copy(update={
        "store_id": STORE, "cameras": {"pets-aisle": camera}, "outbox": OutboxConfig(path=tmp_path / "outbox.sqlite"),
        "central": store.central.model_copy(update={"url": central.url, "api_key_env": "TEST_EVIDENCE_KEY"}),
    })
    monkeypatch.setenv("TEST_EVIDENCE_KEY", central.writer)
    with EdgeWorker(store, "pets-aisle", publish=False, origin=T0) as worker:
        worker.run(max_frames=12)
        queued = {json.loads(i.body)["event_id"]: json.loads(i.body) for i in worker.outbox.peek(100)}
        alerts = [e for e in queued.values() if e["review_required"]]
        pictures = worker.outbox.blobs_for(queued)
    assert alerts and set(pictures) == {a["event_id"] for a in alerts}
    first = alerts[0]
    jpeg, anonymised = pictures[first["event_id"]]
    index = round((datetime.fromisoformat(first["occurred_at"]) - T0).total_seconds() * 10)  # the video is 10 fps
    frame, picture = pets_frame(index), decoded(jpeg)
    assert anonymised and picture.shape[:2] == (360, 480) and tuple(first["evidence"]["frame_size"]) == (480, 360)
    for box in first["evidence"]["boxes"]:
        head = head_region(box["xyxy"])
        if (head[2] - head[0]) * (head[3] - head[1]) >= 60:  # big enough to measure
            assert detail(picture, head) < 0.5 * detail(frame, head), head

    # With a publisher, the worker also hands over live pictures, which reach the store view.
    with EdgeWorker(store, "pets-aisle", origin=T0) as worker:
        stop = threading.Event()
        runner = threading.Thread(target=worker.run, kwargs={"max_frames": 30, "stop_event": stop})
        runner.start()
        runner.join(timeout=120)
        deadline = time.monotonic() + 10
        while worker.publisher.stats.extra.get("live_uploaded", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert worker.publisher.stats.extra.get("live_uploaded", 0) >= 1
