"""Our numpy ByteTrack against ultralytics' BYTETracker on real PETS detections, and the torch-free edge path.

The reference is imported inside the test only (it pulls in torch); the edge code never imports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from edge.detections import Detections
from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig
from edge.paths import media_dir
from edge.tracking import ByteTracker, TrackerConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PETS = "pets2009_vtest_480x360.mp4"
FRAMES = 60
BOX_TOLERANCE_PX = 1e-3  # both return the detector's own boxes, so they must be the same rows
HEAVY = ("torch", "torchvision", "ultralytics")


@pytest.fixture(scope="module")
def pets_detections() -> list[Detections]:
    """Person detections (conf >= 0.1, so ByteTrack's low-score stage has work) for FRAMES PETS frames, 10 fps."""
    detector = create_detector(OnnxDetectorConfig(conf=0.1))
    video = cv2.VideoCapture(str(media_dir() / PETS))
    found = []
    try:
        for _ in range(FRAMES):
            ok, frame = video.read()
            assert ok, f"{PETS} ended before {FRAMES} frames"
            found.append(detector.detect(frame))
    finally:
        video.release()
    return found


# ------------------------------------------------------------------ the reference, adapted


class _ReferenceBoxes:
    """The ``Boxes``-like view ultralytics' BYTETracker reads: conf, cls, xywh, len, mask indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy, self.conf, self.cls = xyxy, conf, cls

    @property
    def xywh(self) -> np.ndarray:
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> _ReferenceBoxes:
        return _ReferenceBoxes(self.xyxy[index], self.conf[index], self.cls[index])


class ReferenceTracker:
    """ultralytics' BYTETracker behind our ``update(detections) -> Detections`` interface."""

    def __init__(self, config: TrackerConfig) -> None:
        byte_tracker = pytest.importorskip("ultralytics.trackers.byte_tracker")  # needs torch
        self._tracker = byte_tracker.BYTETracker(SimpleNamespace(
            tracker_type="bytetrack", track_high_thresh=config.track_high_thresh,
            track_low_thresh=config.track_low_thresh, new_track_thresh=config.new_track_thresh,
            track_buffer=config.lost_frames,  # ultralytics 8.4 reads the buffer as frames, without fps scaling
            match_thresh=config.match_thresh, fuse_score=config.fuse_score,
        ))

    def update(self, detections: Detections, frame: np.ndarray | None = None) -> Detections:
        rows = self._tracker.update(_ReferenceBoxes(detections.xyxy, detections.score, detections.class_id.astype(np.float32)), frame)
        if len(rows) == 0:
            return detections[np.zeros(0, np.int64)].with_tracker_ids(np.zeros(0, np.int64))
        return detections[rows[:, -1].astype(np.int64)].with_tracker_ids(rows[:, 4].astype(np.int64))


# ------------------------------------------------------------------ comparing two runs


@dataclass(frozen=True)
class Agreement:
    """How far two tracker runs over the same detections agree.

    A frame agrees when both return the same boxes (same rows of the detections) and every box's
    id pair (ours, reference) is consistent with one one-to-one id mapping kept over the whole run.
    """

    frames: int
    frames_agreeing: int
    tracks: int  # (frame, track) rows in our run
    id_pairs: int
    mismatches: tuple[str, ...]

    @property
    def share(self) -> float:
        return self.frames_agreeing / self.frames if self.frames else 1.0


def compare_runs(ours: list[Detections], reference: list[Detections]) -> Agreement:
    forward: dict[int, int] = {}
    backward: dict[int, int] = {}
    agreeing, mismatches = 0, []
    for k, (a, b) in enumerate(zip(ours, reference, strict=True)):
        problems = []
        if len(a) != len(b):
            problems.append(f"{len(a)} tracks vs {len(b)}")
        else:
            close = np.abs(a.xyxy[:, None, :] - b.xyxy[None, :, :]).max(axis=2) <= BOX_TOLERANCE_PX
            for i, mine in enumerate(a.tracker_id.tolist()):
                hits = np.flatnonzero(close[i])
                if len(hits) != 1:
                    problems.append(f"box {a.xyxy[i].tolist()} has {len(hits)} partners")
                    continue
                theirs = int(b.tracker_id[hits[0]])
                if forward.setdefault(mine, theirs) != theirs or backward.setdefault(theirs, mine) != mine:
                    problems.append(f"id {mine} ~ reference {theirs}, earlier {forward.get(mine)} ~ {backward.get(theirs)}")
        agreeing += not problems
        mismatches += [f"frame {k + 1}: {p}" for p in problems]
    return Agreement(len(ours), agreeing, sum(len(a) for a in ours), len(forward), tuple(mismatches))


def run(tracker: Any, detections: list[Detections]) -> tuple[list[Detections], float]:
    """Tracks per frame, and the mean tracking time per frame in milliseconds."""
    out, start = [], time.perf_counter()
    for found in detections:
        out.append(tracker.update(found))
    return out, 1000 * (time.perf_counter() - start) / max(1, len(detections))


def with_gaps(detections: list[Detections], blank: set[int]) -> list[Detections]:
    """The same run with the detector blind (no detections) on the ``blank`` frame indices."""
    return [Detections.empty() if k in blank else d for k, d in enumerate(detections)]


def thinned(detections: list[Detections], keep: float, seed: int) -> list[Detections]:
    """Each detection kept with probability ``keep``: people drop out one at a time, as under occlusion."""
    rng = np.random.default_rng(seed)
    return [d[rng.random(len(d)) < keep] for d in detections]


# ------------------------------------------------------------------ equivalence

# Gaps of 1 to 4 blind frames: with a buffer of 2 frames (+1 grace frame, see bytetrack._keep_lost) the
# shorter gaps re-find lost tracks and the 4-frame one ends them, so both paths are exercised.
GAPS = {8, 15, 16, 25, 26, 27, 40, 41, 42, 43}
SCENARIOS = [
    pytest.param(TrackerConfig(frame_rate=10), None, id="pets-10fps"),
    pytest.param(TrackerConfig(), None, id="defaults-30fps"),
    pytest.param(TrackerConfig(frame_rate=10, track_buffer=6, fuse_score=False, match_thresh=0.7), None,
                 id="short-buffer-no-fusion"),
    pytest.param(TrackerConfig(frame_rate=10, track_buffer=6), "gaps", id="blind-frames"),
    pytest.param(TrackerConfig(frame_rate=10, track_buffer=6, new_track_thresh=0.4), "thinned", id="occlusion-dropouts"),
]


@pytest.mark.parametrize(("config", "perturb"), SCENARIOS)
def test_matches_ultralytics_bytetracker_on_pets(pets_detections, config, perturb):
    detections = {None: pets_detections, "gaps": with_gaps(pets_detections, GAPS),
                  "thinned": thinned(pets_detections, keep=0.8, seed=7)}[perturb]
    reference_tracker = ReferenceTracker(config)
    ours, ours_ms = run(ByteTracker(config), detections)
    reference, reference_ms = run(reference_tracker, detections)

    agreement = compare_runs(ours, reference)
    print(f"\n{agreement.frames_agreeing}/{agreement.frames} frames agree, {agreement.tracks} tracks, "
          f"{agreement.id_pairs} ids; tracking ms/frame: ours {ours_ms:.2f}, ultralytics {reference_ms:.2f}")
    assert agreement.tracks > 3 * FRAMES, "too few tracks for the comparison to mean anything"
    # Same algorithm, same detections, same assignment solver: exact agreement is expected. Only
    # float rounding differs (we compute in float64, the reference partly in float32), which could
    # flip a pair sitting exactly on a threshold; none does on these frames.
    assert agreement.share == 1.0, agreement.mismatches[:10]


def test_comparison_catches_swapped_ids(pets_detections):
    """The comparison itself can fail: swapping two ids halfway is a mapping conflict."""
    config = TrackerConfig(frame_rate=10)
    ours, _ = run(ByteTracker(config), pets_detections)
    swapped = []
    for k, tracks in enumerate(ours):
        ids = tracks.tracker_id.copy()
        if k >= FRAMES // 2:
            ids = np.where(ids == 1, 2, np.where(ids == 2, 1, ids))
        swapped.append(tracks.with_tracker_ids(ids))
    assert compare_runs(ours, ours).share == 1.0
    assert compare_runs(ours, swapped).share < 1.0


@pytest.mark.parametrize(("before", "after"), [
    pytest.param(7, 9, id="1 blind frame"),
    pytest.param(14, 17, id="2 blind frames"),
    pytest.param(24, 28, id="3 blind frames (grace frame)"),
])
def test_ids_survive_blind_spells_up_to_buffer_plus_grace(pets_detections, before, after):
    """Buffer 2 frames + 1 grace frame: whoever is tracked across the spell without it keeps their id."""
    config = TrackerConfig(frame_rate=10, track_buffer=6)  # lost_frames = 2
    seen, _ = run(ByteTracker(config), pets_detections)
    blind, _ = run(ByteTracker(config), with_gaps(pets_detections, GAPS))
    across = ids(seen[before]) & ids(seen[after])
    assert len(across) >= 3
    assert len(ids(blind[before]) & ids(blind[after])) == len(across)


def test_tracks_expire_after_a_longer_blind_spell(pets_detections):
    blind, _ = run(ByteTracker(TrackerConfig(frame_rate=10, track_buffer=6)), with_gaps(pets_detections, GAPS))
    assert len(blind[44]) == 0, "after 4 blind frames every detection starts an unconfirmed track"
    assert ids(blind[39]) and ids(blind[45])
    assert not ids(blind[39]) & ids(blind[45])


def ids(tracks: Detections) -> set[int]:
    return set(tracks.tracker_id.tolist())


# ------------------------------------------------------------------ torch-free edge path

PROBE = f"""
import json, sys
# PRELOAD
import cv2
import edge.worker, edge.detectors, edge.detectors.plugins.onnx, edge.tracking
from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig
from edge.paths import media_dir
from edge.tracking import ByteTracker

video = cv2.VideoCapture(str(media_dir() / {PETS!r}))
ok, frame = video.read()
tracker = ByteTracker()
tracks = tracker.update(create_detector(OnnxDetectorConfig()).detect(frame), frame)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps({{"tracks": len(tracks), "heavy": heavy[:5]}}))
"""


def probe(preload: str = "") -> dict[str, Any]:
    """Run the slim edge path (import worker, detect with onnx, track) in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE.replace("# PRELOAD", preload)], capture_output=True, text=True,
                          timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_slim_edge_path_never_imports_torch_or_ultralytics():
    result = probe()
    assert result["tracks"] >= 1, "PETS frame 1 shows walkers; the probe must really track"
    assert result["heavy"] == [], f"the onnx + tracking path imported {result['heavy']}"


def test_probe_sees_torch_when_ultralytics_is_imported():
    """Control: the probe does notice a heavy import (ultralytics' tracker module pulls in torch)."""
    pytest.importorskip("ultralytics")
    assert "torch" in probe(preload="import ultralytics.trackers.byte_tracker")["heavy"]
