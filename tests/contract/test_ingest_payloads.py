"""Ingest checks each event against its registered type: over HTTP an unknown type or a bad payload
is a 422 naming the field (nothing of the batch is stored); over MQTT it is a dead letter with the
reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.central.api.app import create_app
from services.central.auth import create_key
from services.central.ingest.dead_letters import Rejected
from services.central.mqtt.messages import classify
from services.central.settings import Settings
from services.contract import Event, mqtt_topic

STORE = "tokyo-01"


def occupancy(**payload: object) -> Event:
    return Event(type="zone.occupancy", use_case="F", store_id=STORE, camera_id="aisle-1",
                 occurred_at=datetime.now(timezone.utc), payload={"zone": "aisle", "count": 3, "capacity": 10, **payload})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    try:
        with app.state.db.unit_of_work() as session:
            secret = create_key(session, "edge", ["events:write", "events:read"], None, actor="test").secret
        with TestClient(app) as c:
            yield c, {"Authorization": f"Bearer {secret}"}
    finally:
        app.state.db.dispose()


def stored(c: TestClient, headers: dict[str, str]) -> int:
    return len(c.get("/api/v1/events", headers=headers, params={"store_id": STORE}).json()["data"])


@pytest.mark.parametrize(("change", "loc", "type_"), [
    pytest.param({"payload": {"zone": "aisle", "count": -2, "capacity": 10}}, ["body", 1, "payload", "count"],
                 "greater_than_equal", id="negative count"),
    pytest.param({"payload": {"zone": "aisle", "count": 3, "capacity": 10, "colour": "red"}},
                 ["body", 1, "payload", "colour"], "extra_forbidden", id="undeclared field"),
    pytest.param({"payload": {"zone": "aisle", "count": "3", "capacity": 10}}, ["body", 1, "payload", "count"],
                 "int_type", id="count as text"),
    pytest.param({"payload": {"zone": "aisle", "count": 3}}, ["body", 1, "payload", "capacity"], "missing",
                 id="missing capacity"),
    pytest.param({"type": "zone.over_capacity"}, ["body", 1, "type"], "unknown_event_type", id="unknown type"),
    pytest.param({"use_case": "A"}, ["body", 1, "use_case"], "use_case_mismatch", id="another use case's type"),
    pytest.param({"review_required": True, "explanation": {"rule": "r"}}, ["body", 1, "review_required"],
                 "review_mismatch", id="a reading sent for review"),
])
def test_http_refuses_a_bad_payload_naming_the_field(client, change, loc, type_) -> None:  # type: ignore[no-untyped-def]
    c, headers = client
    bad = {**occupancy().model_dump(mode="json"), **change}
    r = c.post("/api/v1/events", headers=headers, json=[occupancy().model_dump(mode="json"), bad])
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["type"]) for e in r.json()["detail"]] == [(loc, type_)]
    assert stored(c, headers) == 0  # all or nothing


def test_http_accepts_what_the_edge_sends(client) -> None:  # type: ignore[no-untyped-def]
    c, headers = client
    full = occupancy(occupancy_ratio=0.3, peak_count=4, unique_tracks=5, interval_s=2.0,
                     polygon=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    r = c.post("/api/v1/events", headers=headers, json=[full.model_dump(mode="json"), occupancy().model_dump(mode="json")])
    assert r.status_code == 200, r.text
    assert stored(c, headers) == 2


def test_mqtt_dead_letters_a_bad_payload_with_the_reason() -> None:
    good = occupancy()
    assert classify(mqtt_topic(good), good.model_dump_json().encode(), 65536) == good
    bad = occupancy(count=-2)
    rejected = classify(mqtt_topic(bad), bad.model_dump_json().encode(), 65536)
    assert isinstance(rejected, Rejected) and rejected.reason == "invalid_event"
    [error] = json.loads(rejected.detail)
    assert (error["loc"], error["type"]) == (["payload", "payload", "count"], "greater_than_equal")


def test_mqtt_dead_letters_an_unknown_type() -> None:
    unknown = occupancy().model_copy(update={"type": "zone.over_capacity"})
    rejected = classify(mqtt_topic(unknown), unknown.model_dump_json().encode(), 65536)
    assert isinstance(rejected, Rejected) and rejected.reason == "invalid_event"
    assert "unknown event type 'zone.over_capacity'" in rejected.detail
