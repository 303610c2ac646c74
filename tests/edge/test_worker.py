"""The real pipeline on real frames: PETS video → the camera's onnx detector → ByteTrack → occupancy → outbox → central."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from edge_builders import T0, CentralServer
from typer.testing import CliRunner

from edge.config import OutboxConfig, StoreConfig, load_store_config
from edge.paths import PROJECT_ROOT
from edge.sources import SourceNotFoundError
from edge.worker import EdgeWorker

DEMO = PROJECT_ROOT / "config" / "demo-store.yaml"
CAMERA = "pets-aisle"
FRAMES = 100  # 10 s of the 10 fps video


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    server = CentralServer(tmp_path_factory.mktemp("central")).start()
    server.writer = server.create_key("edge-demo", ["events:write"], "demo-store")
    server.reader = server.create_key("reader", ["events:read"])
    yield server
    server.stop()


def demo_store(tmp_path, central_url: str) -> StoreConfig:
    """The shipped demo config, pointed at a test outbox and a test central."""
    store = load_store_config(DEMO)
    return store.model_copy(update={
        "outbox": OutboxConfig(path=tmp_path / "outbox.sqlite"),
        "central": store.central.model_copy(update={"url": central_url, "api_key_env": "TEST_ANSHIN_EDGE_KEY",
                                                    "retry_initial_s": 0.05, "retry_max_s": 0.5}),
    })


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, central):
    """One run of the real worker over the first FRAMES frames, publishing to a real central."""
    tmp_path = tmp_path_factory.mktemp("worker")
    mp = pytest.MonkeyPatch()
    mp.setenv("TEST_ANSHIN_EDGE_KEY", central.writer)
    try:
        worker = EdgeWorker(demo_store(tmp_path, central.url), CAMERA, origin=T0)
        produced: list[dict] = []
        append = worker.outbox.append
        worker.outbox.append = lambda events, **kw: (produced.extend(e.model_dump(mode="json") for e in events), append(events, **kw))[1]
        summary = worker.run(max_frames=FRAMES)
        yield worker, summary, produced
        worker.close()
    finally:
        mp.undo()


def test_every_frame_is_analysed_and_every_nth_detected(pipeline):
    worker, summary, _ = pipeline
    every = worker.camera.detect_every
    detected = -(-FRAMES // every)  # frames 0, every, 2*every, ...
    assert (summary.frames, summary.detections_run) == (FRAMES, detected)
    timings = worker.stage_timings()
    assert {s: timings[s]["count"] for s in ("decode", "detect", "track", "analyze")} == {
        "decode": FRAMES, "detect": detected, "track": detected, "analyze": FRAMES}
    assert timings["detect"]["mean_ms"] > 0 and timings["publish"]["count"] >= 1
    p50, p95 = worker.timings.frame_percentiles_ms(50, 95)
    assert 0 < p50 <= p95


def test_occupancy_is_reported_every_two_seconds_of_video_time_per_zone(pipeline):
    _, _, produced = pipeline
    reports = [e for e in produced if e["type"] == "zone.occupancy"]
    times = sorted({e["occurred_at"] for e in reports})
    expected = [(T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z") for s in (0, 2, 4, 6, 8)]
    assert times == expected
    assert sorted(e["payload"]["zone"] for e in reports) == sorted(["plaza", "crossing", "west-path"] * 5)


def test_counts_are_plausible_for_the_pets_scene(pipeline):
    worker, _, produced = pipeline
    reports = [e["payload"] for e in produced if e["type"] == "zone.occupancy"]
    assert all(0 <= r["count"] <= r["peak_count"] <= 12 for r in reports)  # peak includes the reporting frame
    assert all(r["unique_tracks"] >= r["peak_count"] for r in reports if r["interval_s"] > 0)
    plaza_peak = max(r["peak_count"] for r in reports if r["zone"] == "plaza")
    assert 3 <= plaza_peak <= 8  # 3-6 walkers cross the central paving in the first 10 s
    # Reports at one instant never count more people in the zones than the scene holds.
    by_time: dict[str, int] = {}
    for e in produced:
        if e["type"] == "zone.occupancy":
            by_time[e["occurred_at"]] = by_time.get(e["occurred_at"], 0) + e["payload"]["count"]
    assert max(by_time.values()) <= 12 and sum(by_time.values()) > 0


def test_the_crowded_plaza_raises_one_explained_alert(pipeline):
    _, _, produced = pipeline
    alerts = [e for e in produced if e["type"] == "zone.overcrowded"]
    plaza = [a for a in alerts if a["payload"]["zone"] == "plaza"]
    assert len(plaza) == 1
    alert = plaza[0]
    assert alert["review_required"] and alert["severity"] == "warning"
    assert alert["payload"]["count"] > alert["payload"]["capacity"] == 3
    assert len(alert["evidence"]["boxes"]) == alert["payload"]["count"]
    assert all(b["track_id"] is not None and b["label"] == "person" for b in alert["evidence"]["boxes"])
    assert alert["explanation"]["rule"] == "occupancy_over_capacity"
    detector = load_store_config(DEMO).camera(CAMERA).detector
    assert alert["explanation"]["model"]["name"] == f"{Path(detector.model).stem}+{Path(detector.near.model).stem}"  # both ran
    assert alert["explanation"]["measured"]["consecutive_frames"] == 3.0


def test_every_event_reached_central_and_the_outbox_is_empty(pipeline, central):
    _, summary, produced = pipeline
    assert summary.events == len(produced) and summary.outbox_depth == 0 and summary.dead_letters == 0
    stored = central.stored_event_ids(central.reader, camera_id=CAMERA)
    assert sorted(stored) == sorted(e["event_id"] for e in produced)


def test_snapshot_has_the_last_frame_and_zone_counts(pipeline):
    worker, _, _ = pipeline
    snap = worker.snapshot()
    assert snap.frame_index == FRAMES - 1 and snap.captured_at == T0 + timedelta(seconds=(FRAMES - 1) / 10)
    image = cv2.imdecode(np.frombuffer(snap.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 480, 3)
    counts = snap.live["occupancy"]["zone_counts"]  # use case F's live state, offered through its hook
    assert set(counts) == {"plaza", "crossing", "west-path"}
    assert sum(counts.values()) <= snap.tracks <= 12


def test_minimal_privacy_profile_keeps_images_in_the_worker(pipeline):
    worker, _, _ = pipeline
    minimal = worker.store.model_copy(update={"privacy_profile": "minimal"})
    worker.store, original = minimal, worker.store
    try:
        snap = worker.snapshot()
    finally:
        worker.store = original
    assert snap.jpeg is None and set(snap.live["occupancy"]["zone_counts"]) == {"plaza", "crossing", "west-path"}


def test_a_missing_video_is_named_before_any_model_loads(tmp_path):
    store = StoreConfig.model_validate(
        {"store_id": "s1", "outbox": {"path": str(tmp_path / "o.sqlite")},
         "cameras": {"door": {"source": "clips/door.mp4", "detector": {"type": "onnx", "model": "absent.onnx"}}}},
        context={"base_dir": tmp_path},
    )
    with pytest.raises(SourceNotFoundError, match=f"camera 'door': video file {tmp_path}/clips/door.mp4 does not exist"):
        EdgeWorker(store, "door", publish=False)


def test_cli_edge_run_refuses_to_start_without_the_api_key(monkeypatch):
    from anshin.cli import app

    monkeypatch.delenv("ANSHIN_EDGE_KEY", raising=False)
    result = CliRunner().invoke(app, ["edge", "run", "--config", str(DEMO), "--camera", CAMERA, "--max-frames", "1"])
    assert result.exit_code == 2
    assert "ANSHIN_EDGE_KEY" in result.output and "not set" in result.output


CLI_STORE = """\
store_id: cli-store
outbox: {{path: outbox.sqlite}}
cameras:
  aisle:
    source: {video}
    tracker: {{frame_rate: 10}}
    zones:
      left: {{polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}}
      right: {{polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}}
    analyzers:
      - type: occupancy
        zones: {{left: {{capacity: 2}}, right: {{capacity: 2}}}}
"""


def test_cli_edge_run_processes_frames_and_prints_a_summary(tmp_path, pets_video):
    from anshin.cli import app

    config = tmp_path / "store.yaml"
    config.write_text(CLI_STORE.format(video=pets_video))
    result = CliRunner().invoke(app, ["edge", "run", "--config", str(config), "--max-frames", "5", "--no-publish"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["frames"] == 5 and summary["events"]["zone.occupancy"] == 2 and summary["outbox_depth"] >= 2
    assert set(summary["stage_mean_ms"]) == {"decode", "detect", "track", "analyze", "faces", "evidence", "live", "outbox", "publish"}
    assert (tmp_path / "outbox.sqlite").is_file()  # relative to the YAML file
