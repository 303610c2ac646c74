"""The first page at / and its two JSON feeds under /ui."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from services.central.api.app import create_app
from services.central.settings import Settings

from .builders import fever_alert, minutes_ago, occupancy, wire


def test_page_and_feeds_show_live_counts_and_latest_events(client: TestClient, edge: dict[str, str]) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<title>Anshin" in page.text and 'fetch("/ui/occupancy"' in page.text and "setInterval" in page.text
    events = [occupancy(count=3, capacity=2, at=minutes_ago(1)), occupancy(zone="till", count=1, at=minutes_ago(2))]
    events += [fever_alert(at=minutes_ago(i / 10)) for i in range(25)]
    assert client.post("/api/v1/events", json=wire(*events), headers=edge).status_code == 200
    zones = client.get("/ui/occupancy").json()["zones"]
    assert [(z["zone"], z["count"], z["capacity"], z["over_capacity"]) for z in zones] == [
        ("aisle", 3, 2, True), ("till", 1, 10, False)
    ]
    latest = client.get("/ui/events").json()["data"]
    assert len(latest) == 20
    assert "above the 37.5 °C threshold" in latest[0]["summary"]
    assert "evidence" not in latest[0]  # the open feed carries headers only


def test_ui_token_protects_page_and_feeds(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(ui_token="s3cret-ui"))
    try:
        with TestClient(app) as client:
            for path in ("/", "/ui/occupancy", "/ui/events"):
                assert client.get(path).status_code == 401
                assert client.get(path, params={"token": "wrong"}).status_code == 401
                assert client.get(path, params={"token": "s3cret-ui"}).status_code == 200
                assert client.get(path, headers={"X-UI-Token": "s3cret-ui"}).status_code == 200
    finally:
        app.state.db.dispose()
