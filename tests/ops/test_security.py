"""Nobody gets in who doesn't belong: 401 without a key on every API route, 403 without the
scope, 429 over the rate limit, forged webhook signatures detected by the documented check."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.central.api.app import create_app
from services.central.auth import create_key
from services.central.settings import Settings
from services.central.webhooks.cli import webhooks_app
from services.central.webhooks.signing import derive_secret, sign, verify

from .conftest import bearer

pytestmark = pytest.mark.postgres


def data_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every API route in the OpenAPI spec (/api/..., /metrics),
    path parameters filled in."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        if not (path.startswith("/api/") or path == "/metrics"):
            continue
        concrete = re.sub(r"\{event_id\}", str(uuid.uuid4()), path)
        concrete = re.sub(r"\{[^}]*id\}", "1", concrete)
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        out += [(m.upper(), concrete) for m in sorted(ops) if m in ("get", "post", "put", "patch", "delete")]
    return out


def test_every_api_route_without_a_key_is_401_with_a_bearer_challenge(client: TestClient, app: FastAPI) -> None:
    """The API's side; test_public_surface.py walks every route of the app (dashboard, static, ...)."""
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json()["status"] == "ready"
    routes = data_routes(app)
    assert len(routes) >= 15, routes  # events, reviews, audit, stores, edges, webhooks, metrics, ...
    for method, path in routes:
        r = client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert r.headers.get("www-authenticate") == "Bearer"


