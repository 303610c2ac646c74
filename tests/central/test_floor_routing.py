"""Use case B on central, pure parts: the floor plan's checks, density fused across cameras (overlaps
counted once), least-exposure routes that bend around a crowd, and the shortest-path fallback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import ValidationError

from services.central.usecases.floor.density import CameraReport, cell_counts, density_map, fuse
from services.central.usecases.floor.plan import FloorPlan, load_plan
from services.central.usecases.floor.routing import Router, UnknownNode

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)

# A 10 x 6 m floor: a straight aisle a - mid - b (8 m) and a detour a - top - b over the back (~8.9 m).
LADDER = {
    "store_id": "s1", "size_m": [10, 6],
    "nodes": {"a": {"at": [1, 3], "kind": "entrance"}, "mid": {"at": [5, 3]}, "b": {"at": [9, 3], "kind": "checkout"},
              "top": {"at": [5, 1]}},
    "edges": [["a", "mid"], ["mid", "b"], ["a", "top"], ["top", "b"]],
    "routing": {"window_s": 10, "slot_s": 2, "stale_s": 30, "lambda_m_per_person_s": 2.0},
}


def crowd(at: datetime, where: tuple[float, float] = (5.0, 3.5), n: int = 6, camera: str = "cam") -> CameraReport:
    """``n`` people standing in a tight group around ``where`` (metres)."""
    x, y = where
    return CameraReport(camera, at, tuple((x + 0.3 * (k % 3), y + 0.3 * (k // 3)) for k in range(n)))


def live(plan: FloorPlan, *reports: CameraReport, now: datetime | None = None):  # noqa: ANN201
    return density_map(list(reports), plan, now or T0)


# ------------------------------------------------------------------------------------------- the plan


def test_the_demo_floor_plan_loads_and_is_one_connected_graph() -> None:
    plan = load_plan("config/floors/demo-store.yaml")
    assert plan.store_id == "demo-store" and plan.grid_shape == (16, 24)
    assert {"entrance", "checkout-1", "dairy"} <= set(plan.nodes)
    assert plan.edge_length("f3", "f9") == 6.0


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"edges": [["a", "nowhere"]]}, "unknown node 'nowhere'", id="edge to an unknown node"),
    pytest.param({"edges": [["a", "mid"], ["mid", "a"]]}, "listed twice", id="duplicate edge"),
    pytest.param({"edges": [["a", "mid"]]}, "not connected", id="unreachable nodes"),
    pytest.param({"nodes": {**LADDER["nodes"], "out": {"at": [12, 3]}}}, "outside the 10 x 6 m plan", id="node off the plan"),
])
def test_a_broken_floor_plan_is_refused_naming_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FloorPlan.model_validate({**LADDER, **change})


# ------------------------------------------------------------------------------------------- density


def test_a_person_seen_by_two_overlapping_cameras_counts_once() -> None:
    both = fuse({"left": [[4.0, 3.0], [1.0, 1.0]], "right": [[4.3, 3.1], [8.0, 5.0]]}, dedup_m=0.8)
    assert len(both) == 3  # 2 + 2 points, one person in the overlap
    assert sorted(map(tuple, both.round(2).tolist())) == [(1.0, 1.0), (4.15, 3.05), (8.0, 5.0)]


def test_two_people_close_together_in_one_camera_stay_two() -> None:
    assert len(fuse({"left": [[4.0, 3.0], [4.3, 3.0]], "right": [[4.1, 3.0]]}, dedup_m=0.8)) == 2


def test_overlap_dedup_in_the_density_map() -> None:
    plan = FloorPlan.model_validate(LADDER)
    one_camera = live(plan, crowd(T0, camera="left"))
    two_cameras = live(plan, crowd(T0, camera="left"), crowd(T0 - timedelta(seconds=1), camera="right"))
    assert one_camera.people == two_cameras.people == 6.0
    assert two_cameras.cameras == ("left", "right")
    assert np.isclose(two_cameras.density.sum(), 6.0)  # people/m² over 1 m cells sums to the people


def test_density_is_people_per_square_metre_averaged_over_the_window() -> None:
    plan = FloorPlan.model_validate({**LADDER, "cell_m": 2.0})
    reports = [crowd(T0 - timedelta(seconds=4), n=4), crowd(T0 - timedelta(seconds=2), n=0), crowd(T0, n=2)]
    d = live(plan, *reports)
    assert d.status == "live" and d.people == 2.0  # the slots ending at 0, -2 and -4 s see 2, 0 and 4 people
    assert d.slots >= 3 and np.isclose(d.density.sum() * 4.0, d.people)
    assert cell_counts([[0.5, 0.5], [11, 1]], plan).sum() == 1.0  # off the plan: dropped


# ------------------------------------------------------------------------------------------- routes


def test_the_route_bends_around_a_crowded_edge() -> None:
    plan = FloorPlan.model_validate(LADDER)
    route = Router(plan, live(plan, crowd(T0))).route("a", "b")
    assert route.shortest.nodes == ("a", "mid", "b") and route.suggested.nodes == ("a", "top", "b")
    assert route.fallback is None
    assert route.suggested.exposure_person_s < 0.5 * route.shortest.exposure_person_s
    assert route.suggested.length_m == pytest.approx(2 * np.hypot(4, 2), abs=1e-3)
    assert route.suggested.polyline == ((1, 3), (5, 1), (9, 3))


def test_with_nobody_around_the_suggestion_is_the_shortest_path() -> None:
    plan = FloorPlan.model_validate(LADDER)
    route = Router(plan, live(plan, crowd(T0, n=0))).route("a", "b")
    assert route.suggested.nodes == route.shortest.nodes == ("a", "mid", "b")
    assert route.fallback is None and route.suggested.exposure_person_s == 0.0


def test_stale_density_falls_back_to_the_shortest_path_and_says_so() -> None:
    plan = FloorPlan.model_validate(LADDER)
    density = live(plan, crowd(T0), now=T0 + timedelta(seconds=31))  # stale_s is 30
    assert density.status == "stale"
    route = Router(plan, density).route("a", "b")
    assert route.suggested.nodes == ("a", "mid", "b") and route.fallback == "stale"
    assert route.suggested.exposure_person_s is None  # a stale map says nothing about now


def test_no_density_at_all_falls_back_to_the_shortest_path() -> None:
    plan = FloorPlan.model_validate(LADDER)
    route = Router(plan, live(plan)).route("a", "b")
    assert route.suggested.nodes == ("a", "mid", "b") and route.fallback == "no_density"


def test_a_detour_longer_than_max_overhead_is_not_suggested() -> None:
    plan = FloorPlan.model_validate({**LADDER, "routing": {**LADDER["routing"], "max_overhead": 0.05}})
    route = Router(plan, live(plan, crowd(T0))).route("a", "b")
    assert route.suggested.nodes == ("a", "mid", "b") and route.fallback == "over_length"


def test_lambda_zero_is_the_shortest_path_and_via_points_are_visited_in_order() -> None:
    plan = FloorPlan.model_validate(LADDER)
    density = live(plan, crowd(T0))
    assert Router(plan, density, lambda_m_per_person_s=0.0).route("a", "b").suggested.nodes == ("a", "mid", "b")
    via = Router(plan, density).route("a", "a", via=["b"])
    assert via.suggested.nodes[0] == "a" and "b" in via.suggested.nodes and via.suggested.nodes[-1] == "a"
    with pytest.raises(UnknownNode, match="unknown node"):
        Router(plan, density).route("a", "nowhere")
