"""Use case C on central (SQLite and PostgreSQL): the signage device API (store-bound keys only),
the call state machine through the console routes (take, hold, take another, transfer, end),
abandonment, pushed content and announcements, ICE/recording settings and the figures in /metrics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.central.db.session import Database
from services.central.settings import Settings
from services.central.usecases.signage import calls
from services.central.usecases.signage.tables import SignageCall, SignageMessage

from .ui_builders import add_user, sign_in

Auth = Callable[..., dict[str, str]]
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"


def _device(auth: Auth, store: str = "tokyo-01", name: str | None = None) -> dict[str, str]:
    return auth(name or f"signage-{store}", "commands:device", store=store)


def test_the_device_api_wants_a_store_bound_device_key(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/v1/signage/device").status_code == 401
    assert client.post("/api/v1/signage/calls").status_code == 401
    unbound = auth("signage-nowhere", "commands:device")
    r = client.get("/api/v1/signage/device", headers=unbound)
    assert r.status_code == 403 and "not bound to a store" in r.json()["detail"]
    reader = auth("reader", "events:read", store="tokyo-01")
    assert client.post("/api/v1/signage/calls", headers=reader).status_code == 403
    cfg = client.get("/api/v1/signage/device", headers=_device(auth)).json()
    assert cfg["store_id"] == "tokyo-01" and cfg["ice_servers"] == [] and cfg["recording"] is False
    assert cfg["phone_qr"].startswith("data:image/png;base64,") and cfg["phone_link"].endswith("/floor-guide/tokyo-01")


def test_ice_servers_and_recording_reach_the_signage(make_settings: Callable[..., Settings]) -> None:
    from services.central.api.app import create_app

    ice = [{"urls": ["turn:turn.example:3478"], "username": "anshin", "credential": "s3cret"}, {"urls": ["stun:turn.example:3478"]},
           {"urls": ["turns:turn.example:5349"]}]
    app = create_app(make_settings(signage_ice_servers=ice, signage_recording=True, signage_turn_secret="coturn-shared-secret"))
    try:
        from services.central.auth import create_key

        with app.state.db.unit_of_work() as s:
            key = create_key(s, "signage-osaka", ["commands:device"], "osaka-02", actor="test").secret
        with TestClient(app) as c:
            cfg = c.get("/api/v1/signage/device", headers={"Authorization": f"Bearer {key}"}).json()
            page = c.get("/signage?lang=ja")
    finally:
        app.state.db.dispose()
    assert cfg["ice_servers"][:2] == ice[:2] and cfg["recording"] is True
    # a TURN entry without its own user gets short-lived credentials coturn can check (use-auth-secret)
    ephemeral = cfg["ice_servers"][2]
    expiry, who = ephemeral["username"].split(":")
    assert who == "signage-osaka" and 3500 < int(expiry) - time.time() <= 3600
    digest = hmac.new(b"coturn-shared-secret", ephemeral["username"].encode(), hashlib.sha1).digest()
    assert ephemeral["credential"] == base64.b64encode(digest).decode()
    assert Settings(signage_turn_secret="").signage_turn_secret is None
    # the consent notice is in the page (shown by its script when the device config says recording)
    assert 'id="recording-notice"' in page.text and "録画" in page.text and 'lang="ja"' in page.text
    with pytest.raises(ValidationError, match="signage_ice_servers"):
        Settings(signage_ice_servers=[{"urls": ["https://not-ice.example"]}])
    assert Settings().signage_recording is False


def test_a_call_is_queued_taken_held_transferred_and_ended(client: TestClient, db: Database, auth: Auth) -> None:
    tokyo, osaka = _device(auth, "tokyo-01"), _device(auth, "osaka-02")
    first = client.post("/api/v1/signage/calls", headers=tokyo).json()
    assert first["state"] == "waiting" and client.post("/api/v1/signage/calls", headers=tokyo).json()["id"] == first["id"]
    second = client.post("/api/v1/signage/calls", headers=osaka).json()
    add_user(db, "suzuki", "staff")
    csrf = sign_in(client, db, "sato", "staff")
    h = {"X-CSRF-Token": csrf}
    state = client.get("/signage/console/state").json()
    assert [c["store_id"] for c in state["queue"]] == ["tokyo-01", "osaka-02"] and state["colleagues"] == ["suzuki"]
    assert client.post(f"/signage/console/calls/{first['id']}/actions/take").status_code == 403  # no CSRF token
    taken = client.post(f"/signage/console/calls/{first['id']}/actions/take", headers=h).json()
    assert taken["state"] == "active" and taken["epoch"] == 1
    # the offer reaches only that store's signage; a stale or foreign answer is refused
    assert client.post(f"/signage/console/calls/{first['id']}/signal", headers=h,
                       json={"kind": "offer", "epoch": 1, "sdp": SDP}).status_code == 202
    inbox = client.get("/api/v1/signage/inbox", params={"call_id": first["id"]}, headers=tokyo).json()
    assert [m["kind"] for m in inbox["messages"]] == ["take", "offer"] and inbox["call"]["state"] == "active"
    assert client.get("/api/v1/signage/inbox", params={"call_id": second["id"]}, headers=osaka).json()["messages"] == []
    assert client.post(f"/api/v1/signage/calls/{first['id']}/signal", headers=osaka,
                       json={"kind": "answer", "epoch": 1, "sdp": SDP}).status_code == 404
    assert client.post(f"/api/v1/signage/calls/{first['id']}/signal", headers=tokyo,
                       json={"kind": "answer", "epoch": 0, "sdp": SDP}).status_code == 422
    assert client.post(f"/api/v1/signage/calls/{first['id']}/signal", headers=tokyo,
                       json={"kind": "answer", "epoch": 1, "sdp": SDP}).status_code == 202
    mine = client.get("/signage/console/state").json()
    assert [m["kind"] for m in mine["messages"]] == ["answer"] and mine["mine"][0]["id"] == first["id"]
    # hold the first, take the second, then transfer the first to a colleague
    assert client.post(f"/signage/console/calls/{first['id']}/actions/hold", headers=h).json()["state"] == "held"
    assert client.post(f"/signage/console/calls/{second['id']}/actions/take", headers=h).json()["state"] == "active"
    r = client.post(f"/signage/console/calls/{first['id']}/actions/transfer", headers=h, json={"to": "nobody"})
    assert r.status_code == 422
    moved = client.post(f"/signage/console/calls/{first['id']}/actions/transfer", headers=h, json={"to": "suzuki"}).json()
    assert moved["state"] == "waiting" and moved["assigned_to"] == "suzuki"
    assert client.get("/signage/console/state").json()["queue"] == []  # transferred: only suzuki sees it
    r = client.post(f"/signage/console/calls/{first['id']}/actions/take", headers=h)
    assert r.status_code == 409 and "suzuki" in r.json()["detail"]
    assert client.post(f"/signage/console/calls/{second['id']}/actions/end", headers=h).json()["state"] == "ended"
    assert client.post(f"/signage/console/calls/{second['id']}/actions/take", headers=h).status_code == 409
    # the customer leaves the transferred call before suzuki takes it: abandoned
    assert client.post(f"/api/v1/signage/calls/{first['id']}/end", headers=tokyo).json()["state"] == "abandoned"
    with db.read_session() as s:
        figures = {f.store_id: f for f in calls.figures(s)}
    assert (figures["osaka-02"].handled, figures["osaka-02"].abandoned) == (1, 0)
    assert (figures["tokyo-01"].handled, figures["tokyo-01"].abandoned) == (0, 1)
    with db.read_session() as s:  # the figures' waits are the calls' own: created → first taken
        waits = {c.store_id: (c.answered_at - c.created_at).total_seconds() for c in s.query(SignageCall)}
    assert figures["osaka-02"].mean_wait_s == pytest.approx(waits["osaka-02"]) and figures["osaka-02"].mean_wait_s > 0
    assert figures["tokyo-01"].wait_s_sum == pytest.approx(waits["tokyo-01"])  # abandoned after a take still waited
    metrics = client.get("/metrics", headers=auth("prom", "metrics:read")).text
    assert 'anshin_signage_calls_total{outcome="handled",store_id="osaka-02"} 1.0' in metrics
    assert 'anshin_signage_calls_total{outcome="abandoned",store_id="tokyo-01"} 1.0' in metrics
    assert 'anshin_signage_waiting{store_id="tokyo-01"} 0.0' in metrics
    page = client.get("/signage/console")
    assert page.status_code == 200 and "osaka-02" in page.text and "Calls per store" in page.text


def test_a_waiting_call_whose_signage_stopped_polling_is_abandoned(client: TestClient, db: Database, auth: Auth) -> None:
    call = client.post("/api/v1/signage/calls", headers=_device(auth)).json()
    with db.unit_of_work() as s:
        row = s.get(SignageCall, call["id"])
        row.signage_seen_at = row.signage_seen_at - timedelta(minutes=5)
    sign_in(client, db, "sato", "staff")
    assert client.get("/signage/console/state").json()["queue"] == []
    with db.read_session() as s:
        assert s.get(SignageCall, call["id"]).state == "abandoned"


def test_push_and_broadcast_reach_only_the_named_stores(client: TestClient, db: Database, auth: Auth) -> None:
    devices = {s: _device(auth, s) for s in ("tokyo-01", "osaka-02", "nagoya-03")}
    csrf = sign_in(client, db, "sato", "staff")
    h = {"X-CSRF-Token": csrf}
    r = client.post("/signage/console/broadcast", headers=h, json={"store_ids": ["tokyo-01", "osaka-02"], "text": "Closing at 20:00"})
    assert r.status_code == 202 and r.json()["stores"] == ["osaka-02", "tokyo-01"]
    assert client.post("/signage/console/push", headers=h, json={"store_id": "tokyo-01", "kind": "route"}).status_code == 202
    bad = client.post("/signage/console/push", headers=h, json={"store_id": "tokyo-01", "kind": "product", "title": "x",
                                                                  "url": "javascript:alert(1)"})
    assert bad.status_code == 422
    got = {s: client.get("/api/v1/signage/inbox", headers=d).json()["messages"] for s, d in devices.items()}
    assert [(m["kind"], m["body"].get("text")) for m in got["osaka-02"]] == [("announce", "Closing at 20:00")]
    assert [m["kind"] for m in got["tokyo-01"]] == ["announce", "push"] and got["nagoya-03"] == []
    route = got["tokyo-01"][1]["body"]
    assert route["url"] == "/floor-guide/tokyo-01" and route["qr"].startswith("data:image/png")


def test_store_bound_staff_and_read_only_roles_are_limited(client: TestClient, db: Database, auth: Auth) -> None:
    osaka_call = client.post("/api/v1/signage/calls", headers=_device(auth, "osaka-02")).json()
    csrf = sign_in(client, db, "tanaka", "staff", store="tokyo-01")
    h = {"X-CSRF-Token": csrf}
    assert client.get("/signage/console/state").json()["queue"] == []
    assert client.post(f"/signage/console/calls/{osaka_call['id']}/actions/take", headers=h).status_code == 404
    r = client.post("/signage/console/broadcast", headers=h, json={"store_ids": ["tokyo-01", "osaka-02"], "text": "hi"})
    assert r.status_code == 403 and "osaka-02" in r.json()["detail"]
    client.cookies.clear()
    csrf = sign_in(client, db, "ito", "auditor")
    r = client.post(f"/signage/console/calls/{osaka_call['id']}/actions/take", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    page = client.get("/signage/console")
    assert page.status_code == 200 and "can see the queue but not serve calls" in page.text and 'data-may-serve="no"' in page.text


def test_the_signage_shell_answers_a_stranger_with_no_data(client: TestClient, auth: Auth) -> None:
    client.post("/api/v1/signage/calls", headers=_device(auth))
    page = client.get("/signage?lang=en")
    assert page.status_code == 200 and "Talk to staff" in page.text and "tokyo-01" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/signage-assets/signage.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/signage-assets/calls.py").status_code == 404
    assert client.get("/signage/console", follow_redirects=False).status_code == 303  # staff sign in first
    assert client.get("/signage/console/state", follow_redirects=False).status_code == 303


def test_old_mailbox_messages_are_purged_and_calls_kept(client: TestClient, db: Database, auth: Auth) -> None:
    device = _device(auth)
    call = client.post("/api/v1/signage/calls", headers=device).json()
    with db.unit_of_work() as s:
        old = calls.send(s, "tokyo-01", "signage", "announce", {"text": "yesterday"})
        calls.send(s, "tokyo-01", "signage", "announce", {"text": "now"})
        s.get(SignageMessage, old).created_at -= timedelta(hours=2)
    sign_in(client, db, "sato", "staff")
    client.get("/signage/console/state")
    texts = [m["body"]["text"] for m in client.get("/api/v1/signage/inbox", headers=device).json()["messages"]]
    assert texts == ["now"]
    with db.read_session() as s:
        assert s.get(SignageCall, call["id"]) is not None


def test_a_call_moves_to_the_customers_phone_once(client: TestClient, db: Database, auth: Auth) -> None:
    display = _device(auth)
    call = client.post("/api/v1/signage/calls", headers=display).json()
    csrf = sign_in(client, db, "sato", "staff")
    assert client.post(f"/signage/console/calls/{call['id']}/actions/take", headers={"X-CSRF-Token": csrf}).json()["epoch"] == 1
    link = client.post(f"/api/v1/signage/calls/{call['id']}/phone", headers=display).json()["link"]
    assert "/signage/phone#t=sgp_" in link
    link_token = {"Authorization": f"Bearer {link.split('#t=')[1]}"}
    assert client.get("/api/v1/signage/device", headers={"Authorization": "Bearer sgp_forged"}).status_code == 401
    cfg = client.get("/api/v1/signage/device", headers=link_token).json()
    assert cfg["call"]["id"] == call["id"] and cfg["call"]["epoch"] == 2 and cfg["session_token"].startswith("sgp_")
    assert client.get("/api/v1/signage/device", headers=link_token).status_code == 401  # the link works once
    phone = {"Authorization": f"Bearer {cfg['session_token']}"}
    assert client.post("/api/v1/signage/calls", headers=phone).status_code == 403
    assert client.post(f"/api/v1/signage/calls/{call['id']}/phone", headers=phone).status_code == 403
    # the display lets go; its late answer is refused; the phone answers the new session
    moved = client.get("/api/v1/signage/inbox", params={"call_id": call["id"]}, headers=display).json()["messages"]
    assert moved[-1]["kind"] == "moved"
    answer = {"kind": "answer", "epoch": 2, "sdp": SDP}
    assert client.post(f"/api/v1/signage/calls/{call['id']}/signal", headers=display, json=answer).status_code == 409
    assert client.post(f"/api/v1/signage/calls/{call['id']}/signal", headers=phone, json=answer).status_code == 202
    assert [m["kind"] for m in client.get("/signage/console/state").json()["messages"]] == ["answer"]
    # a phone reads only its call's messages: no other store's or call's traffic, no announcements
    client.post("/signage/console/broadcast", headers={"X-CSRF-Token": csrf}, json={"store_ids": ["tokyo-01"], "text": "hi"})
    assert client.get("/api/v1/signage/inbox", params={"after": cfg["after"]}, headers=phone).json()["messages"] == []
    assert client.post(f"/api/v1/signage/calls/{call['id']}/end", headers=phone).json()["state"] == "ended"
    assert client.get("/api/v1/signage/inbox", headers=phone).status_code == 401  # the call is over: so is the phone's access
    assert client.get("/signage/phone?lang=ja").status_code == 200
