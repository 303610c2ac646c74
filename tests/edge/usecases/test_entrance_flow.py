"""A suspected fever flows edge → central → review queue: real worker, real central over HTTP."""

from __future__ import annotations

import httpx
import pytest
from edge_builders import T0, CentralServer

from edge.config import StoreConfig
from edge.paths import PROJECT_ROOT, media_dir
from edge.worker import EdgeWorker

PIC2 = media_dir() / "facemask" / "scenes" / "chandrikadeb7_pic2.jpg"


def entrance_store(tmp_path, central_url: str, profile: str) -> StoreConfig:
    return StoreConfig.model_validate({
        "store_id": "entrance-store",
        "privacy_profile": profile,
        "central": {"url": central_url, "api_key_env": "TEST_ENTRANCE_KEY", "retry_initial_s": 0.05, "retry_max_s": 0.5},
        "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "cameras": {"door": {
            "source": str(PIC2), "loop": True, "detect_every": 100,
            "analyzers": [{
                "type": "entrance", "min_frames": 3,
                "thermal": {"calibration": str(PROJECT_ROOT / "config" / "calibration" / "entrance-thermal.yaml"),
                            "source": {"kind": "simulated", "visitors_core_c": [36.6, 38.7, 36.9, 36.5],
                                       "scene": {"drift_offset_c": 3.0}}},
            }],
        }},
    })


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    server = CentralServer(tmp_path_factory.mktemp("central")).start()
    server.writer = server.create_key("entrance-edge", ["events:write"], "entrance-store")
    server.reviewer = server.create_key("staff", ["reviews:read", "events:read"])
    yield server
    server.stop()


def test_fever_alert_reaches_the_review_queue_with_its_explanation(tmp_path, central, monkeypatch):
    monkeypatch.setenv("TEST_ENTRANCE_KEY", central.writer)
    with EdgeWorker(entrance_store(tmp_path, central.url, "minimal"), "door", origin=T0) as worker:
        summary = worker.run(max_frames=4)
    assert summary.events_by_type.get("entrance.fever_suspected") == 1
    assert summary.outbox_depth == 0, "every event must have been acknowledged by central"

    with httpx.Client(base_url=central.url, headers={"Authorization": f"Bearer {central.reviewer}"}, timeout=10) as c:
        page = c.get("/api/v1/reviews", params={"state": "pending", "store_id": "entrance-store"})
        page.raise_for_status()
        items = page.json()["data"]
        notices = c.get("/api/v1/events", params={"type": "entrance.no_mask", "store_id": "entrance-store"}).json()
    fevers = [i for i in items if i["type"] == "entrance.fever_suspected"]
    assert len(fevers) == 1 and fevers[0]["state"] == "pending"
    event = fevers[0]["event"]
    explanation = event["explanation"]
    assert explanation["rule"] == "body_temperature_over_threshold"
    assert explanation["thresholds"]["fever_threshold_c"] == 37.5
    assert explanation["measured"]["core_c"] == pytest.approx(38.7, abs=0.3)
    assert {"raw_c", "corrected_c", "blackbody_drift_c", "ambient_c"} <= explanation["measured"].keys()
    assert event["payload"]["models"]["mask_classifier"].startswith("anshin_mask_head@")
    # mask notices are stored but need no review
    assert notices["count"] >= 2
    assert not [i for i in items if i["type"] == "entrance.no_mask"]
    # minimal profile: nothing identifying kept on the edge or sent to central
    assert event["evidence"]["snapshot_ref"] is None
    assert not (tmp_path / "evidence").exists()


def test_under_standard_the_fever_leaves_with_its_blurred_frame_through_the_one_evidence_path(tmp_path):
    import json

    import cv2
    import numpy as np

    from edge.faces import YuNetFaceDetector

    with EdgeWorker(entrance_store(tmp_path, "http://127.0.0.1:9", "standard"), "door", publish=False, origin=T0) as worker:
        worker.run(max_frames=4)
        queued = [json.loads(i.body) for i in worker.outbox.peek(100)]
        pictures = worker.outbox.blobs_for([e["event_id"] for e in queued])
    fevers = [e["event_id"] for e in queued if e["type"] == "entrance.fever_suspected"]
    assert len(fevers) == 1 and set(pictures) == set(fevers)  # mask notices carry boxes and scores, no picture
    jpeg, anonymised = pictures[fevers[0]]
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert anonymised and image.shape[:2] == cv2.imread(str(PIC2)).shape[:2]
    assert len(YuNetFaceDetector().detect(image)) == 0, "no face in the picture may still be found as a face"
    assert not (tmp_path / "evidence").exists()  # no second, local evidence folder
