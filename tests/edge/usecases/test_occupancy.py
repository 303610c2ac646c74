"""Use case F: occupancy reports, over-capacity alerts with min_frames and hysteresis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from edge_builders import T0, make_tracks

from edge.config import ZoneConfig
from edge.usecases import EvidenceRequest, FrameContext, analyzer_class
from edge.usecases.occupancy import OccupancyAnalyzerConfig
from edge.usecases.occupancy.analyzer import RULE, OccupancyAnalyzer

FRAME = (100, 100)  # pixels
DOOR = ZoneConfig(polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])  # left half
ALL = {"door": DOOR}
WATCH = {"door": {"capacity": 3}}


def config(zones: dict | None = None, **settings) -> OccupancyAnalyzerConfig:
    return OccupancyAnalyzerConfig(zones=zones or WATCH, **settings)


def people(inside: int, outside: int = 0, first_id: int = 1):
    """``inside`` people with feet in the left half, ``outside`` in the right half."""
    boxes = [(5 + 4 * k, 10, 9 + 4 * k, 60) for k in range(inside)] + [(60 + 4 * k, 10, 64 + 4 * k, 60) for k in range(outside)]
    return make_tracks(*boxes, ids=list(range(first_id, first_id + inside + outside)))


def ctx(frame: int, fps: float = 10.0, model: str = "yolov8n_int8") -> FrameContext:
    return FrameContext("store-1", "cam-1", T0 + timedelta(seconds=frame / fps), FRAME, model_name=model, model_version="83de8f0d2cd5")


def run(counts: list[int], **settings) -> list[list[str]]:
    """Event types per frame for a sequence of in-zone people counts (report interval out of the way)."""
    analyzer = OccupancyAnalyzer(config(interval_s=3600, **settings), ALL)
    return [[e.type for e in analyzer.update(people(n), ctx(i)) if e.type != "zone.occupancy"] for i, n in enumerate(counts)]


OVER, CLEAR = ["zone.overcrowded"], ["zone.cleared"]


@pytest.mark.parametrize(("counts", "config", "expected"), [
    pytest.param([1, 2, 3, 3, 2], {"min_frames": 1}, [[], [], [], [], []], id="at capacity is not over"),
    pytest.param([4, 4, 1], {"min_frames": 3}, [[], [], []], id="over for fewer than min_frames: no alert"),
    pytest.param([4, 4, 4, 5], {"min_frames": 3}, [[], [], OVER, []], id="alert once after min_frames"),
    pytest.param([4, 4, 2, 4, 4, 4], {"min_frames": 3}, [[], [], [], [], [], OVER], id="a dip restarts the frame count"),
    pytest.param([4, 3, 4, 3, 4], {"min_frames": 1, "hysteresis": 1}, [OVER, [], [], [], []],
                 id="hovering at capacity does not re-alert"),
    pytest.param([4, 2, 4], {"min_frames": 1, "hysteresis": 1}, [OVER, CLEAR, OVER], id="clears at capacity - hysteresis, then re-arms"),
    pytest.param([4, 2, 1, 4], {"min_frames": 1, "hysteresis": 2}, [OVER, [], CLEAR, OVER], id="larger hysteresis clears later"),
    pytest.param([4, 3, 4], {"min_frames": 1, "hysteresis": 0}, [OVER, CLEAR, OVER], id="no hysteresis clears at capacity"),
])
def test_overcrowded_alert_follows_min_frames_and_hysteresis(counts, config, expected):
    assert run(counts, **config) == expected


def test_occupancy_is_reported_on_the_first_frame_then_every_interval():
    analyzer = OccupancyAnalyzer(config(interval_s=2.0), ALL)
    reports = [i for i in range(45) for e in analyzer.update(people(1), ctx(i)) if e.type == "zone.occupancy"]
    assert reports == [0, 20, 40]  # 10 fps video time, 2 s interval


def test_occupancy_payload_counts_peak_and_distinct_tracks_over_the_interval():
    analyzer = OccupancyAnalyzer(config(interval_s=1.0), ALL)
    frames = [people(1, first_id=1), people(2, first_id=1), people(3, outside=2, first_id=10)] + [people(1, first_id=20)] * 8
    events = [e for i, tracks in enumerate(frames) for e in analyzer.update(tracks, ctx(i))]
    second = [e for e in events if e.type == "zone.occupancy"][1]
    assert second.occurred_at == T0 + timedelta(seconds=1.0)
    # frames 1..10: ids {1,2} then {10,11,12} in the zone (13,14 stand outside) then {20}
    assert second.payload == {"zone": "door", "count": 1, "capacity": 3, "occupancy_ratio": 0.333,
                              "peak_count": 3, "unique_tracks": 6, "interval_s": 1.0,
                              "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}
    assert second.severity.value == "info" and not second.review_required


def test_overcrowded_event_explains_itself_with_the_people_in_the_zone_as_evidence():
    analyzer = OccupancyAnalyzer(config(min_frames=2, hysteresis=1), ALL)
    tracks = people(4, outside=2, first_id=7)
    frames = [ctx(i) for i in range(2)]
    alerts = [e for c in frames for e in analyzer.update(tracks, c) if e.type == "zone.overcrowded"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.severity.value == "warning" and alert.review_required and alert.use_case.value == "F"
    assert alert.payload == {"zone": "door", "count": 4, "capacity": 3, "occupancy_ratio": 1.333}
    assert alert.explanation.rule == RULE
    assert alert.explanation.thresholds == {"capacity": 3.0, "hysteresis": 1.0, "min_frames": 2.0}
    assert alert.explanation.measured == {"count": 4.0, "consecutive_frames": 2.0}
    assert (alert.explanation.model.name, alert.explanation.model.version) == ("yolov8n_int8", "83de8f0d2cd5")
    assert sorted(b.track_id for b in alert.evidence.boxes) == [7, 8, 9, 10]  # not 11, 12 (outside)
    assert alert.evidence.frame_size == FRAME
    # The alert asks the evidence stage for its frame with the people in the zone, their heads blurred.
    boxes = tuple(b.xyxy for b in alert.evidence.boxes)
    assert frames[1].evidence_for(alert) == EvidenceRequest(blur=tuple((b, "person") for b in boxes))
    assert all(frames[0].evidence_for(e) is None for e in analyzer.update(tracks, frames[0]))  # reports ask for none


def test_only_people_count():
    analyzer = OccupancyAnalyzer(config(), ALL)
    bags = make_tracks((5, 10, 9, 60), (15, 10, 19, 60), ids=[1, 2], class_id=[0, 24])
    assert analyzer.counts == {"door": 0}
    list(analyzer.update(bags, ctx(0)))
    assert analyzer.counts == {"door": 1}


def test_a_person_counts_where_their_feet_are():
    analyzer = OccupancyAnalyzer(config(), ALL)
    head_in_feet_out = make_tracks((40, 10, 70, 60))  # bottom centre x = 55 > 50
    list(analyzer.update(head_in_feet_out, ctx(0)))
    assert analyzer.counts == {"door": 0}


def test_zones_are_independent_and_limited_to_the_configured_ones():
    zones = {"door": DOOR, "till": ZoneConfig(polygon=[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)])}
    analyzer = OccupancyAnalyzer(config({"till": {"capacity": 1}}, min_frames=1), zones)
    events = list(analyzer.update(people(5, outside=2), ctx(0)))
    assert {(e.type, e.payload["zone"]) for e in events} == {("zone.occupancy", "till"), ("zone.overcrowded", "till")}


def test_registered_as_occupancy():
    assert analyzer_class("occupancy") is OccupancyAnalyzer


def test_unknown_zone_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown zone\(s\) \['till'\]; defined: \['door'\]"):
        OccupancyAnalyzer(config({"till": {"capacity": 1}}), ALL)


def test_capacity_is_per_watched_zone_and_required():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="capacity"):
        OccupancyAnalyzerConfig(zones={"door": {}})
    with pytest.raises(ValidationError, match="at least 1 item"):
        OccupancyAnalyzerConfig(zones={})


def test_live_state_and_overlay_show_each_zone_against_its_capacity():
    import numpy as np

    analyzer = OccupancyAnalyzer(config(min_frames=1), ALL)
    assert analyzer.live_state() == {"zone_counts": {"door": 0}}
    list(analyzer.update(people(4), ctx(0)))
    state = analyzer.live_state()
    assert state == {"zone_counts": {"door": 4}}
    image = np.zeros((100, 100, 3), np.uint8)
    analyzer.overlay(image, state)
    assert image[:, :, 2].max() == 255 and image[:, :, 1].max() < 200  # over capacity: red outline, no green
    calm = np.zeros((100, 100, 3), np.uint8)
    analyzer.overlay(calm, {"zone_counts": {"door": 1}})
    assert calm[:, :, 1].max() == 200 and calm[:, :, 2].max() == 0
