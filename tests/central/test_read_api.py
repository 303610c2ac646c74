"""Reads and access control: events list/get, store occupancy, health, 401/403."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from .builders import STORE, crowding_alert, fever_alert, minutes_ago, occupancy, wire

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def history(client: TestClient, edge: dict[str, str]) -> dict[str, list[str]]:
    """Events of two stores, several cameras and types, spread over the last hour."""
    events = {
        "tokyo_aisle_old": occupancy(camera="aisle-1", at=minutes_ago(50)),
        "tokyo_aisle_new": occupancy(camera="aisle-1", at=minutes_ago(5)),
        "tokyo_till": occupancy(camera="till-1", zone="till", at=minutes_ago(30)),
        "tokyo_fever": fever_alert(at=minutes_ago(20)),
        "osaka_aisle": occupancy(store="osaka-03", at=minutes_ago(10)),
        "osaka_crowd": crowding_alert(store="osaka-03", at=minutes_ago(1)),
    }
    assert client.post("/api/v1/events", json=wire(*events.values()), headers=edge).status_code == 200
    return {k: [str(v.event_id)] for k, v in events.items()}


def _ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return {e["event_id"] for e in response.json()["data"]}


@pytest.mark.parametrize(("query", "expected"), [
    pytest.param({"store_id": "osaka-03"}, ["osaka_aisle", "osaka_crowd"], id="store"),
    pytest.param({"camera_id": "till-1"}, ["tokyo_till"], id="camera"),
    pytest.param({"type": "entrance.fever_suspected"}, ["tokyo_fever"], id="type"),
    pytest.param({"use_case": "A"}, ["tokyo_fever"], id="use case"),
    pytest.param({"store_id": STORE, "type": "zone.occupancy"}, ["tokyo_aisle_old", "tokyo_aisle_new", "tokyo_till"],
                 id="store and type"),
])
def test_events_filter(client: TestClient, edge: dict[str, str], history: dict[str, list[str]],
                       query: dict[str, str], expected: list[str]) -> None:
    r = client.get("/api/v1/events", params=query, headers=edge)
    assert _ids(r) == {history[k][0] for k in expected}
    assert r.json()["count"] == len(expected)


def test_events_time_window_and_paging(client: TestClient, edge: dict[str, str], history: dict[str, list[str]]) -> None:
    since, until = minutes_ago(35).isoformat(), minutes_ago(8).isoformat()
    r = client.get("/api/v1/events", params={"since": since, "until": until}, headers=edge)
    assert _ids(r) == {history["tokyo_till"][0], history["tokyo_fever"][0], history["osaka_aisle"][0]}
    # newest first, paged, with the total count
    page1 = client.get("/api/v1/events", params={"limit": 2}, headers=edge).json()
    page2 = client.get("/api/v1/events", params={"limit": 2, "offset": 2}, headers=edge).json()
    assert page1["count"] == page2["count"] == 6
    assert [e["event_id"] for e in page1["data"]] == history["osaka_crowd"] + history["tokyo_aisle_new"]
    assert [e["event_id"] for e in page2["data"]] == history["osaka_aisle"] + history["tokyo_fever"]


def test_events_limit_is_capped(client: TestClient, edge: dict[str, str]) -> None:
    r = client.get("/api/v1/events", params={"limit": 501}, headers=edge)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_event_by_id_and_unknown_id(client: TestClient, edge: dict[str, str], history: dict[str, list[str]]) -> None:
    event_id = history["tokyo_fever"][0]
    body = client.get(f"/api/v1/events/{event_id}", headers=edge).json()
    assert body["explanation"]["thresholds"] == {"celsius": 37.5}
    assert body["received_at"]
    assert client.get("/api/v1/events/00000000-0000-4000-8000-000000000000", headers=edge).status_code == 404
    assert client.get("/api/v1/events/not-a-uuid", headers=edge).status_code == 422


def test_store_bound_reader_sees_only_its_store(client: TestClient, auth: Auth, history: dict[str, list[str]]) -> None:
    osaka = auth("osaka-dashboard", "events:read", store="osaka-03")
    assert _ids(client.get("/api/v1/events", headers=osaka)) == set(history["osaka_aisle"] + history["osaka_crowd"])
    assert client.get("/api/v1/events", params={"store_id": STORE}, headers=osaka).status_code == 403
    assert client.get(f"/api/v1/events/{history['tokyo_fever'][0]}", headers=osaka).status_code == 404


def test_occupancy_is_the_latest_reading_per_camera_and_zone(client: TestClient, edge: dict[str, str]) -> None:
    readings = [
        occupancy(camera="aisle-1", zone="aisle", count=4, at=minutes_ago(3)),
        occupancy(camera="aisle-1", zone="aisle", count=12, capacity=10, at=minutes_ago(1)),  # latest: over
        occupancy(camera="aisle-1", zone="aisle", count=2, at=minutes_ago(2)),  # late delivery, older
        occupancy(camera="aisle-1", zone="freezer", count=1, capacity=2, at=minutes_ago(4)),
        occupancy(camera="till-1", zone="aisle", count=5, at=minutes_ago(6)),  # same zone name, other camera
        occupancy(store="osaka-03", camera="aisle-1", zone="aisle", count=9, at=minutes_ago(1)),
    ]
    assert client.post("/api/v1/events", json=wire(*readings), headers=edge).status_code == 200
    r = client.get(f"/api/v1/stores/{STORE}/occupancy", headers=edge)
    assert r.status_code == 200, r.text
    zones = [(z["camera_id"], z["zone"], z["count"], z["capacity"], z["over_capacity"]) for z in r.json()["zones"]]
    assert zones == [
        ("aisle-1", "aisle", 12, 10, True),
        ("aisle-1", "freezer", 1, 2, False),
        ("till-1", "aisle", 5, 10, False),
    ]
    assert client.get("/api/v1/stores/nowhere/occupancy", headers=edge).json() == {"store_id": "nowhere", "zones": []}


def test_health_needs_no_key(client: TestClient, backend: str) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": backend}


# route, method, scope it needs
PROTECTED = [
    pytest.param("/api/v1/events", "post", "events:write", id="ingest"),
    pytest.param("/api/v1/events", "get", "events:read", id="list events"),
    pytest.param(f"/api/v1/stores/{STORE}/occupancy", "get", "events:read", id="occupancy"),
    pytest.param("/api/v1/reviews", "get", "reviews:read", id="list reviews"),
    pytest.param("/api/v1/reviews/1/claim", "post", "reviews:write", id="claim"),
    pytest.param("/api/v1/reviews/1/decision", "post", "reviews:write", id="decide"),
    pytest.param("/api/v1/audit", "get", "audit:read", id="list audit"),
    pytest.param("/api/v1/audit/verify", "get", "audit:read", id="verify audit"),
]


@pytest.mark.parametrize(("path", "method", "scope"), PROTECTED)
def test_keys_and_scopes_are_enforced(client: TestClient, auth: Auth, path: str, method: str, scope: str) -> None:
    call = getattr(client, method)
    missing = call(path)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert call(path, headers={"Authorization": "Bearer ank_not-a-real-key"}).status_code == 401
    assert call(path, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    others = [s for s in ("events:write", "events:read", "reviews:read", "reviews:write", "audit:read") if s != scope]
    wrong = call(path, headers=auth("wrong", *others))
    assert wrong.status_code == 403 and scope in wrong.json()["detail"]
    allowed = call(path, headers=auth("right", scope))
    assert allowed.status_code not in (401, 403), allowed.text
    assert call(path, headers=auth("admin", "admin")).status_code not in (401, 403)


def test_revoked_key_is_refused(client: TestClient, db, edge: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from services.central.auth import revoke_key

    assert client.get("/api/v1/events", headers=edge).status_code == 200
    with db.unit_of_work() as session:
        assert revoke_key(session, "edge-worker", actor="test")
    assert client.get("/api/v1/events", headers=edge).status_code == 401


def test_time_filter_without_zone_is_utc(client: TestClient, edge: dict[str, str], history: dict[str, list[str]]) -> None:
    naive_since = (minutes_ago(2) - timedelta(seconds=0)).replace(tzinfo=None).isoformat()
    assert _ids(client.get("/api/v1/events", params={"since": naive_since}, headers=edge)) == set(history["osaka_crowd"])


@pytest.mark.parametrize("value", ["0", "1700000000.5", "yesterday", "11/01/2026"])
def test_time_filters_take_only_iso_8601(client: TestClient, edge: dict[str, str], value: str) -> None:
    r = client.get("/api/v1/events", params={"since": value}, headers=edge)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "since"] and "ISO 8601" in r.json()["detail"][0]["msg"]
