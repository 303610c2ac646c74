"""Use case D on central (SQLite and PostgreSQL): kiosk orders are idempotent by the page's order id
(a retried POST, even two racing ones, stores one order), bad orders are refused and store nothing,
the kiosk page works in Japanese and English with a phone QR code and a loopback-only air-touch
bridge, and staff see orders on their page and through the API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.central.db.session import Database
from services.central.stores import set_profile
from services.central.usecases.ordering import views
from services.central.usecases.ordering.schemas import OrderIn
from services.central.usecases.ordering.service import place_order
from services.central.usecases.ordering.tables import OrderRow

from .ui_builders import sign_in

STORE = "kiosk-store"


@pytest.fixture(autouse=True)
def store(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.unit_of_work() as s:
        set_profile(s, STORE, "standard", "JP", "Kiosk Store", actor="test")
    # every test starts with a full bucket (the limiter is per process)
    monkeypatch.setattr(views, "_buckets", views.TokenBuckets(views.PUBLIC_RATE_PER_S, views.PUBLIC_BURST))


def count(db: Database) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(OrderRow)))


def order(**over: object) -> dict[str, object]:
    body = {"order_id": str(uuid.uuid4()), "kiosk_id": "k1", "source": "airtouch",
            "lines": [{"sku": "coffee", "qty": 2}, {"sku": "onigiri", "qty": 1}]}
    return {**body, **over}


def test_a_retried_order_is_stored_once(client: TestClient, db: Database, auth: Callable[..., dict[str, str]]) -> None:
    body = order()
    first = client.post(f"/kiosk/{STORE}/orders", json=body)
    again = client.post(f"/kiosk/{STORE}/orders", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["total_yen"] == 2 * 300 + 160 and first.json()["source"] == "airtouch"
    assert count(db) == 1
    # the same id with other content is a conflict, not a second order and not a change
    changed = client.post(f"/kiosk/{STORE}/orders", json={**body, "lines": [{"sku": "bento", "qty": 1}]})
    assert changed.status_code == 409 and "already used" in changed.json()["detail"]
    listed = client.get(f"/api/v1/stores/{STORE}/orders", headers=auth("pos", "events:read")).json()
    assert [o["order_id"] for o in listed] == [body["order_id"]] and listed[0]["lines"] == [["coffee", 2], ["onigiri", 1]]


def test_racing_retries_store_one_order(db: Database) -> None:
    body = OrderIn.model_validate(order())
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        results.append(place_order(db, STORE, body).created)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True] and count(db) == 1


@pytest.mark.parametrize(("body", "status", "says"), [
    (order(lines=[{"sku": "caviar", "qty": 1}]), 422, "unknown menu item 'caviar'"),
    (order(lines=[]), 422, "at least 1 item"),
    (order(lines=[{"sku": "coffee", "qty": 0}]), 422, "greater than or equal to 1"),
    (order(lines=[{"sku": "coffee", "qty": 15}, {"sku": "coffee", "qty": 10}]), 422, "at most 20 of one item"),
    (order(order_id="not-a-uuid"), 422, "UUID"),
    (order(total_yen=1), 422, "Extra inputs are not permitted"),
])
def test_bad_orders_are_refused_and_store_nothing(client: TestClient, db: Database, body: dict, status: int, says: str) -> None:
    r = client.post(f"/kiosk/{STORE}/orders", json=body)
    assert r.status_code == status and says in r.text, r.text
    assert client.post(f"/kiosk/{STORE}/orders", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
    assert client.post("/kiosk/nowhere/orders", json=order()).status_code == 422
    assert count(db) == 0


def test_the_kiosk_page_in_both_languages_with_a_phone_qr(client: TestClient) -> None:
    en = client.get(f"/kiosk/{STORE}?lang=en")
    ja = client.get(f"/kiosk/{STORE}?lang=ja")
    assert en.status_code == ja.status_code == 200
    assert "Place order" in en.text and "Coffee" in en.text and "¥300" in en.text
    assert "注文する" in ja.text and "コーヒー" in ja.text and "300円" in ja.text
    assert 'src="data:image/png;base64,' in en.text and "source=phone" in en.text
    assert 'data-airtouch=""' in en.text and "connect-src 'self';" in en.headers["content-security-policy"]
    assert client.get("/kiosk/nowhere").status_code == 404
    assert client.get(f"/kiosk/{STORE}?source=phone").text.count('data-source="phone"') == 1


def test_the_air_touch_bridge_must_be_the_kiosks_own_loopback(client: TestClient) -> None:
    ok = client.get(f"/kiosk/{STORE}?airtouch=http://127.0.0.1:8765")
    assert ok.status_code == 200 and 'data-airtouch="http://127.0.0.1:8765"' in ok.text
    assert "connect-src 'self' http://127.0.0.1:8765;" in ok.headers["content-security-policy"]
    for bad in ("http://evil.example:8765", "javascript:alert(1)", "http://127.0.0.1:8765/x", "https://10.0.0.1:1"):
        r = client.get(f"/kiosk/{STORE}", params={"airtouch": bad})
        assert r.status_code == 422, bad
    assert client.get("/kiosk-assets/kiosk.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/kiosk-assets/..%2Fviews.py").status_code == 404


def test_staff_see_orders_and_keys_are_scoped(client: TestClient, db: Database, auth: Callable[..., dict[str, str]]) -> None:
    body = order(lines=[{"sku": "bento", "qty": 1}])
    client.post(f"/kiosk/{STORE}/orders", json=body)
    assert client.get("/orders", follow_redirects=False).status_code == 303  # a stranger signs in first
    assert client.get(f"/api/v1/stores/{STORE}/orders").status_code == 401
    other = auth("other-edge", "events:read", store="elsewhere")
    assert client.get(f"/api/v1/stores/{STORE}/orders", headers=other).status_code == 403
    sign_in(client, db, "sato", "staff", locale="ja")
    page = client.get("/orders")
    assert page.status_code == 200 and "キオスクの注文" in page.text and "お弁当 × 1" in page.text and "エアタッチ" in page.text
    assert body["order_id"][:8].upper() in client.get("/orders/live").text


def test_the_public_endpoints_are_rate_limited(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "_buckets", views.TokenBuckets(0.001, 2))
    codes = [client.post(f"/kiosk/{STORE}/orders", json=order()).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
