"""Commands to devices over HTTP (the fallback for stores without a broker), on SQLite and
PostgreSQL: issuing with scopes, store binding and the review gate; a real device
(:class:`edge.commands.CommandReceiver` behind :class:`edge.commands.http.HttpCommandChannel`)
acks, refuses an expired command, runs each command once under redelivery and restart; every
issue and result is in the audit chain, which still verifies (``anshin audit verify`` too)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from edge.commands import CommandOutcome, CommandReceiver
from edge.commands.http import HttpCommandChannel
from services.central import audit
from services.central.cli import central_app
from services.central.commands.settings import CommandSettings
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.settings import Settings
from services.contract.commands import Command

from .builders import crowding_alert, wire

Auth = Callable[..., dict[str, str]]
C = "/api/v1/commands"
STORE, DEVICE = "tokyo-01", "fan-1"


class RecordingHandler:
    """A test device's handler: echoes ``arguments["say"]`` and remembers every call."""

    def __init__(self) -> None:
        self.calls: list[Command] = []

    def __call__(self, command: Command) -> CommandOutcome:
        self.calls.append(command)
        if "say" not in command.arguments:
            return CommandOutcome.refused("nothing to say: arguments.say is missing")
        return CommandOutcome.succeeded(f"said {command.arguments['say']}")


class LosesResultPosts:
    """An HTTP client whose result POSTs of the given statuses are lost once each (never reach central)."""

    def __init__(self, client: TestClient, lose: set[str]) -> None:
        self.client, self.lose = client, set(lose)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        status = json.loads(kwargs["content"])["status"]
        if status in self.lose:
            self.lose.discard(status)
            raise httpx.ConnectError("connection reset (test: this report is lost)")
        return self.client.post(url, **kwargs)


@pytest.fixture
def operator(auth: Auth) -> dict[str, str]:
    return auth("hq-operator", "commands:write")


@pytest.fixture
def device_key(auth: Auth) -> str:
    return auth("fan-1-device", "commands:device", store=STORE)["Authorization"].removeprefix("Bearer ")


def issue(client: TestClient, who: dict[str, str], **body: Any) -> httpx.Response:
    doc = {"store_id": STORE, "device_id": DEVICE, "action": "test.echo", "arguments": {"say": "hello"}} | body
    return client.post(C, json=doc, headers=who)


def audit_of(db: Database, command_id: str) -> list[tuple[str, dict[str, Any]]]:
    with db.read_session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"command:{command_id}").order_by(AuditEntry.seq))
        return [(r.action, r.details) for r in rows]


def assert_chain_verifies(db: Database, settings: Settings) -> None:
    with db.read_session() as s:
        result = audit.verify(s)
    assert result.ok, result
    r = CliRunner().invoke(central_app, ["audit", "verify", "--database-url", settings.database_url])
    assert r.exit_code == 0, r.output


def test_issue_stores_audits_and_reads_back(client: TestClient, db: Database, operator: dict[str, str]) -> None:
    r = issue(client, operator, ttl_s=120)
    assert r.status_code == 201, r.text
    cmd = r.json()
    assert (cmd["status"], cmd["issued_by"], cmd["published_at"], cmd["arguments"]) == ("pending", "hq-operator", None, {"say": "hello"})
    issued, expires = datetime.fromisoformat(cmd["issued_at"]), datetime.fromisoformat(cmd["expires_at"])
    assert expires - issued == timedelta(seconds=120)
    got = client.get(f"{C}/{cmd['command_id']}", headers=operator).json()
    assert got["command_id"] == cmd["command_id"] and got["results"] == []
    listed = client.get(C, params={"store_id": STORE, "status": "pending"}, headers=operator).json()
    assert listed["count"] == 1 and listed["data"][0]["command_id"] == cmd["command_id"]
    ((action, details),) = audit_of(db, cmd["command_id"])
    assert action == "command.issue"
    assert details["action"] == "test.echo" and len(details["arguments_sha256"]) == 64
    assert "hello" not in str(details), "arguments are hashed, never copied into the chain"