def test_an_unknown_or_revoked_key_is_401(client: TestClient, db) -> None:  # type: ignore[no-untyped-def]
    from services.central.auth import create_key, revoke_key

    assert client.get("/api/v1/events", headers=bearer("ank_" + "A" * 43)).status_code == 401
    with db.unit_of_work() as s:
        secret = create_key(s, "reader", ["events:read"], actor="test").secret
    assert client.get("/api/v1/events", headers=bearer(secret)).status_code == 200
    with db.unit_of_work() as s:
        revoke_key(s, "reader", actor="test")
    assert client.get("/api/v1/events", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize(("method", "path", "needs"), [
    pytest.param("POST", "/api/v1/events", "events:write", id="ingest needs events:write"),
    pytest.param("GET", "/api/v1/events", "events:read", id="read events needs events:read"),
    pytest.param("GET", "/api/v1/reviews", "reviews:read", id="read reviews needs reviews:read"),
    pytest.param("POST", "/api/v1/reviews/1/claim", "reviews:write", id="claim needs reviews:write"),
    pytest.param("GET", "/api/v1/audit", "audit:read", id="audit needs audit:read"),
    pytest.param("GET", "/api/v1/webhooks", "webhooks:manage", id="webhooks need webhooks:manage"),
    pytest.param("POST", "/api/v1/webhooks", "webhooks:manage", id="creating a webhook needs webhooks:manage"),
    pytest.param("GET", "/metrics", "metrics:read", id="metrics need metrics:read"),
    pytest.param("GET", "/api/v1/ingest/dead-letters", "admin", id="dead letters need admin"),
    pytest.param("POST", "/api/v1/edges/status", "events:write", id="edge status needs events:write"),
])
def test_a_key_without_the_scope_gets_403(client: TestClient, key: Callable[..., str], method: str, path: str, needs: str) -> None:
    all_but = [s for s in ("events:write", "events:read", "reviews:read", "reviews:write", "audit:read",
                           "webhooks:manage", "metrics:read") if s != needs]
    r = client.request(method, path, headers=bearer(key("integrator", *all_but)), json={})
    assert r.status_code == 403, r.text
    assert needs in r.json()["detail"]
    allowed = client.request(method, path, headers=bearer(key("holder", needs)), json={})
    assert allowed.status_code not in (401, 403), allowed.text


def test_a_store_bound_integrator_cannot_subscribe_to_another_store(client: TestClient, key: Callable[..., str]) -> None:
    secret = key("store-integrator", "webhooks:manage", store="tokyo-01")
    r = client.post("/api/v1/webhooks", headers=bearer(secret),
                    json={"name": "other", "url": "http://127.0.0.1:9/x", "store_id": "osaka-02"})
    assert r.status_code == 403


def test_over_the_rate_limit_is_429_with_retry_after_and_health_is_never_limited(pg_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(data_dir=tmp_path, database_url=pg_url, rate_limit_per_s=1.0, rate_limit_burst=3))
    try:
        with TestClient(app) as c:
            codes = [c.get("/api/v1/events", headers=bearer("ank_nobody")).status_code for _ in range(5)]
            assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
            limited = c.get("/api/v1/events", headers=bearer("ank_nobody"))
            assert int(limited.headers["retry-after"]) >= 1 and "rate limit" in limited.json()["detail"]
            assert all(c.get("/healthz").status_code == 200 for _ in range(10))
    finally:
        app.state.db.dispose()


def test_random_bearer_values_share_the_address_bucket_and_only_verified_keys_get_their_own(
    pg_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The probe's bypass: a fresh made-up bearer per request used to get a fresh bucket each."""
    app = create_app(Settings(data_dir=tmp_path, database_url=pg_url, rate_limit_per_s=0.5, rate_limit_burst=3))
    try:
        with app.state.db.unit_of_work() as s:
            reader = create_key(s, "reader", ["events:read"], actor="test").secret
        with TestClient(app) as c:
            # the key's first request comes from the address's bucket; once accepted, its id has one
            assert c.get("/api/v1/events", headers=bearer(reader)).status_code == 200
            codes = [c.get("/api/v1/events", headers=bearer(f"ank_{secrets.token_urlsafe(16)}")).status_code
                     for _ in range(5)]
            assert codes == [401, 401, 429, 429, 429]
            assert c.get("/api/v1/events").status_code == 429  # no bearer at all: the same address bucket
            assert [c.get("/api/v1/events", headers=bearer(reader)).status_code for _ in range(4)] == [200] * 3 + [429]
    finally:
        app.state.db.dispose()


def test_webhooks_are_refused_while_no_master_secret_is_in_the_environment(pg_url: str, tmp_path, key) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(data_dir=tmp_path, database_url=pg_url))
    try:
        with TestClient(app) as c:
            from services.central.auth import create_key

            with app.state.db.unit_of_work() as s:
                secret = create_key(s, "hooks", ["webhooks:manage"], actor="test").secret
            r = c.post("/api/v1/webhooks", headers=bearer(secret), json={"name": "a", "url": "https://example.org/h"})
            assert r.status_code == 503 and "ANSHIN_WEBHOOK_SECRET_KEY" in r.json()["detail"]
    finally:
        app.state.db.dispose()


BODY = b'{"event_id":"0b8f3c1e-2f7a-4f8e-9a55-0d1b6f1c2a10","type":"zone.over_capacity"}'


@pytest.mark.parametrize(("header", "body", "secret", "age_s", "valid"), [
    pytest.param("good", BODY, "right", 0, True, id="authentic and fresh"),
    pytest.param("good", BODY.replace(b"over_capacity", b"occupancy"), "right", 0, False, id="body altered"),
    pytest.param("good", BODY, "wrong", 0, False, id="signed with another secret"),
    pytest.param("good", BODY, "right", 301, False, id="replayed after 5 minutes"),
    pytest.param("t=1767225600,v1=" + "0" * 64, BODY, "right", 0, False, id="forged digest"),
    pytest.param("v1=abc", BODY, "right", 0, False, id="no timestamp"),
])
def test_a_forged_webhook_signature_is_detected(header: str, body: bytes, secret: str, age_s: int, valid: bool) -> None:
    right = derive_secret("m" * 40, "salt")
    t = 1767225600
    value = sign(right, BODY, timestamp=t) if header == "good" else header
    used = right if secret == "right" else derive_secret("m" * 40, "other-salt")
    assert verify(used, value, body, now=t + age_s) is valid


def test_cli_verify_exits_1_on_a_forged_signature(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    secret = derive_secret("m" * 40, "salt")
    monkeypatch.setenv("ANSHIN_WEBHOOK_SECRET", secret)
    (tmp_path / "body.json").write_bytes(BODY)
    good = sign(secret, BODY, timestamp=int(time.time()))
    runner = CliRunner()
    ok = runner.invoke(webhooks_app, ["verify", "--header", good, "--body", str(tmp_path / "body.json")])
    assert ok.exit_code == 0 and "valid" in ok.output
    forged = runner.invoke(webhooks_app, ["verify", "--header", good[:-1] + ("0" if good[-1] != "0" else "1"),
                                          "--body", str(tmp_path / "body.json")])
    assert forged.exit_code == 1 and "INVALID" in forged.output


def test_a_query_parameter_given_twice_is_422_not_the_last_one_silently(client: TestClient, key: Callable[..., str]) -> None:
    """Found by schemathesis: ``/api/v1/edges?store_id=a&store_id=b`` answered for ``b``."""
    reader = bearer(key("ops", "events:read", "webhooks:manage"))
    r = client.get("/api/v1/edges", params=[("store_id", "tokyo-01"), ("store_id", "osaka-02")], headers=reader)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "store_id"]
    assert client.get("/api/v1/edges", params={"store_id": "tokyo-01"}, headers=reader).status_code == 200
    assert client.get("/api/v1/webhooks/1/deliveries", params=[("limit", "1"), ("limit", "2")], headers=reader).status_code == 422
