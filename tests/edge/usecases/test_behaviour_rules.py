"""Use case H's rules on real PETS 2009 ground-truth tracks and on synthesised edge cases.

PETS: ``media/pets2009_gt/gt_480x360_frames0001-0400.txt`` (10 fps, as the demo camera sees it)
with the demo camera's zones. Each check compares the engine with facts computed independently
from the ground truth (time in a zone, runs of frames inside, where a track ends).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from edge.eval.track import load_mot
from edge.geometry import inside, to_pixels
from edge.paths import media_dir
from edge.usecases.behaviour.config import (
    BehaviourAnalyzerConfig,
    ExitWithoutCheckoutRule,
    LoiteringRule,
    RepeatedReturnsRule,
    RestrictedZoneRule,
)
from edge.usecases.behaviour.rules import Notice, RuleEngine

SIZE = (480, 360)
FPS = 10.0
# The demo camera's zones (config/demo-store.yaml, pets-aisle).
ZONES = {
    "plaza": [[0.40, 0.36], [0.76, 0.36], [0.80, 0.70], [0.42, 0.70]],
    "crossing": [[0.76, 0.22], [0.99, 0.18], [0.99, 0.45], [0.78, 0.45]],
    "west-path": [[0.00, 0.30], [0.40, 0.36], [0.42, 0.55], [0.00, 0.50]],
}
PIXELS = {name: to_pixels(poly, SIZE) for name, poly in ZONES.items()}


@pytest.fixture(scope="module")
def pets() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Frame → (track ids, foot points in pixels)."""
    path = media_dir() / "pets2009_gt/gt_480x360_frames0001-0400.txt"
    if not path.is_file():
        pytest.skip(f"PETS ground truth not found at {path}")
    truth = load_mot(path)
    return {f: (t.ids, np.stack([(t.xyxy[:, 0] + t.xyxy[:, 2]) / 2, t.xyxy[:, 3]], axis=1)) for f, t in truth.items()}


def run(rules: list, frames: dict[int, tuple[np.ndarray, np.ndarray]], **kwargs: object) -> list[tuple[int, Notice]]:
    engine = RuleEngine(rules, PIXELS, SIZE, **kwargs)  # type: ignore[arg-type]
    return [(f, n) for f, (ids, feet) in sorted(frames.items()) for n in engine.update((f - 1) / FPS, ids, feet)]


def frames_inside(pets: dict[int, tuple[np.ndarray, np.ndarray]], zone: str) -> dict[int, list[int]]:
    """Track id → frames whose foot point lies in the zone (from the ground truth alone)."""
    out: dict[int, list[int]] = {}
    for f, (ids, feet) in sorted(pets.items()):
        for tid, flag in zip(ids, inside(feet, PIXELS[zone]), strict=True):
            if flag:
                out.setdefault(int(tid), []).append(f)
    return out


# ---------------------------------------------------------------------------- real tracks


def test_loitering_on_pets_fires_once_for_each_track_that_stays_long_enough(pets) -> None:
    notices = run([LoiteringRule(zone="plaza", dwell_s=15)], pets)
    fired = {n.track_id: (f, n) for f, n in notices}
    assert len(fired) == len(notices), "one notice per track"
    in_plaza = frames_inside(pets, "plaza")
    # A track seen in the plaza for less than 15 s in all cannot have stayed 15 s.
    too_short = {tid for tid, fr in in_plaza.items() if len(fr) / FPS < 15}
    assert too_short and not (too_short & set(fired))
    assert set(fired) == {9, 15}  # the two walkers who linger in the plaza in frames 1-400
    for tid, (frame, notice) in fired.items():
        assert notice.measured["dwell_s"] >= 15
        assert (frame - in_plaza[tid][0]) / FPS >= 15  # no earlier than 15 s after it first stood there
        assert frame in in_plaza[tid]  # the track is in the zone when noticed


def test_restricted_zone_on_pets_fires_once_per_track_that_enters(pets) -> None:
    in_crossing = frames_inside(pets, "crossing")
    entered = {tid for tid, fr in in_crossing.items() if any(b - a == 1 for a, b in zip(fr, fr[1:], strict=False))}
    notices = run([RestrictedZoneRule(zone="crossing", min_frames=2)], pets)
    assert sorted(n.track_id for _, n in notices) == sorted(entered)  # each entering track, once
    assert entered == {1, 11, 12, 13}
    for frame, notice in notices:
        assert not notice.extra["predicted"] and frame >= in_crossing[notice.track_id][0] + 1


def test_restricted_zone_prediction_warns_before_the_entry_on_pets(pets) -> None:
    in_crossing = frames_inside(pets, "crossing")
    notices = run([RestrictedZoneRule(zone="crossing", predict_s=2.0)], pets)
    by_track = {n.track_id: (f, n) for f, n in notices}
    assert len(by_track) == len(notices), "the warning is the track's one notice; entering adds none"
    early = 0
    for tid, (frame, notice) in by_track.items():
        first_inside = in_crossing[tid][0]
        if notice.extra["predicted"]:
            assert frame < first_inside  # warned before the track was in the zone
            assert (first_inside - frame) / FPS <= 2.0 + 1.5  # and not long before
            early += 1
    assert early >= 3  # tracks 11, 12 and 13 walk steadily into the junction


