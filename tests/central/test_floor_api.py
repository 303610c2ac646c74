"""Use case B through central's doors (SQLite and PostgreSQL): floor.positions events ingested over
HTTP become live density; the route API bends around the crowd and falls back on stale density;
the staff floor page and the customer page draw the map, the route and (customer) a QR code."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.ratelimit import TokenBuckets
from services.central.usecases.floor import views
from services.central.usecases.floor.plan import load_plan
from services.central.usecases.floor.store import set_plan
from services.contract import Event

from .ui_builders import sign_in

STORE = "demo-store"
PLAN = Path("config/floors/demo-store.yaml")


def positions(at: datetime, points: list[list[float]], camera: str = "pets-aisle", store: str = STORE) -> Event:
    return Event(type="floor.positions", use_case="B", store_id=store, camera_id=camera, occurred_at=at,
                 payload={"people": len(points), "positions": points, "interval_s": 2.0})


def crowd_in_the_middle_aisle(at: datetime) -> list[list[float]]:
    """Eight people standing around x 7-11 m of the middle cross aisle (y 8 m)."""
    return [[7.0 + 0.6 * k, 7.6 + 0.4 * (k % 2)] for k in range(8)]


def send(client: TestClient, headers: dict[str, str], *events: Event) -> None:
    r = client.post("/api/v1/events", json=[e.model_dump(mode="json") for e in events], headers=headers)
    assert r.status_code == 200, r.text


@pytest.fixture
def with_plan(db: Database) -> None:
    with db.unit_of_work() as session:
        assert set_plan(session, load_plan(PLAN), actor="test")


def test_loading_a_plan_is_audited_once(db: Database, with_plan: None) -> None:
    with db.unit_of_work() as session:
        assert not set_plan(session, load_plan(PLAN), actor="test")  # unchanged: no second entry
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "floor.plan")).all()
    assert len(entries) == 1 and entries[0].subject == f"store:{STORE}" and len(entries[0].details["sha256"]) == 64


def test_route_api_bends_around_the_crowd_then_falls_back_when_density_goes_stale(
        client: TestClient, edge: dict[str, str], with_plan: None) -> None:
    now = datetime.now(timezone.utc)
    send(client, edge, *[positions(now - timedelta(seconds=s), crowd_in_the_middle_aisle(now)) for s in (0, 2, 4, 6)])

    r = client.get("/api/v1/stores/demo-store/route", params={"from": "drinks", "to": "household"}, headers=edge)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["density"]["status"] == "live" and body["density"]["people"] == 8.0
    assert body["fallback"] is None
    # The shortest way runs along the crowded middle aisle; the suggestion goes round by the front.
    assert "m9" in body["shortest"]["nodes"] and "m9" not in body["suggested"]["nodes"]
    assert body["suggested"]["exposure_person_s"] < 0.5 * body["shortest"]["exposure_person_s"]
    assert body["length_overhead"] <= 0.2 and body["exposure_reduction"] > 0.5
    assert body["suggested"]["polyline"][0] == [3.0, 10.5] and body["from"] == "drinks" and body["to"] == "household"

    # Only old reports: stale, so the suggestion is the shortest path, and says so.
    stale_store = "stale-store"
    with TestClient(client.app) as c:
        plan = load_plan(PLAN).model_copy(update={"store_id": stale_store})
        with client.app.state.db.unit_of_work() as session:
            set_plan(session, plan, actor="test")
        old = now - timedelta(minutes=3)
        send(c, edge, positions(old, crowd_in_the_middle_aisle(old), store=stale_store))
        body = c.get(f"/api/v1/stores/{stale_store}/route", params={"from": "drinks", "to": "household"}, headers=edge).json()
    assert body["density"]["status"] == "stale" and body["fallback"] == "stale"
    assert body["suggested"]["nodes"] == body["shortest"]["nodes"] and body["suggested"]["exposure_person_s"] is None


def test_route_api_errors_are_clear(client: TestClient, edge: dict[str, str], auth: Callable[..., dict[str, str]],
                                    with_plan: None) -> None:
    assert client.get("/api/v1/stores/demo-store/route", params={"from": "a", "to": "b"}).status_code == 401
    r = client.get("/api/v1/stores/demo-store/route", params={"from": "drinks", "to": "moon"}, headers=edge)
    assert r.status_code == 422 and "moon" in r.json()["detail"]
    r = client.get("/api/v1/stores/no-plan/route", params={"from": "a", "to": "b"}, headers=edge)
    assert r.status_code == 404 and "no floor plan" in r.json()["detail"]
    other = auth("other-store", "events:read", store="tokyo-01")
    assert client.get("/api/v1/stores/demo-store/route", params={"from": "drinks", "to": "dairy"}, headers=other).status_code == 403
    r = client.get("/api/v1/stores/demo-store/route", params={"from": "drinks", "to": "dairy", "via": ["meat", "frozen"]}, headers=edge)
    assert r.status_code == 200 and r.json()["fallback"] == "no_density"
    assert {"meat", "frozen"} <= set(r.json()["suggested"]["nodes"])


def test_floor_api_gives_density_per_cell_and_zone(client: TestClient, edge: dict[str, str], with_plan: None) -> None:
    now = datetime.now(timezone.utc)
    send(client, edge, positions(now, crowd_in_the_middle_aisle(now)))
    body = client.get("/api/v1/stores/demo-store/floor", headers=edge).json()
    assert len(body["density"]["cells"]) == 16 and len(body["density"]["cells"][0]) == 24
    zones = {z["zone"]: z["people_per_m2"] for z in body["density"]["zones"]}
    assert zones["middle-aisle"] > 0 and zones["back-aisle"] == 0


def test_staff_floor_page_shows_the_heatmap_the_route_and_asks_for_comfort(
        client: TestClient, db: Database, edge: dict[str, str], with_plan: None) -> None:
    now = datetime.now(timezone.utc)
    send(client, edge, positions(now, crowd_in_the_middle_aisle(now)))
    assert client.get("/stores/demo-store/floor", follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, db, "hana", locale="ja")
    page = client.get("/stores/demo-store/floor?start=drinks&end=household")
    assert page.status_code == 200
    assert 'id="floor-map"' in page.text and "heat-cell" in page.text and 'id="route-suggested"' in page.text
    assert "フロア" in page.text and "/api/v1/stores/demo-store/comfort" in page.text and "/floor-assets/floor.js" in page.text
    assert client.get("/floor-assets/floor.js").status_code == 200
    # comfort for a signed-in browser (the comfort API wants a key): the same JSON shape, or 404 without F comfort
    comfort = client.get("/stores/demo-store/floor/comfort")
    if importlib.util.find_spec("services.central.usecases.comfort") is not None:
        assert comfort.status_code == 200 and comfort.json() == {"store_id": "demo-store", "readings": []}
    else:
        assert comfort.status_code == 404
    assert "/stores/demo-store/floor" in client.get("/floors").text
    assert client.get("/stores/demo-store/floor?start=moon").status_code == 404


def test_customer_page_needs_no_sign_in_and_is_rate_limited(client: TestClient, with_plan: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    page = client.get("/floor-guide/demo-store?start=entrance&end=dairy&lang=en")
    assert page.status_code == 200
    assert 'id="floor-map"' in page.text and 'id="route-qr"' in page.text and "data:image/png;base64," in page.text
    assert "No crowding data yet" in page.text  # nothing reported: the shortest path, said plainly
    assert "入口" in client.get("/floor-guide/demo-store?lang=ja").text
    assert client.get("/floor-guide/unknown-store").status_code == 404
    monkeypatch.setattr(views, "_public_buckets", TokenBuckets(rate_per_s=0.01, burst=2))
    codes = [client.get("/floor-guide/demo-store/map").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