@pytest.mark.parametrize(("body", "loc", "words"), [
    pytest.param({"action": "test.nope"}, "action", "unknown action 'test.nope'", id="unknown action"),
    pytest.param({"action": "Test Echo"}, "action", "dotted lower-case", id="malformed action"),
    pytest.param({"ttl_s": 7200}, "ttl_s", "at most 3600 s", id="ttl over the action's limit"),
    pytest.param({"arguments": {"blob": "x" * 9000}}, "arguments", "the limit is 8192", id="arguments too large"),
    pytest.param({"device_id": "../etc"}, "device_id", "letters, digits", id="bad device id"),
])
def test_bad_requests_are_refused_with_the_field(client: TestClient, operator: dict[str, str],
                                                 body: dict[str, Any], loc: str, words: str) -> None:
    r = issue(client, operator, **body)
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", loc] and words in error["msg"], error


def test_scopes_and_store_binding(client: TestClient, auth: Auth, operator: dict[str, str], device_key: str) -> None:
    assert client.post(C, json={}).status_code == 401
    assert issue(client, auth("reader", "events:read")).status_code == 403
    osaka_op = auth("osaka-operator", "commands:write", store="osaka-02")
    r = issue(client, osaka_op)
    assert r.status_code == 403 and "bound to store 'osaka-02'" in r.json()["detail"]
    cmd = issue(client, operator).json()
    assert client.get(f"{C}/{cmd['command_id']}", headers=osaka_op).status_code == 404
    assert client.get(C, headers=osaka_op).json()["count"] == 0
    poll = {"store_id": STORE, "device_id": DEVICE, "wait_s": 0}
    assert client.get(f"{C}/poll", params=poll, headers=auth("no-device", "reviews:read")).status_code == 403
    osaka_device = auth("osaka-device", "commands:device", store="osaka-02")
    assert client.get(f"{C}/poll", params=poll, headers=osaka_device).status_code == 403
    result = {"command_id": cmd["command_id"], "device_id": DEVICE, "status": "accepted", "at": cmd["issued_at"]}
    assert client.post(f"{C}/{cmd['command_id']}/result", json=result, headers=osaka_device).status_code == 404
    own = {"Authorization": f"Bearer {device_key}"}
    assert client.get(f"{C}/poll", params=poll, headers=own).json()["count"] == 1
    edge_worker = auth("edge-tokyo", "events:write", store=STORE)  # an edge key may poll for its devices too
    assert client.get(f"{C}/poll", params=poll, headers=edge_worker).json()["count"] == 1


def test_an_action_that_needs_review_needs_a_confirmed_item_of_its_store(client: TestClient, auth: Auth,
                                                                          operator: dict[str, str]) -> None:
    reviewer = auth("alice", "reviews:read", "reviews:write")
    edge = auth("edge-worker", "events:write")
    assert client.post("/api/v1/events", json=wire(crowding_alert(), crowding_alert(store="osaka-02")), headers=edge).status_code == 200
    items = {i["store_id"]: i["id"] for i in client.get("/api/v1/reviews", headers=reviewer).json()["data"]}
    guarded = {"action": "test.echo_reviewed"}

    r = issue(client, operator, **guarded)
    assert r.status_code == 422 and "needs a human decision first" in r.json()["detail"][0]["msg"]
    r = issue(client, operator, **guarded, review_item_id=items[STORE])
    assert r.status_code == 409 and "is 'pending', not 'confirmed'" in r.json()["detail"]
    r = issue(client, operator, **guarded, review_item_id=items["osaka-02"])
    assert r.status_code == 422 and "belongs to another store" in r.json()["detail"][0]["msg"]
    r = issue(client, operator, **guarded, review_item_id=999_999)
    assert r.status_code == 422 and "no review item 999999" in r.json()["detail"][0]["msg"]

    assert client.post(f"/api/v1/reviews/{items[STORE]}/claim", headers=reviewer).status_code == 200
    done = client.post(f"/api/v1/reviews/{items[STORE]}/decision", json={"decision": "confirm"}, headers=reviewer)
    assert done.json()["state"] == "confirmed"
    r = issue(client, operator, **guarded, review_item_id=items[STORE])
    assert r.status_code == 201, r.text
    assert r.json()["review_item_id"] == items[STORE]


