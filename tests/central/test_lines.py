"""F footfall on central: visitors per hour from entrance lines' in-crossings; inner lines are
reported but are not visitors; the window is respected."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from services.contract import Event

from .builders import STORE, minutes_ago, wire


def crossings(line: str = "door", came_in: int = 3, went_out: int = 1, visitors: bool = True, at: datetime | None = None,
              camera: str = "entrance-cam") -> Event:
    return Event(type="line.crossings", use_case="F", store_id=STORE, camera_id=camera, occurred_at=at or minutes_ago(1),
                 payload={"line": line, "in_count": came_in, "out_count": went_out, "interval_s": 60.0, "visitors": visitors})


def test_visitors_add_up_entrance_in_crossings_over_the_window(client: TestClient, edge) -> None:  # type: ignore[no-untyped-def]
    events = [crossings(came_in=4, went_out=2, at=minutes_ago(50)), crossings(came_in=6, went_out=5, at=minutes_ago(20)),
              crossings(line="side-door", came_in=2, went_out=0, at=minutes_ago(10), camera="side-cam"),
              crossings(line="bakery", came_in=9, went_out=8, visitors=False, at=minutes_ago(5)),   # inside the store
              crossings(came_in=100, went_out=0, at=minutes_ago(90))]                               # before the hour
    r = client.post("/api/v1/events", json=wire(*events), headers=edge)
    assert r.status_code == 200, r.text
    body = client.get(f"/api/v1/stores/{STORE}/visitors?hours=1", headers=edge).json()
    assert (body["visitors"], body["visitors_per_hour"], body["hours"]) == (12, 12.0, 1.0)
    lines = {(x["camera_id"], x["line"]): x for x in body["lines"]}
    assert (lines[("entrance-cam", "door")]["in_count"], lines[("entrance-cam", "door")]["out_count"]) == (10, 7)
    assert lines[("entrance-cam", "bakery")]["visitors_line"] is False and lines[("entrance-cam", "bakery")]["in_count"] == 9
    assert lines[("entrance-cam", "door")]["covered_s"] == 120.0
    assert sum(h["visitors"] for h in body["hourly"]) == 12
    two_hours = client.get(f"/api/v1/stores/{STORE}/visitors?hours=2", headers=edge).json()
    assert (two_hours["visitors"], two_hours["visitors_per_hour"]) == (112, 56.0)
    assert client.get(f"/api/v1/stores/{STORE}/visitors?hours=500", headers=edge).status_code == 422


def test_a_line_crossings_payload_with_a_negative_count_is_refused(client: TestClient, edge) -> None:  # type: ignore[no-untyped-def]
    bad = crossings().model_dump(mode="json")
    bad["payload"]["in_count"] = -1
    r = client.post("/api/v1/events", json=[bad], headers=edge)
    assert r.status_code == 422 and "in_count" in r.text