def test_exit_without_checkout_on_pets(pets) -> None:
    rule = ExitWithoutCheckoutRule(zone="plaza", checkout_zone="crossing", exit_line=((0.94, 0.45), (0.94, 0.95)))
    notices = run([rule], pets)
    fired = {n.track_id for _, n in notices}
    assert len(fired) == len(notices)
    in_crossing, in_plaza = frames_inside(pets, "crossing"), frames_inside(pets, "plaza")
    last = {}
    for f, (ids, feet) in sorted(pets.items()):
        for tid, point in zip(ids, feet, strict=True):
            last[int(tid)] = (f, point / np.array(SIZE))
    for tid in fired:
        assert tid not in in_crossing and tid in in_plaza  # went through the plaza, never through the junction
        assert last[tid][1][0] > 0.94  # and left the picture past the exit line
    through_checkout = {tid for tid in in_crossing if tid in in_plaza and last[tid][1][0] > 0.94 and last[tid][0] < 400}
    assert through_checkout and not (through_checkout & fired)  # those who passed the junction are not noticed
    assert fired == {15, 19}


def test_repeated_returns_on_pets(pets) -> None:
    rule = RepeatedReturnsRule(zone="plaza", visits=2, window_s=60, leave_s=3)
    notices = run([rule], pets)
    fired = {n.track_id for _, n in notices}
    assert len(fired) == len(notices) and fired
    in_plaza = frames_inside(pets, "plaza")
    for tid in fired:
        fr = in_plaza[tid]
        gaps = [b - a for a, b in zip(fr, fr[1:], strict=False)]
        assert max(gaps) > 3 * FPS  # it really was out of the plaza for more than leave_s between two visits
    once = {tid for tid, fr in in_plaza.items() if fr[-1] - fr[0] + 1 == len(fr)}  # one unbroken visit
    assert once and not (once & fired)


# ---------------------------------------------------------------------------- synthesised edge cases

SQUARE = {"z": np.array([[100, 100], [200, 100], [200, 200], [100, 200]], np.float32),
          "till": np.array([[300, 100], [400, 100], [400, 200], [300, 200]], np.float32)}
IN, OUT, TILL = (150.0, 150.0), (50.0, 150.0), (350.0, 150.0)


def script(*legs: tuple[float, dict[int, tuple[float, float] | None]]) -> Iterator[tuple[float, list[int], list[tuple[float, float]]]]:
    """Frames at 10 fps: each leg lasts its seconds with each track at a point (None: unseen)."""
    t = 0.0
    for seconds, where in legs:
        for _ in range(int(round(seconds * FPS))):
            seen = {tid: p for tid, p in where.items() if p is not None}
            yield t, list(seen), list(seen.values())
            t += 1 / FPS


def notices_of(rules: list, frames: Iterator, **kwargs: object) -> list[Notice]:
    engine = RuleEngine(rules, SQUARE, (480, 360), **kwargs)  # type: ignore[arg-type]
    return [n for t, ids, pts in frames for n in engine.update(t, ids, pts)]


def test_loitering_re_entry_occlusion_and_two_people() -> None:
    rule = LoiteringRule(zone="z", dwell_s=10, leave_s=3)
    # Re-entry: a 1 s step out does not reset the stay; a later long stay after leaving gives no second notice.
    n = notices_of([rule], script((6, {1: IN}), (1, {1: OUT}), (6, {1: IN}), (5, {1: OUT}), (15, {1: IN})))
    assert [(x.track_id, x.measured["dwell_s"]) for x in n] == [(1, 10.0)]
    # Leaving for longer than leave_s does reset it: 6 s + 6 s is no 10 s stay.
    assert notices_of([rule], script((6, {1: IN}), (4, {1: OUT}), (6, {1: IN}))) == []
    # Occlusion: unseen for 3 s inside the zone keeps the dwell (forget_s 10).
    n = notices_of([rule], script((5, {1: IN}), (3, {1: None}), (3, {1: IN})))
    assert [round(x.at_s, 1) for x in n] == [10.0]
    # ... but a track unseen longer than forget_s is a new track.
    assert notices_of([rule], script((5, {1: IN}), (12, {1: None}), (6, {1: IN}))) == []
    # Two people: one notice each, each on its own clock.
    n = notices_of([rule], script((4, {1: IN}), (12, {1: IN, 2: IN})))
    assert [(x.track_id, round(x.at_s, 1)) for x in n] == [(1, 10.0), (2, 14.0)]


