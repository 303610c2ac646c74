"""Colour appearance in ByteTrack association: ids follow clothing when positions are ambiguous."""

from __future__ import annotations

import numpy as np
import pytest

from edge.detections import Detections
from edge.tracking import ByteTracker
from edge.tracking.appearance import SIZE, appearance_distance, box_appearances
from edge.tracking.config import TrackerConfig

RED, BLUE = (0, 0, 220), (220, 60, 0)
LEFT, RIGHT = [100, 100, 140, 200], [125, 100, 165, 200]  # overlapping boxes, IoU 0.23


def scene(people: list[tuple[list[int], tuple[int, int, int]]]) -> tuple[np.ndarray, Detections]:
    image = np.full((300, 300, 3), 90, np.uint8)  # grey ground; where two boxes overlap stays grey
    for box, colour in people:
        x0, y0, x1, y1 = box
        image[y0:y1, x0:x1] = colour
    if len(people) == 2:
        (a, _), (b, _) = people
        lo, hi = max(a[0], b[0]), min(a[2], b[2])
        image[100:200, lo:hi] = 90
    boxes = np.array([box for box, _ in people], np.float32)
    return image, Detections(boxes, np.full(len(people), 0.9, np.float32), np.zeros(len(people), np.int64))


def id_of_red_after_the_swap(weight: float) -> tuple[int, int]:
    tracker = ByteTracker(TrackerConfig(appearance_weight=weight, fuse_score=False))
    for _ in range(3):  # red stands left, blue right (drawn last, so blue's visible part is its own)
        image, dets = scene([(LEFT, RED), (RIGHT, BLUE)])
        first = tracker.update(dets, image)
    red_id = int(first.tracker_id[0])
    image, dets = scene([(RIGHT, RED), (LEFT, BLUE)])  # they swapped places between two frames
    after = tracker.update(dets, image)
    return red_id, int(after.tracker_id[list(map(list, after.xyxy.astype(int))).index(RIGHT)])


def test_with_appearance_the_id_follows_the_clothes():
    red_id, id_on_red = id_of_red_after_the_swap(2.0)
    assert id_on_red == red_id


def test_without_appearance_the_id_follows_the_position():
    red_id, id_on_red = id_of_red_after_the_swap(0.0)
    assert id_on_red != red_id


def test_appearances_are_two_normalised_halves_and_empty_boxes_are_unknown():
    image, dets = scene([(LEFT, RED), ([200, 100, 240, 200], BLUE)])
    looks = box_appearances(image, np.vstack([dets.xyxy, [[10, 10, 11, 11]]]))
    assert looks.shape == (3, SIZE)
    assert np.allclose(looks[:2, : SIZE // 2].sum(1), 1) and np.allclose(looks[:2, SIZE // 2 :].sum(1), 1)
    assert not looks[2].any()  # too small to measure
    d = appearance_distance(looks, looks)
    assert d[0, 0] == pytest.approx(0, abs=1e-6) and d[0, 1] > 0.9 and d[2, 0] == 0.0  # unknown: no evidence


def test_appearance_is_off_by_default_so_ids_match_the_reference():
    assert TrackerConfig().appearance_weight == 0.0
