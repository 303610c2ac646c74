"""Issue 4 acceptance: the tuned demo pipeline's detector settings still find every person on bus.jpg.

The settings come from ``config/demo-store.yaml`` (camera ``pets-aisle``) through the same loader and
``create_detector`` the edge worker uses, so a later tuning of that file is checked here too.
"""

from __future__ import annotations

import cv2
import pytest

from edge.config import load_store_config
from edge.detectors import create_detector
from edge.eval.detect import load_reference_photos, match_boxes
from edge.paths import PROJECT_ROOT, media_dir

DEMO_STORE = PROJECT_ROOT / "config" / "demo-store.yaml"


@pytest.fixture(scope="module")
def demo_detector():
    camera = load_store_config(DEMO_STORE).cameras["pets-aisle"]
    return create_detector(camera.detector)


@pytest.mark.parametrize("name", ["bus.jpg", "zidane.jpg"])
def test_tuned_demo_detector_finds_every_person(demo_detector, name):
    truth = next(p for p in load_reference_photos() if p.file == name).persons
    people = demo_detector.detect(cv2.imread(str(media_dir() / name))).people()
    pairs = match_boxes(truth, people.xyxy, people.score, min_iou=0.5)
    matched = sorted(t for t, _ in pairs)
    assert matched == list(range(len(truth))), (
        f"{name}: {len(truth)} people, {len(people)} person detections, matched persons {matched} "
        f"(IoU >= 0.5, one detection each); boxes {people.xyxy.round().tolist()}")
    assert len({d for _, d in pairs}) == len(truth)  # each person matched to a distinct detection
