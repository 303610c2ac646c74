"""F comfort on central: the current values per zone and quantity in exactly the agreed shape, the
history for charts, store scoping, and notices that never become review items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.central.db.session import Database
from services.central.db.tables import ReviewItem
from services.contract import Event

from .builders import STORE, minutes_ago, wire

READING_KEYS = {"zone", "quantity", "value", "unit", "target_low", "target_high", "status", "out_of_range_s"}


def comfort(type_: str = "comfort.reading", zone: str = "floor", quantity: str = "co2_ppm", value: float | None = 820.0,
            status: str = "ok", out_s: float = 0.0, at: datetime | None = None, store: str = STORE, **extra: Any) -> Event:
    units = {"co2_ppm": "ppm", "lux": "lx", "temperature_c": "°C", "humidity_pct": "%"}
    targets = {"co2_ppm": (None, 1000.0), "lux": (500.0, None), "temperature_c": (17.0, 28.0), "humidity_pct": (40.0, 70.0)}
    low, high = targets[quantity]
    return Event(
        type=type_, use_case="F", store_id=store, camera_id="pets-aisle", occurred_at=at or minutes_ago(1),
        severity="info" if type_ == "comfort.reading" else "notice",
        payload={"zone": zone, "quantity": quantity, "value": value, "unit": units[quantity], "target_low": low,
                 "target_high": high, "status": status, "out_of_range_s": out_s,
                 "source": "camera" if quantity == "lux" else "sensor", **extra},
    )


def ingest(client: TestClient, edge: dict[str, str], *events: Event) -> None:
    r = client.post("/api/v1/events", json=wire(*events), headers=edge)
    assert r.status_code == 200, r.text


def test_comfort_api_gives_the_latest_state_of_each_value_in_the_agreed_shape(client: TestClient, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge,
           comfort(value=820.0, at=minutes_ago(30)),
           comfort(value=1090.0, status="high", out_s=30.0, at=minutes_ago(10)),
           comfort("comfort.notice", value=1180.0, status="high", out_s=95.0, at=minutes_ago(9)),
           comfort(quantity="temperature_c", value=24.5, at=minutes_ago(8)),
           comfort(zone="plaza", quantity="lux", value=None, status="untrusted", at=minutes_ago(2),
                   reason="the camera's exposure changed since the light calibration"),
           comfort(store="osaka-02", value=400.0))
    r = client.get(f"/api/v1/stores/{STORE}/comfort", headers=edge)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"store_id", "readings"} and body["store_id"] == STORE
    assert all(set(reading) == READING_KEYS for reading in body["readings"])
    by_key = {(x["zone"], x["quantity"]): x for x in body["readings"]}
    assert sorted(by_key) == [("floor", "co2_ppm"), ("floor", "temperature_c"), ("plaza", "lux")]   # not osaka's
    assert by_key[("floor", "co2_ppm")] == {"zone": "floor", "quantity": "co2_ppm", "value": 1180.0, "unit": "ppm",
                                           "target_low": None, "target_high": 1000.0, "status": "high", "out_of_range_s": 95.0}
    assert by_key[("plaza", "lux")]["status"] == "untrusted" and by_key[("plaza", "lux")]["value"] is None
    assert by_key[("floor", "temperature_c")]["target_low"] == 17.0


def test_comfort_history_is_one_series_per_value_oldest_first(client: TestClient, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge, *(comfort(value=800.0 + 50 * k, at=minutes_ago(60 - 10 * k)) for k in range(5)),
           comfort(value=700.0, at=minutes_ago(60 * 5)))      # outside a 3-hour window
    body = client.get(f"/api/v1/stores/{STORE}/comfort/history?hours=3", headers=edge).json()
    [series] = body["series"]
    assert (series["zone"], series["quantity"], series["unit"], series["target_high"]) == ("floor", "co2_ppm", "ppm", 1000.0)
    assert [v for _, v in series["points"]] == [800.0, 850.0, 900.0, 950.0, 1000.0]
    assert client.get(f"/api/v1/stores/{STORE}/comfort/history?hours=0", headers=edge).status_code == 422


def test_a_store_bound_key_sees_only_its_own_store(client: TestClient, auth, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge, comfort())
    osaka = auth("osaka-reader", "events:read", store="osaka-02")
    assert client.get(f"/api/v1/stores/{STORE}/comfort", headers=osaka).status_code == 403
    assert client.get(f"/api/v1/stores/{STORE}/comfort").status_code == 401


def test_comfort_notices_are_notices_for_staff_not_review_items(client: TestClient, db: Database, edge) -> None:  # type: ignore[no-untyped-def]
    ingest(client, edge, comfort("comfort.notice", value=1200.0, status="high", out_s=120.0),
           comfort("comfort.restored", value=900.0, out_for_s=300.0))
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 0


def test_an_untrusted_reading_that_carries_a_value_is_refused(client: TestClient, edge) -> None:  # type: ignore[no-untyped-def]
    bad = comfort(value=1200.0, status="untrusted").model_dump(mode="json")
    r = client.post("/api/v1/events", json=[bad], headers=edge)
    assert r.status_code == 422 and "untrusted" in r.text
