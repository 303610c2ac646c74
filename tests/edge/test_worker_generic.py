"""The worker knows no use case: it names no event type or label, calls the analyzers' hooks
without knowing what they draw, and gives events of replayable sources deterministic ids."""

from __future__ import annotations

import ast
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from edge_builders import T0, NoDetector, NoTracker

import edge.worker
from edge.config import StoreConfig
from edge.detections import Detections
from edge.usecases import EvidenceRequest
from edge.worker import EdgeWorker, replay_event_id
from services.contract import Event, UseCase

# Event types, use-case words and class labels the worker must not know.
FORBIDDEN = ("zone", "entrance", "occupancy", "overcrowded", "mask", "fever", "person", "people", "capacity")


def test_the_worker_module_names_no_event_type_label_or_zone():
    tree = ast.parse(Path(edge.worker.__file__).read_text(encoding="utf-8"))
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)] + [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    found = [(word, text) for text in strings + names for word in FORBIDDEN if word in text.lower()]
    assert found == []
    assert [m for m in modules if m.startswith("edge.usecases.")] == []  # only the registry, never a use case


def clip(tmp_path: Path, frames: int = 4) -> Path:
    """A short real video: the first frames of PETS 2009, so a looped run passes through it several times."""
    from edge.paths import media_dir

    source = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (480, 360))
    for _ in range(frames):
        ok, image = source.read()
        assert ok
        writer.write(image)
    writer.release()
    source.release()
    return path


def store(tmp_path: Path, video: Path, outbox: str = "outbox.sqlite", **camera: Any) -> StoreConfig:
    return StoreConfig.model_validate({
        "store_id": "s1", "privacy_profile": "standard", "outbox": {"path": str(tmp_path / outbox)},
        "cameras": {"aisle": {
            "source": str(video), "loop": True, "tracker": {"frame_rate": 10},
            "zones": {"all": {"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}},
            "analyzers": [{"type": "occupancy", "interval_s": 0.1, "min_frames": 1, "hysteresis": 0, "zones": {"all": {"capacity": 1}}}],
            **camera,
        }},
    })


def run_ids(config: StoreConfig, frames: int) -> tuple[list[str], list[str]]:
    """Event ids the worker queued, and those among them that came with a picture."""
    with EdgeWorker(config, "aisle", publish=False, origin=T0) as worker:
        worker.run(max_frames=frames)
        ids = [json.loads(item.body)["event_id"] for item in worker.outbox.peek(1000)]
        return ids, sorted(worker.outbox.blobs_for(ids))


def test_a_replayed_file_yields_the_same_event_ids(tmp_path):
    video = clip(tmp_path)
    first, pictured = run_ids(store(tmp_path, video, "first.sqlite"), frames=8)
    again, _ = run_ids(store(tmp_path, video, "again.sqlite"), frames=8)  # fresh worker, fresh analyzers
    assert len(first) >= 8 and first == again
    assert len(set(first)) == len(first)  # the second loop pass over the same pictures gets its own ids
    assert pictured, "the over-capacity alerts come with their pictures, under their deterministic ids"

    # An edge restarted after a crash replays from frame 0 into the same outbox: nothing is queued twice.
    run_ids(store(tmp_path, video, "restart.sqlite"), frames=5)
    after_restart, _ = run_ids(store(tmp_path, video, "restart.sqlite"), frames=8)
    assert after_restart == first


def test_ids_depend_on_store_camera_source_frame_analyzer_and_order():
    base = ("s1", "c1", "/v/a.mp4", 7, "0:occupancy", 0)
    variants = [("s2",) + base[1:], base[:1] + ("c2",) + base[2:], base[:2] + ("/v/b.mp4",) + base[3:],
                base[:3] + (8,) + base[4:], base[:4] + ("1:occupancy",) + base[5:], base[:5] + (1,)]
    ids = {replay_event_id(*v) for v in [base, *variants]}
    assert len(ids) == 7 and replay_event_id(*base) == replay_event_id(*base)


class Painter:
    """A use case the worker has never heard of: one alert per frame, a live state and an overlay."""

    use_case: ClassVar[UseCase] = UseCase.F
    type: ClassVar[str] = "painter"

    def __init__(self) -> None:
        self.frames = 0

    def update(self, tracks: Detections, ctx: Any):
        self.frames += 1
        event = Event(type="test.painted", use_case=UseCase.F, store_id=ctx.store_id, camera_id=ctx.camera_id,
                      occurred_at=ctx.at, severity="notice", payload={"n": self.frames})
        yield ctx.with_evidence(event, EvidenceRequest(blur=(((0.0, 0.0, 40.0, 40.0), "face"),)))

    def live_state(self) -> dict[str, int]:
        return {"frames": self.frames}

    def overlay(self, image: np.ndarray, state: dict[str, int]) -> None:
        image[:10, :10] = (0, 0, 255)


def test_hooks_and_pictures_of_an_unknown_analyzer_go_through_unchanged(tmp_path):
    video = clip(tmp_path, frames=2)
    config = store(tmp_path, video, analyzers=[])
    with EdgeWorker(config, "aisle", publish=False, origin=T0, detector=NoDetector(), tracker=NoTracker()) as worker:
        worker.analyzers = [Painter()]
        before = worker.snapshot()
        assert (before.jpeg, before.live, before.frame_index) == (None, {"painter": {"frames": 0}}, -1)
        summary = worker.run(max_frames=3)
        snap = worker.snapshot()
        queued = [json.loads(i.body) for i in worker.outbox.peek(10)]
        pictures = worker.outbox.blobs_for([e["event_id"] for e in queued])
    assert summary.events_by_type == {"test.painted": 3}
    assert snap.live == {"painter": {"frames": 3}} and snap.frame_index == 2 and snap.tracks == 0
    image = cv2.imdecode(np.frombuffer(snap.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image[:8, :8, 2].mean() > 200 and image[:8, :8, :2].mean() < 60  # the analyzer's own overlay
    assert set(pictures) == {e["event_id"] for e in queued} and all(anon for _, anon in pictures.values())


@pytest.mark.parametrize("source", ["rtsp://camera.lan/stream", 0])
def test_live_sources_keep_random_ids(tmp_path, source):
    config = StoreConfig.model_validate({"store_id": "s1", "outbox": {"path": str(tmp_path / "o.sqlite")},
                                         "cameras": {"aisle": {"source": source}}})
    with EdgeWorker(config, "aisle", publish=False, detector=NoDetector(), tracker=NoTracker()) as worker:
        assert not worker._replayable
        event = Event(type="test.x", use_case=UseCase.F, store_id="s1", camera_id="aisle",
                      occurred_at=datetime.now(timezone.utc), severity="info", payload={})
        frame = type("F", (), {"index": 0})()
        assert worker._identified(event, frame, "0:x", 0).event_id == event.event_id