def test_device_over_http_acks_runs_once_under_redelivery_and_restart_and_refuses_expired(
    client: TestClient, db: Database, settings: Settings, operator: dict[str, str], device_key: str, tmp_path: Path,
) -> None:
    ledger = tmp_path / "device" / "ledger.sqlite"
    handler = RecordingHandler()
    receiver = CommandReceiver(STORE, DEVICE, handler, ledger)
    channel = HttpCommandChannel(receiver, api_key=device_key, wait_s=0, client=client)

    # 1. The ack, then the result; central records both and the command is done.
    first = issue(client, operator).json()
    reports = channel.poll_once()
    assert [(r.status.value, r.detail) for r in reports] == [("accepted", None), ("succeeded", "said hello")]
    got = client.get(f"{C}/{first['command_id']}", headers=operator).json()
    assert got["status"] == "succeeded"
    assert [(x["status"], x["transport"]) for x in got["results"]] == [("accepted", "http"), ("succeeded", "http")]
    assert channel.poll_once() == [], "a finished command is not handed out again"

    # 2. Redelivery: the result POST is lost, the next poll hands the command out again; the device
    #    answers from its ledger (duplicate, original succeeded) and does not run it twice.
    second = issue(client, operator, arguments={"say": "again"}).json()
    lossy = HttpCommandChannel(receiver, api_key=device_key, wait_s=0, client=LosesResultPosts(client, {"succeeded"}))
    assert [r.status.value for r in lossy.poll_once()] == ["accepted", "succeeded"]
    assert client.get(f"{C}/{second['command_id']}", headers=operator).json()["status"] == "accepted"
    replay = lossy.poll_once()
    assert [(r.status.value, r.original_status.value if r.original_status else None) for r in replay] == [("duplicate", "succeeded")]
    got = client.get(f"{C}/{second['command_id']}", headers=operator).json()
    assert got["status"] == "succeeded"
    assert [x["status"] for x in got["results"]] == ["accepted", "duplicate"]
    assert [c.arguments["say"] for c in handler.calls] == ["hello", "again"]

    # 3. Restart: a new receiver on the same ledger never runs a command the old one ran.
    third = issue(client, operator, arguments={"say": "once"}).json()
    both_lost = HttpCommandChannel(receiver, api_key=device_key, wait_s=0,
                                                  client=LosesResultPosts(client, {"accepted", "succeeded"}))
    assert [r.status.value for r in both_lost.poll_once()] == ["accepted", "succeeded"]
    receiver.close()
    restarted_handler = RecordingHandler()
    restarted = CommandReceiver(STORE, DEVICE, restarted_handler, ledger)
    after = HttpCommandChannel(restarted, api_key=device_key, wait_s=0, client=client).poll_once()
    assert [(r.command_id, r.status.value, r.original_status) for r in after] == [
        (uuid.UUID(third["command_id"]), "duplicate", "succeeded")]
    assert restarted_handler.calls == [] and [c.arguments["say"] for c in handler.calls] == ["hello", "again", "once"]
    assert client.get(f"{C}/{third['command_id']}", headers=operator).json()["status"] == "succeeded"

    # 4. Expired: central still hands it out (by its clock), the device's clock says it is past
    #    expires_at (a device that was slow to get it): refused as expired, never run.
    fourth = issue(client, operator, ttl_s=30, arguments={"say": "too late"}).json()
    late = CommandReceiver(STORE, DEVICE, restarted_handler, ledger,
                           clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=31))
    reports = HttpCommandChannel(late, api_key=device_key, wait_s=0, client=client).poll_once()
    assert [r.status.value for r in reports] == ["expired"] and "after expires_at" in (reports[0].detail or "")
    assert restarted_handler.calls == []
    assert client.get(f"{C}/{fourth['command_id']}", headers=operator).json()["status"] == "expired"
    late.close()
    restarted.close()

    # 5. Every issue and every stored report is in the audit chain, which still verifies.
    assert [a for a, _ in audit_of(db, first["command_id"])] == ["command.issue", "command.result", "command.result"]
    assert [(a, d.get("status"), d.get("original_status")) for a, d in audit_of(db, second["command_id"])] == [
        ("command.issue", None, None), ("command.result", "accepted", None), ("command.result", "duplicate", "succeeded")]
    assert [d.get("status") for _, d in audit_of(db, fourth["command_id"])] == [None, "expired"]
    assert all("said" not in str(d) for _, d in audit_of(db, first["command_id"])), "details are digests"
    assert_chain_verifies(db, settings)