def test_restricted_zone_re_entry_occlusion_two_people_and_hours() -> None:
    rule = RestrictedZoneRule(zone="z", min_frames=2, cooldown_s=600)
    n = notices_of([rule], script((1, {1: IN}), (2, {1: OUT}), (1, {1: IN}), (2, {1: None}), (1, {1: IN, 2: IN})))
    assert [x.track_id for x in n] == [1, 2]  # re-entry and the occlusion add nothing for track 1
    night = RestrictedZoneRule(zone="z", active=["22:00-07:00"])
    from datetime import time

    assert notices_of([night], script((2, {1: IN})), local_time=lambda t: time(12, 0)) == []
    assert len(notices_of([night], script((2, {1: IN})), local_time=lambda t: time(23, 0))) == 1


def test_restricted_zone_prediction_on_a_walker_and_a_standing_person() -> None:
    rule = RestrictedZoneRule(zone="z", predict_s=2.0)
    engine = RuleEngine([rule], SQUARE, (480, 360))
    walker = [(t / FPS, (40.0 + 3.0 * t, 150.0)) for t in range(40)]  # 30 px/s towards the zone's edge at x=100
    got = [(t, n) for t, p in walker for n in engine.update(t, [1], [p])]
    assert len(got) == 1 and got[0][1].extra["predicted"]
    t_warn = got[0][0]
    t_enter = next(t for t, p in walker if p[0] > 100)
    assert 0 < t_enter - t_warn <= 2.0 + 0.2
    standing = [n for t in range(40) for n in RuleEngine([rule], SQUARE, (480, 360)).update(t / FPS, [2], [(95.0, 150.0)])]
    assert standing == []  # close to the zone but not moving: no warning


def test_exit_without_checkout_edge_cases() -> None:
    rule = ExitWithoutCheckoutRule(zone="z", checkout_zone="till", exit_line=((0.5, 0.0), (0.5, 1.0)), min_merchandise_s=2)
    exit_x = 0.5 * 480  # the line at x = 240; the merchandise zone lies left of it

    def walk(points: list[tuple[float, float]], tid: int = 1) -> list[tuple[float, list[int], list[tuple[float, float]]]]:
        return [(k / FPS, [tid], [p]) for k, p in enumerate(points)]

    shop = [IN] * 30
    out_right = [(exit_x - 20 + 10 * k, 250.0) for k in range(5)]
    assert len(notices_of([rule], iter(walk(shop + out_right)))) == 1
    assert notices_of([rule], iter(walk(shop + [TILL] * 5 + out_right))) == []  # paid at the till
    assert notices_of([rule], iter(walk([IN] * 5 + out_right))) == []  # half a second among the shelves
    back_in = list(reversed(out_right))
    assert notices_of([rule], iter(walk([OUT] + out_right + back_in))) == []  # never in the merchandise zone
    # An occlusion gap just before the exit still counts the crossing (the track is remembered).
    frames = walk(shop) + [(3.0 + 2.0 + k / FPS, [1], [p]) for k, p in enumerate(out_right)]
    assert len(notices_of([rule], iter(frames))) == 1
    # Two people: only the one who skipped the till.
    both = [(k / FPS, [1, 2], [p1, p2]) for k, (p1, p2) in enumerate(zip(shop + out_right, shop[:10] + [TILL] * 20 + out_right, strict=True))]
    assert [n.track_id for n in notices_of([rule], iter(both))] == [1]


def test_repeated_returns_edge_cases() -> None:
    rule = RepeatedReturnsRule(zone="z", visits=3, window_s=60, leave_s=3)
    visit, away = (2, {1: IN}), (4, {1: OUT})
    assert len(notices_of([rule], script(visit, away, visit, away, visit, away, visit))) == 1  # one notice, not two
    blink = (1, {1: OUT})  # steps out shorter than leave_s are no new visit
    assert notices_of([rule], script(visit, blink, visit, blink, visit)) == []
    gap = (4, {1: None})  # unseen (occluded) is not a visit either
    assert notices_of([rule], script(visit, gap, visit, gap, visit)) == []
    slow = RepeatedReturnsRule(zone="z", visits=3, window_s=10, leave_s=3)
    assert notices_of([slow], script(visit, (8, {1: OUT}), visit, (8, {1: OUT}), visit)) == []  # outside the window
    two = script((2, {1: IN, 2: IN}), (4, {1: OUT, 2: IN}), (2, {1: IN, 2: IN}), (4, {1: OUT, 2: IN}), (2, {1: IN, 2: IN}))
    assert [n.track_id for n in notices_of([rule], two)] == [1]  # the one who came back, not the one who stayed


def test_config_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="expected 'HH:MM-HH:MM'"):
        RestrictedZoneRule(zone="z", active=["10pm-7am"])
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        BehaviourAnalyzerConfig(rules=[{"rule": "loitering", "zone": "z", "dwell_s": 5}], timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="rule"):
        BehaviourAnalyzerConfig(rules=[{"rule": "suspect", "zone": "z"}])
    with pytest.raises(ValueError, match="names zone 'nowhere'"):
        RuleEngine([LoiteringRule(zone="nowhere", dwell_s=5)], SQUARE, (480, 360))
