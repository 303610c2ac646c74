"""The demo's PETS camera end to end: its H rules (loitering, restricted zone) send notices that a real
central service stores as review items, each with its anonymised evidence clip."""

from __future__ import annotations

import httpx
from edge_builders import T0, CentralServer

from edge.config import OutboxConfig, load_store_config
from edge.paths import PROJECT_ROOT
from edge.worker import EdgeWorker
from services.central.snapshots.blobs import BlobStore
from services.central.snapshots.clips import clip_of, decode_clip


def test_the_demo_camera_sends_loitering_and_restricted_zone_review_items_with_clips(tmp_path, monkeypatch) -> None:
    central = CentralServer(tmp_path / "central").start()
    try:
        store = load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml")
        camera = store.cameras["pets-aisle"]
        rules = {r.rule for a in camera.analyzers if a.type == "behaviour" for r in a.rules}
        assert {"loitering", "restricted_zone"} <= rules
        camera = camera.model_copy(update={"analyzers": [a for a in camera.analyzers if a.type == "behaviour"], "loop": False})
        monkeypatch.setenv("TEST_DEMO_H_KEY", central.create_key("edge-demo", ["events:write"], store.store_id))
        store = store.model_copy(update={
            "cameras": {"pets-aisle": camera}, "outbox": OutboxConfig(path=tmp_path / "outbox.sqlite"),
            "central": store.central.model_copy(update={"url": central.url, "api_key_env": "TEST_DEMO_H_KEY"}),
        })
        with EdgeWorker(store, "pets-aisle", origin=T0, drain_timeout_s=30) as worker:
            summary = worker.run(max_frames=140)  # 14 s of video: the first long stay in the plaza ends at about 12 s
        assert summary.outbox_depth == 0, summary
        reader = central.create_key("reader", ["events:read", "reviews:read"])
        with httpx.Client(base_url=central.url, headers={"Authorization": f"Bearer {reader}"}, timeout=10) as client:
            events = client.get("/api/v1/events", params={"use_case": "H", "limit": 100}).json()["data"]
            items = client.get("/api/v1/reviews", params={"limit": 100}).json()["data"]
        assert {e["type"] for e in events} == {"behaviour.loitering", "behaviour.restricted_zone"}
        assert {i["event_id"] for i in items} >= {e["event_id"] for e in events}  # every notice is a review item
        files = BlobStore(central.settings.data_dir / "snapshots")
        for event in events:
            data = files.read(event["evidence"]["snapshot_ref"].removeprefix("sha256:"))
            clip = clip_of(data)
            assert clip is not None, event["type"]
            frames, fps = decode_clip(clip)
            assert fps == 5.0 and len(frames) >= 15 and frames[0].shape == (360, 480, 3)
    finally:
        central.stop()