def test_long_poll_waits_for_a_command_and_answers_when_one_comes(app: FastAPI, client: TestClient,
                                                                  operator: dict[str, str], device_key: str) -> None:
    app.state.command_settings = CommandSettings(poll_max_wait_s=10)
    headers = {"Authorization": f"Bearer {device_key}"}
    params = {"store_id": STORE, "device_id": DEVICE}
    started = time.monotonic()
    empty = client.get(f"{C}/poll", params=params | {"wait_s": 0.5}, headers=headers).json()
    assert empty == {"data": [], "count": 0} and time.monotonic() - started >= 0.5

    answer: dict[str, Any] = {}

    def poll() -> None:
        t0 = time.monotonic()
        answer["body"] = client.get(f"{C}/poll", params=params | {"wait_s": 10}, headers=headers).json()
        answer["waited_s"] = time.monotonic() - t0

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    cmd = issue(client, operator).json()
    waiting.join(timeout=15)
    assert [c["command_id"] for c in answer["body"]["data"]] == [cmd["command_id"]]
    assert 0.4 <= answer["waited_s"] < 5, answer


def test_reports_must_match_their_command(client: TestClient, operator: dict[str, str], device_key: str) -> None:
    headers = {"Authorization": f"Bearer {device_key}"}
    cmd = issue(client, operator).json()
    url = f"{C}/{cmd['command_id']}/result"
    body = {"command_id": cmd["command_id"], "device_id": DEVICE, "status": "accepted", "at": cmd["issued_at"]}
    other = str(uuid.uuid4())
    r = client.post(url, json=body | {"command_id": other}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "command_id"]
    r = client.post(url, json=body | {"device_id": "fan-2"}, headers=headers)
    assert r.status_code == 422 and "is for device 'fan-1'" in r.json()["detail"][0]["msg"]
    r = client.post(url, json=body | {"status": "duplicate"}, headers=headers)
    assert r.status_code == 422, "a duplicate must name its original status"
    assert client.post(f"{C}/{other}/result", json=body | {"command_id": other}, headers=headers).status_code == 404
    assert client.post(url, json=body, headers=headers).json() == {"stored": True, "status": "accepted"}
    assert client.post(url, json=body, headers=headers).json() == {"stored": False, "status": "accepted"}
    done = body | {"status": "succeeded"}
    assert client.post(url, json=done, headers=headers).json() == {"stored": True, "status": "succeeded"}
    late = body | {"status": "failed"}  # the first final status stands
    assert client.post(url, json=late, headers=headers).json() == {"stored": True, "status": "succeeded"}


def test_listen_without_a_broker_says_what_to_set(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    from services.central.commands.cli import commands_app

    monkeypatch.delenv("ANSHIN_COMMANDS_MQTT_URL", raising=False)
    r = CliRunner().invoke(commands_app, ["listen", "--database-url", settings.database_url, "--no-migrate"])
    assert r.exit_code == 2 and "ANSHIN_COMMANDS_MQTT_URL" in r.output and "HTTP long-poll" in r.output, r.output


def test_a_running_http_device_picks_up_commands_as_they_come(app: FastAPI, client: TestClient, operator: dict[str, str],
                                                              device_key: str, tmp_path: Path) -> None:
    app.state.command_settings = CommandSettings(poll_max_wait_s=1)
    handler = RecordingHandler()
    receiver = CommandReceiver(STORE, DEVICE, handler, tmp_path / "ledger.sqlite")
    channel = HttpCommandChannel(receiver, api_key=device_key, wait_s=1, client=client, retry_initial_s=0.05)
    stop = threading.Event()
    running = threading.Thread(target=channel.run, args=(stop,), daemon=True)
    running.start()
    try:
        ids = [issue(client, operator, arguments={"say": f"n{i}"}).json()["command_id"] for i in range(3)]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(
                client.get(f"{C}/{i}", headers=operator).json()["status"] != "succeeded" for i in ids):
            time.sleep(0.1)
        assert [client.get(f"{C}/{i}", headers=operator).json()["status"] for i in ids] == ["succeeded"] * 3
        assert sorted(c.arguments["say"] for c in handler.calls) == ["n0", "n1", "n2"]
    finally:
        stop.set()
        running.join(timeout=10)
        receiver.close()
    assert not running.is_alive()
