"""ByteTrack: ids persist on real pedestrian video; Detections in, Detections out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.detections import Detections
from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig
from edge.paths import media_dir
from edge.tracking import ByteTracker, TrackerConfig

FRAMES = 60


def boxes(*xyxy: list[float], score: float = 0.9) -> Detections:
    n = len(xyxy)
    return Detections(np.array(xyxy, np.float32).reshape(-1, 4), np.full(n, score, np.float32), np.zeros(n, np.int64))


@pytest.fixture(scope="module")
def pets_run():
    """Detections and tracks for the first FRAMES frames of PETS 2009 S2L1 (10 fps, 480x360)."""
    detector = create_detector(OnnxDetectorConfig(conf=0.1))  # low scores feed ByteTrack's second association
    tracker = ByteTracker(TrackerConfig(frame_rate=10))
    video = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    run = []
    try:
        for _ in range(FRAMES):
            ok, frame = video.read()
            assert ok, "video ended early"
            found = detector.detect(frame)
            run.append((found, tracker.update(found, frame)))
    finally:
        video.release()
    return run


def test_ids_persist_from_frame_to_frame(pets_run):
    kept = []
    for (_, before), (_, after) in zip(pets_run, pets_run[1:]):
        if len(before):
            kept.append(len(set(before.tracker_id) & set(after.tracker_id)) / len(before))
    assert np.mean(kept) >= 0.9, f"mean share of tracks keeping their id: {np.mean(kept):.2f}"


def test_number_of_distinct_ids_is_plausible(pets_run):
    per_frame = [len(t) for _, t in pets_run]
    distinct = set().union(*(set(t.tracker_id.tolist()) for _, t in pets_run))
    assert max(per_frame) >= 3, "PETS S2L1 shows several walkers from the first frames"
    # Six seconds of walkers: every person once, plus a few re-starts, never one id per detection.
    assert max(per_frame) <= len(distinct) <= 3 * max(per_frame), (len(distinct), max(per_frame))
    assert sum(per_frame) > 3 * len(distinct)


def test_tracks_are_the_detectors_boxes_with_unique_ids(pets_run):
    for found, tracks in pets_run:
        assert tracks.tracker_id is not None
        assert len(set(tracks.tracker_id.tolist())) == len(tracks)
        assert (tracks.tracker_id >= 1).all()
        if len(tracks):
            assert (box_rows_in(tracks.xyxy, found.xyxy)).all()


def box_rows_in(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    return (np.abs(rows[:, None, :] - table[None, :, :]).max(axis=2) < 1e-3).any(axis=1)


def test_a_moving_person_keeps_one_id():
    tracker = ByteTracker()
    ids = [tracker.update(boxes([100 + 3 * i, 50, 140 + 3 * i, 150])).tracker_id.tolist() for i in range(10)]
    assert ids == [[1]] * 10


def test_two_people_get_two_ids_and_an_empty_frame_gives_empty_tracks():
    tracker = ByteTracker()
    first = tracker.update(boxes([0, 0, 40, 100], [200, 0, 240, 100]))
    assert sorted(first.tracker_id.tolist()) == [1, 2]
    empty = tracker.update(Detections.empty())
    assert len(empty) == 0 and empty.tracker_id is not None and empty.tracker_id.shape == (0,)


def test_low_score_detections_never_start_tracks():
    tracker = ByteTracker(TrackerConfig(new_track_thresh=0.5))
    assert len(tracker.update(boxes([0, 0, 40, 100], score=0.3))) == 0


def test_reset_restarts_ids():
    tracker = ByteTracker()
    tracker.update(boxes([0, 0, 40, 100], [200, 0, 240, 100]))
    tracker.reset()
    assert tracker.update(boxes([500, 0, 540, 100])).tracker_id.tolist() == [1]


def test_tracker_config_rejects_inverted_thresholds():
    with pytest.raises(ValidationError, match="track_low_thresh"):
        TrackerConfig(track_low_thresh=0.6, track_high_thresh=0.5)
