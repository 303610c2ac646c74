"""Webhooks for integrators: signed deliveries of stored events, retries with backoff, a dead-letter view."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from services.central.webhooks.dispatcher import WebhookDispatcher
from services.central.webhooks.signing import SIGNATURE_HEADER, verify

from .conftest import bearer, occupancy

pytestmark = pytest.mark.postgres


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records requests and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _ingest(client: TestClient, secret: str, events: list) -> None:  # type: ignore[type-arg]
    r = client.post("/api/v1/events", headers=bearer(secret), json=[e.model_dump(mode="json") for e in events])
    assert r.status_code == 200, r.text


def test_matching_stored_events_are_delivered_signed(client: TestClient, key: Callable[..., str], settings, db,  # type: ignore[no-untyped-def]
                                                     receiver: Receiver) -> None:
    integrator = bearer(key("integrator", "webhooks:manage"))
    created = client.post("/api/v1/webhooks", headers=integrator,
                          json={"name": "crowding", "url": receiver.url, "event_types": ["zone.over_capacity"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and "secret" not in client.get("/api/v1/webhooks", headers=integrator).json()["data"][0]

    edge = key("edge", "events:write")
    alert = occupancy("tokyo-01", event_type="zone.over_capacity")
    _ingest(client, edge, [alert, occupancy("tokyo-01")])
    _ingest(client, edge, [alert])  # a redelivery: stored once, delivered once

    dispatcher = WebhookDispatcher(db, settings)
    assert dispatcher.run_once() == 1 and dispatcher.run_once() == 0
    dispatcher.close()
    (headers, body), = receiver.requests
    assert verify(secret, headers[SIGNATURE_HEADER], body)
    assert not verify(secret, headers[SIGNATURE_HEADER], body.replace(b"tokyo-01", b"tokyo-02"))
    assert json.loads(body)["event_id"] == str(alert.event_id) == headers["X-Anshin-Event-Id"]
    deliveries = client.get("/api/v1/webhooks/1/deliveries", headers=integrator).json()
    assert [d["state"] for d in deliveries["data"]] == ["delivered"]


def test_failing_endpoint_is_retried_with_backoff_then_dead_lettered_and_can_be_retried(  # type: ignore[no-untyped-def]
    client: TestClient, key: Callable[..., str], settings, db, receiver: Receiver
) -> None:
    import time

    receiver.status = 500
    integrator = bearer(key("integrator", "webhooks:manage"))
    hook = client.post("/api/v1/webhooks", headers=integrator, json={"name": "all", "url": receiver.url}).json()
    _ingest(client, key("edge", "events:write"), [occupancy("tokyo-01")])
    dispatcher = WebhookDispatcher(db, settings)
    deadline = time.monotonic() + 10
    while len(receiver.requests) < settings.webhook_max_attempts and time.monotonic() < deadline:
        dispatcher.run_once()
        time.sleep(0.02)
    assert len(receiver.requests) == settings.webhook_max_attempts == 3
    assert [h["X-Anshin-Attempt"] for h, _ in receiver.requests] == ["1", "2", "3"]
    dead = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries?state=dead", headers=integrator).json()
    assert dead["count"] == 1 and dead["data"][0]["last_status"] == 500 and dead["data"][0]["attempts"] == 3

    receiver.status = 204
    again = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/retry", headers=integrator, json={})
    assert again.json() == {"requeued": 1}
    assert dispatcher.run_once() == 1
    dispatcher.close()
    states = [d["state"] for d in client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=integrator).json()["data"]]
    assert states == ["delivered"]


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"name": "x", "url": "ftp://example.org"}, "url", id="not http"),
    pytest.param({"name": "x y", "url": "https://example.org"}, "name", id="space in name"),
    pytest.param({"name": "x", "url": "https://example.org", "event_types": ["Zone"]}, "event_types", id="bad type"),
    pytest.param({"name": "x", "url": "https://example.org", "secret": "mine"}, "secret", id="unknown field"),
])
def test_invalid_webhook_requests_are_422_naming_the_field(client: TestClient, key: Callable[..., str], body: dict, field: str) -> None:  # type: ignore[type-arg]
    r = client.post("/api/v1/webhooks", headers=bearer(key("i", "webhooks:manage")), json=body)
    assert r.status_code == 422
    assert any(field in err["loc"] for err in r.json()["detail"]), r.json()
