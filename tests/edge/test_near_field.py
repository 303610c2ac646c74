"""The near-field pair: the camera's fine-tuned model for the people it learnt, a general one for nearer people."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.config import load_store_config
from edge.detections import Detections
from edge.detectors import create_detector
from edge.detectors.config import NearFieldConfig, OnnxDetectorConfig
from edge.detectors.near_field import NearFieldDetector, route_by_height
from edge.paths import PROJECT_ROOT, media_dir


def _frames(*wanted: int) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    out = {}
    try:
        for number in range(1, max(wanted) + 1):
            ok, image = capture.read()
            assert ok, f"PETS frame {number} unreadable"
            if number in wanted:
                out[number] = image
    finally:
        capture.release()
    return out


def test_heights_that_leave_a_gap_between_the_models_are_refused() -> None:
    with pytest.raises(ValidationError, match="found by neither model"):
        NearFieldConfig(min_height_px=100, main_max_height_px=90)
    with pytest.raises(ValidationError, match="near"):
        OnnxDetectorConfig.model_validate({"near": {"model": "x.onnx", "min_height": 70}})  # misspelt key


def test_boxes_are_routed_by_height_and_one_person_found_twice_is_kept_once() -> None:
    cfg = NearFieldConfig(min_height_px=70, main_max_height_px=90)
    main = Detections(xyxy=[[0, 0, 20, 50], [50, 0, 80, 80], [100, 0, 140, 120]], score=[0.9, 0.6, 0.3], class_id=[0, 0, 0])
    near = Detections(xyxy=[[0, 0, 20, 49], [51, 0, 81, 80], [200, 0, 240, 110]], score=[0.95, 0.5, 0.7], class_id=[0, 0, 0])
    out = route_by_height(main, near, cfg)
    # small person: main only (near's 49 px box is below its range); 80 px person: in both ranges, once,
    # with the higher score; main's 120 px box is beyond what it learnt; near's 110 px person is added.
    assert sorted(map(tuple, out.xyxy.tolist())) == [(0, 0, 20, 50), (50, 0, 80, 80), (200, 0, 240, 110)]
    assert sorted(out.score.tolist()) == pytest.approx([0.6, 0.7, 0.9])
    assert len(route_by_height(Detections.empty(), Detections.empty(), cfg)) == 0


def test_the_demo_camera_finds_people_near_the_lens_its_own_model_scores_too_low_to_track() -> None:
    """PETS frames 520 and 600 (after the labelled 1-400): a walker close to the camera, taller than any
    labelled person. The camera's own model scores them below the tracker's bar for a new track; the
    pair hands the tracker the general model's confident box instead."""
    cam = load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml").camera("pets-aisle")
    pair = create_detector(cam.detector)
    assert isinstance(pair, NearFieldDetector) and pair.model_version.count("+") == 1
    for number, image in _frames(520, 600).items():
        own, both = pair.main.detect(image).people(), pair.detect(image).people()
        own_tallest, tallest = _tallest(own), _tallest(both)
        assert own.score[own_tallest] < cam.tracker.new_track_thresh <= both.score[tallest], number
        assert _height(both)[tallest] > 75 and _iou(own.xyxy[own_tallest], both.xyxy[tallest]) > 0.5, number  # the same person


def _height(dets: Detections) -> np.ndarray:
    return dets.xyxy[:, 3] - dets.xyxy[:, 1]


def _tallest(dets: Detections) -> int:
    return int(np.argmax(_height(dets)))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    from services.shared.boxes import box_iou

    return float(box_iou(a[None], b[None])[0, 0])
