"""Re-linking in ByteTrack: a person the detector missed for a while keeps their id when they reappear
near where they were lost, in the same clothes; anyone else, or an ambiguous pair, gets a new id."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from edge.detections import Detections
from edge.tracking import ByteTracker
from edge.tracking.config import TrackerConfig

RED, BLUE, GREEN = (0, 0, 220), (220, 60, 0), (0, 200, 0)


def frame(people: list[tuple[list[int], tuple[int, int, int]]]) -> tuple[np.ndarray, Detections]:
    image = np.full((300, 400, 3), 90, np.uint8)
    for (x0, y0, x1, y1), colour in people:
        image[y0:y1, x0:x1] = colour
    boxes = np.array([box for box, _ in people], np.float32).reshape(-1, 4)
    return image, Detections(boxes, np.full(len(people), 0.9, np.float32), np.zeros(len(people), np.int64))


def tracker(relink: float) -> ByteTracker:
    return ByteTracker(TrackerConfig(appearance_weight=1.0, fuse_score=False, relink_max_distance=relink,
                                     frame_rate=10, track_buffer=60))


def walk_then_reappear(t: ByteTracker, first: tuple[int, int, int], again: tuple[int, int, int],
                       missed: int = 6, jump: int = -20) -> tuple[int, int]:
    """A person walks right 5 px a frame, is missed for ``missed`` frames, and a box reappears ``jump`` px
    from their last one: the Kalman filter expects them 30 px further right, so no box overlaps that."""
    x = 50
    for _ in range(6):
        image, dets = frame([([x, 100, x + 40, 200], first)])
        seen = t.update(dets, image)
        x += 5
    first_id = int(seen.tracker_id[0])
    for _ in range(missed):
        t.update(*reversed(frame([])))  # nobody detected
    x = x - 5 + jump
    ids = []
    for _ in range(2):  # a new track needs a second frame to be confirmed
        image, dets = frame([([x, 100, x + 40, 200], again)])
        ids = t.update(dets, image).tracker_id.tolist()
    return first_id, ids[0]


def test_a_person_missed_for_a_while_keeps_their_id():
    first_id, later_id = walk_then_reappear(tracker(0.2), RED, RED)
    assert later_id == first_id


def test_without_relinking_they_get_a_new_id():
    first_id, later_id = walk_then_reappear(tracker(0.0), RED, RED)
    assert later_id != first_id


def test_someone_in_other_clothes_gets_a_new_id():
    first_id, later_id = walk_then_reappear(tracker(0.2), RED, BLUE)
    assert later_id != first_id


def test_a_box_far_from_where_the_person_was_lost_gets_a_new_id():
    first_id, later_id = walk_then_reappear(tracker(0.2), RED, RED, jump=200)  # over 1.3 box heights
    assert later_id != first_id


def test_two_lost_people_in_the_same_clothes_give_a_new_id_not_a_guess():
    t = tracker(0.2)
    for step in range(6):  # two people in red side by side, then both missed
        image, dets = frame([([50 + 5 * step, 100, 90 + 5 * step, 200], RED), ([100 + 5 * step, 100, 140 + 5 * step, 200], RED)])
        known = set(t.update(dets, image).tracker_id.tolist())
    for _ in range(6):
        t.update(*reversed(frame([])))
    for _ in range(2):
        image, dets = frame([([60, 100, 100, 200], RED)])  # one reappears, near where both were lost
        ids = t.update(dets, image).tracker_id.tolist()
    assert ids and ids[0] not in known


def test_the_reappearing_person_continues_the_track_that_looks_like_them():
    t = tracker(0.2)
    for step in range(6):
        image, dets = frame([([50 + 5 * step, 100, 90 + 5 * step, 200], RED), ([100 + 5 * step, 100, 140 + 5 * step, 200], GREEN)])
        out = t.update(dets, image)
    green_id = int(out.tracker_id[1])
    for _ in range(6):
        t.update(*reversed(frame([])))
    for _ in range(2):
        image, dets = frame([([60, 100, 100, 200], GREEN)])  # nearer where red was lost
        ids = t.update(dets, image).tracker_id.tolist()
    assert ids == [green_id]


def test_relinking_needs_the_colour_appearance():
    with pytest.raises(ValidationError, match="appearance_weight"):
        TrackerConfig(relink_max_distance=0.2)


def test_someone_walking_in_where_a_person_walked_out_of_the_picture_gets_a_new_id():
    """PETS frames 207-221: a walker left at the right edge and ten frames later another, in similar
    dark clothes, walked in at the same spot; re-linking used to give the newcomer the leaver's id."""
    t = tracker(0.2)
    for x in range(335, 361, 5):  # walks right until the box touches the picture's right edge (400 px)
        image, dets = frame([([x, 100, x + 40, 200], RED)])
        leaver = int(t.update(dets, image).tracker_id[0])
    for _ in range(6):
        t.update(*reversed(frame([])))
    for _ in range(2):
        image, dets = frame([([350, 100, 390, 200], RED)])  # walks in where the other walked out
        ids = t.update(dets, image).tracker_id.tolist()
    assert ids and ids[0] != leaver
