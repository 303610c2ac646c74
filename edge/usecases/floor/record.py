"""``anshin eval record-floor``: what a camera's floor analyzer reports over its video, as a density history.

Runs the camera's live settings (detector, tracker, detection cadence: the runner of
``anshin eval track``) over its video file, hands every frame's tracks to the camera's floor
analyzer with the video's clock, and writes the ``floor.positions`` payloads it emits, with their
time, to a JSON file. ``anshin eval route`` replays such a file; central's density code reads the
same payloads it would receive live, nothing else.

File shape::

    {"store_id": ..., "source": {...settings...},
     "reports": [{"camera_id": "pets-aisle", "t_s": 0.0, "positions": [[x, y], ...]}, ...]}
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import typer

from edge.detections import Detections
from edge.usecases.base import FrameContext
from edge.usecases.floor.analyzer import FloorAnalyzer
from edge.usecases.floor.config import FloorAnalyzerConfig

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the recording's clock starts here; t_s is what matters


def floor_reports(analyzer: FloorAnalyzer, tracks: dict[int, tuple[np.ndarray, np.ndarray]], fps: float,
                  frame_size: tuple[int, int], camera_id: str) -> list[dict[str, Any]]:
    """Feed per-frame people tracks ``{frame: (ids, xyxy)}`` through ``analyzer``; its ``floor.positions`` reports."""
    out = []
    for frame in sorted(tracks):
        ids, xyxy = tracks[frame]
        n = len(ids)
        det = Detections(xyxy=np.asarray(xyxy, np.float32).reshape(-1, 4), score=np.ones(n, np.float32),
                         class_id=np.zeros(n, np.int64), tracker_id=np.asarray(ids, np.int64))
        t_s = (frame - 1) / fps
        ctx = FrameContext("record", camera_id, EPOCH + timedelta(seconds=t_s), frame_size)
        for event in analyzer.update(det, ctx):
            if event.type == "floor.positions":
                out.append({"camera_id": camera_id, "t_s": round(t_s, 3), "positions": event.payload["positions"]})
    return out


def record_floor_command(
    config: Path = typer.Option(None, "--config", help="store config; default: config/demo-store.yaml"),
    camera: str = typer.Option("pets-aisle", "--camera", help="camera with a floor analyzer and a video file source"),
    out: Path = typer.Option(..., "--out", help="JSON file to write (e.g. config/floors/recordings/demo-store-pets.json)"),
    max_frames: int = typer.Option(100_000, "--max-frames", min=1, help="stop after this many frames"),
) -> None:
    """Record a camera's floor.positions reports over its video (for `anshin eval route`)."""
    from edge.config import ConfigError, load_store_config
    from edge.detectors import create_detector
    from edge.eval.options import fail
    from edge.eval.track import run_tracks
    from edge.paths import PROJECT_ROOT
    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence

    config = config or PROJECT_ROOT / "config" / "demo-store.yaml"
    try:
        store = load_store_config(config)
        cam = store.camera(camera)
    except (ConfigError, KeyError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    floors = [a for a in cam.analyzers if isinstance(a, FloorAnalyzerConfig)]
    if not floors or cam.source_kind != "file":
        raise fail(f"camera {camera!r} needs a floor analyzer and a video file source")
    video = Path(str(cam.source))
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    cadence = DetectTrackCadence(create_detector(cam.detector), ByteTracker(cam.tracker), cam.detect_every)
    tracks, seconds, _ = run_tracks(video, cadence, max_frames)
    reports = floor_reports(FloorAnalyzer(floors[0], cam.zones), tracks, fps, size, camera)
    document = {
        "store_id": store.store_id,
        "source": {"camera_id": camera, "video": video.name, "frames": len(tracks), "fps": fps, "frame_size": list(size),
                   "detector": cam.detector.model_dump(mode="json"), "detect_every": cam.detect_every,
                   "tracker": cam.tracker.model_dump(mode="json"), "interval_s": floors[0].interval_s,
                   "homography_pairs": len(floors[0].homography.pairs)},
        "reports": reports,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
    typer.echo(json.dumps({"out": str(out), "frames": len(tracks), "reports": len(reports),
                           "people_mean": round(float(np.mean([len(r["positions"]) for r in reports])), 2) if reports else 0.0,
                           "seconds": round(seconds, 1)}))
