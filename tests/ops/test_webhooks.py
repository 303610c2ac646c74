"""Webhooks for integrators: signed deliveries of stored events, retries with backoff, a dead-letter view."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from services.central.settings import Settings
from services.central.webhooks.dispatcher import WebhookDispatcher
from services.central.webhooks.signing import SIGNATURE_HEADER, verify

from .conftest import bearer, occupancy

pytestmark = pytest.mark.postgres


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records requests and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.reply = b"internal: db_password=hunter2"  # what an internal service would leak
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(outer.reply)))
                self.end_headers()
                self.wfile.write(outer.reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test receiver listens on 127.0.0.1, which webhooks may reach only by the operator's leave."""
    return settings.model_copy(update={"webhook_allow_hosts": ["127.0.0.1/32"]})


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
                          json={"name": "crowding", "url": receiver.url, "event_types": ["zone.overcrowded"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and "secret" not in client.get("/api/v1/webhooks", headers=integrator).json()["data"][0]

    edge = key("edge", "events:write")
    alert = occupancy("tokyo-01", event_type="zone.overcrowded")
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


def test_only_the_status_line_of_an_answer_is_kept(client: TestClient, key: Callable[..., str], settings, db,  # type: ignore[no-untyped-def]
                                                   receiver: Receiver) -> None:
    receiver.status = 500
    integrator = bearer(key("integrator", "webhooks:manage"))
    hook = client.post("/api/v1/webhooks", headers=integrator, json={"name": "all", "url": receiver.url}).json()
    _ingest(client, key("edge", "events:write"), [occupancy("tokyo-01")])
    dispatcher = WebhookDispatcher(db, settings)
    assert dispatcher.run_once() == 1
    dispatcher.close()
    (delivery,) = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=integrator).json()["data"]
    assert delivery["last_error"] == "HTTP 500 Internal Server Error"
    assert "hunter2" not in json.dumps(delivery)


INTERNAL = [
    "http://127.0.0.1:8000/api/v1/audit", "http://localhost/", "http://2130706433/", "http://0177.0.0.1/",
    "http://0x7f.0.0.1/", "http://127.1/", "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://240.0.0.1/", "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://[fe80::1]/", "http://[fd00:ec2::254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://sub.localhost/", "https://user:pw@127.0.0.1:443/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_webhooks_to_internal_addresses_are_refused_when_created(  # type: ignore[no-untyped-def]
    client: TestClient, key: Callable[..., str], app, url: str
) -> None:
    """The probe's finding: a store-bound key pointed a webhook at central itself and read the answer."""
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_hosts": []})  # no operator exception
    r = client.post("/api/v1/webhooks", headers=bearer(key("i", "webhooks:manage", store="tokyo-01")),
                    json={"name": "probe", "url": url})
    assert r.status_code == 422, r.text
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "url"] and "public addresses only" in err["msg"]


def _resolves_to(address: str) -> Callable[..., list[tuple]]:  # type: ignore[type-arg]
    def getaddrinfo(host: str, port: int, **_: object) -> list[tuple]:  # type: ignore[type-arg]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo


def test_a_name_that_resolves_inside_at_delivery_is_refused(  # type: ignore[no-untyped-def]
    client: TestClient, key: Callable[..., str], settings, db, receiver: Receiver
) -> None:
    """DNS rebinding: the name looked public when the webhook was made, now it resolves to 10.0.0.5."""
    integrator = bearer(key("integrator", "webhooks:manage"))
    hook = client.post("/api/v1/webhooks", headers=integrator,
                       json={"name": "rebound", "url": "http://hooks.example.com/in"}).json()
    _ingest(client, key("edge", "events:write"), [occupancy("tokyo-01")])
    dispatcher = WebhookDispatcher(db, settings, resolver=_resolves_to("10.0.0.5"))
    assert dispatcher.run_once() == 1
    dispatcher.close()
    (delivery,) = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=integrator).json()["data"]
    assert delivery["state"] == "pending" and delivery["last_status"] is None
    assert delivery["last_error"].startswith("refused: hooks.example.com (10.0.0.5) is a private address")


def test_delivery_connects_to_the_address_that_was_checked(  # type: ignore[no-untyped-def]
    client: TestClient, key: Callable[..., str], settings, db, receiver: Receiver
) -> None:
    """The name is resolved once, checked, and that address is dialled (Host still names the URL's host)."""
    port = receiver.url.split(":")[2].split("/")[0]
    integrator = bearer(key("integrator", "webhooks:manage"))
    client.post("/api/v1/webhooks", headers=integrator, json={"name": "named", "url": f"http://hooks.example.com:{port}/hook"})
    _ingest(client, key("edge", "events:write"), [occupancy("tokyo-01")])
    dispatcher = WebhookDispatcher(db, settings, resolver=_resolves_to("127.0.0.1"))  # allowed by the operator
    assert dispatcher.run_once() == 1
    dispatcher.close()
    (headers, _), = receiver.requests
    assert headers["Host"] == f"hooks.example.com:{port}"


def test_the_operator_allowlist_is_what_lets_a_local_receiver_in(  # type: ignore[no-untyped-def]
    client: TestClient, key: Callable[..., str], app, receiver: Receiver
) -> None:
    integrator = bearer(key("integrator", "webhooks:manage"))
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_hosts": []})
    refused = client.post("/api/v1/webhooks", headers=integrator, json={"name": "local", "url": receiver.url})
    assert refused.status_code == 422 and "ANSHIN_WEBHOOK_ALLOW_HOSTS" in refused.text
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_hosts": ["127.0.0.1/32"]})
    assert client.post("/api/v1/webhooks", headers=integrator, json={"name": "local", "url": receiver.url}).status_code == 201
