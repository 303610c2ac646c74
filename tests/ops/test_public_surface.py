"""What a stranger reaches: every route of the app (API, dashboard, static files, the event stream,
snapshots, commands, use-case routes) is walked without credentials; only health (``/healthz``,
``/readyz``), sign-in (``/login``), static assets and the customer pages (floor guide, the signage
shell, which holds no data until a device key signs it in) answer. Everything else is 401/403 or a
redirect that ends on the sign-in page. ``/docs``, ``/redoc`` and ``/openapi.json`` are 404 unless
``ANSHIN_OPENAPI_PUBLIC=1``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response

from services.central.api.app import create_app
from services.central.settings import Settings

pytestmark = pytest.mark.postgres

STATIC = Path(__file__).resolve().parents[2] / "services/central/dashboard/static"

#: (method, route path) that answer a stranger: health, sign-in, static assets. Nothing else.
ANONYMOUS = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"), ("GET", "/static/{name}"),
             ("GET", "/floor-guide/{store_id}"), ("GET", "/floor-guide/{store_id}/map"),
             # use case C's signage shell and its scripts: no data; the page signs in with a device key
             ("GET", "/signage"), ("GET", "/signage/phone"), ("GET", "/signage-assets/{name}"),
             # use case D's ordering kiosk: the menu, its scripts and the order post (rate-limited, idempotent)
             ("GET", "/kiosk/{store_id}"), ("GET", "/kiosk-assets/{name}"), ("POST", "/kiosk/{store_id}/orders")}

#: Customer-facing pages of one store: public, but a store without the data they show says 404.
PUBLIC_PER_STORE = {("GET", "/floor-guide/{store_id}"), ("GET", "/floor-guide/{store_id}/map"),
                    ("GET", "/signage-assets/{name}"), ("GET", "/kiosk-assets/{name}"),  # (the walk asks for app.css: 404)
                    ("GET", "/kiosk/{store_id}")}

#: A sample of each kind of route, so the walk cannot silently shrink to the API alone.
MUST_WALK = {"/api/v1/events", "/metrics", "/queue", "/reviews/{item_id}/decision", "/ui/stream",
             "/ui/evidence/{event_id}.jpg", "/static/{name}", "/api/v1/snapshots", "/api/v1/commands/poll",
             "/api/v1/stores/{store_id}/occupancy", "/stores/{store_id}/live", "/login", "/healthz"}

DOCUMENTS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def concrete(path: str) -> str:
    """A request path for a route path: parameters filled with values that parse.

    >>> concrete("/api/v1/webhooks/{webhook_id}/rotate"), concrete("/lang/{locale}")
    ('/api/v1/webhooks/1/rotate', '/lang/en')
    """
    path = re.sub(r"\{event_id\}", str(uuid.UUID(int=1)), path)
    path = path.replace("{sha256}", "0" * 64).replace("{locale}", "en").replace("{name}", "app.css")
    path = re.sub(r"\{(store_id|camera_id)\}", "tokyo-01", path)
    path = re.sub(r"\{[^}]*_id\}", "1", path)
    return re.sub(r"\{[^}:]+(:path)?\}", "x", path)


def every_route(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, route path) of every route the app serves, included routers and mounts too."""
    for route in iter_route_contexts(app.routes):
        path = route.path
        assert path, route
        methods = route.methods or {"GET"}  # a mount (static files) has none: a GET is what reaches it
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            yield method, path if route.methods else path.rstrip("/") + "/{path:path}"


def ends_on_sign_in(client: TestClient, response: Response, hops: int = 4) -> bool:
    """True when ``response`` is a redirect whose chain (inside the app) lands on ``/login``."""
    for _ in range(hops):
        if response.status_code not in (301, 302, 303, 307, 308):
            return False
        location = urlsplit(response.headers["location"])
        if location.path == "/login":
            return True
        response = client.get(location.path + (f"?{location.query}" if location.query else ""), follow_redirects=False)
    return False


def test_only_health_sign_in_static_files_and_customer_pages_answer_a_stranger(app: FastAPI, client: TestClient) -> None:
    routes = sorted(set(every_route(app)))
    walked = {path for _, path in routes}
    assert MUST_WALK <= walked, MUST_WALK - walked
    assert len(routes) >= 50, routes
    answered, refused = [], []
    for method, path in routes:
        r = client.request(method, concrete(path), json={} if method != "GET" else None, follow_redirects=False)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
        if (method, path) in ANONYMOUS:
            answered.append((method, path))
            if method == "GET":
                expected = (200, 404) if (method, path) in PUBLIC_PER_STORE else (200,)
                assert r.status_code in expected, (method, path, r.status_code, r.text[:200])
            continue
        ok = r.status_code in (401, 403) or ends_on_sign_in(client, r)
        assert ok, f"{method} {path} answered a stranger: {r.status_code} {r.headers.get('location', '')} {r.text[:200]}"
        refused.append((method, path))
    assert sorted(answered) == sorted(ANONYMOUS)
    assert len(refused) == len(routes) - len(ANONYMOUS)


def test_the_sign_in_page_and_a_static_file_really_answer(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and "<form" in page.text
    css = client.get("/static/app.css")
    assert css.status_code == 200 and css.content == (STATIC / "app.css").read_bytes()
    assert client.get("/static/nope.css").status_code == 404


def test_api_documents_are_404_by_default_and_served_when_opted_in(app: FastAPI, client: TestClient,
                                                                  settings: Settings) -> None:
    for path in DOCUMENTS:
        assert client.get(path).status_code == 404, path
    assert "/api/v1/events" in app.openapi()["paths"]  # still generated in-process for tests and tools
    assert Settings().openapi_public is False
    public = create_app(settings.model_copy(update={"openapi_public": True}))
    try:
        with TestClient(public) as c:
            assert [c.get(p).status_code for p in DOCUMENTS] == [200] * len(DOCUMENTS)
            assert c.get("/openapi.json").json()["paths"] == app.openapi()["paths"]
    finally:
        public.state.db.dispose()


def test_the_opt_in_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSHIN_OPENAPI_PUBLIC", "1")
    assert Settings().openapi_public is True
    monkeypatch.setenv("ANSHIN_OPENAPI_PUBLIC", "0")
    assert Settings().openapi_public is False
