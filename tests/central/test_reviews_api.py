"""The review queue over HTTP: claim, release, decide, two-person rule, ordering, overdue, audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.review import service as review
from services.central.review.machine import Decision, ReviewConflict
from services.central.users.service import actor_of, create_user

from .builders import crowding_alert, fever_alert, minutes_ago, occupancy, wire

Auth = Callable[..., dict[str, str]]
Q = "/api/v1/reviews"


@pytest.fixture
def staff(auth: Auth) -> dict[str, dict[str, str]]:
    return {name: auth(name, "reviews:read", "reviews:write") for name in ("alice", "bob", "carol")}


@pytest.fixture
def edge(auth: Auth) -> dict[str, str]:
    """Here the sender may also read the queue, to find the items its alerts opened."""
    return auth("edge-worker", "events:write", "reviews:read")


def _ingest(client: TestClient, edge: dict[str, str], *events: Any) -> list[int]:
    """Post events; return the review item ids of the alerts, in order."""
    r = client.post("/api/v1/events", json=wire(*events), headers=edge)
    assert r.status_code == 200, r.text
    items = client.get(Q, params={"limit": 200}, headers=edge).json()["data"]
    by_event = {i["event_id"]: i["id"] for i in items}
    return [by_event[str(e.event_id)] for e in events if e.review_required]


def _act(client: TestClient, who: dict[str, str], item: int, action: str, **body: Any) -> Any:
    return client.post(f"{Q}/{item}/{action}", headers=who, json=body or None)


def test_single_reviewer_confirms(client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]]) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    got = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    assert (got["state"], got["required_decisions"], got["event"]["type"]) == ("pending", 1, "zone.overcrowded")
    claimed = _act(client, staff["alice"], item, "claim").json()
    assert (claimed["state"], claimed["claimed_by"]) == ("claimed", "alice")
    done = _act(client, staff["alice"], item, "decision", decision="confirm", note="sent a colleague").json()
    assert done["state"] == "confirmed"
    assert [(d["actor"], d["decision"], d["note"]) for d in done["decisions"]] == [("alice", "confirm", "sent a colleague")]


def test_dismissal_needs_a_reason(client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]]) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    _act(client, staff["alice"], item, "claim")
    for body in ({"decision": "dismiss"}, {"decision": "dismiss", "reason": "   "}):
        r = _act(client, staff["alice"], item, "decision", **body)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "reason"]
    assert client.get(f"{Q}/{item}", headers=staff["alice"]).json()["state"] == "claimed"
    r = _act(client, staff["alice"], item, "decision", decision="dismiss", reason="staff counted 9 people")
    assert r.json()["state"] == "dismissed"
    assert r.json()["decisions"][0]["reason"] == "staff counted 9 people"


def test_unknown_decision_is_refused(client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]]) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    _act(client, staff["alice"], item, "claim")
    r = _act(client, staff["alice"], item, "decision", decision="approve")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "decision"]


@pytest.fixture
def people(db: Database) -> dict[str, str]:
    """Dashboard accounts (two-person and escalated items need people, not keys): name → actor."""
    roles = {"alice": "staff", "bob": "staff", "carol": "manager", "dave": "admin"}
    with db.unit_of_work() as s:
        return {n: actor_of(create_user(s, n, "correct horse battery", r, actor="test").id) for n, r in roles.items()}


def _person(db: Database, actor: str, item: int, step: str, **body: Any) -> None:
    """What the dashboard does for a signed-in person: the review service with ``user:<id>``."""
    with db.unit_of_work() as s:
        if step == "claim":
            review.claim(s, item, actor)
        else:
            review.decide(s, item, actor, Decision(body["decision"]), body.get("reason"))


def test_second_reviewer_must_differ_from_first(
    client: TestClient, db: Database, edge: dict[str, str], staff: dict[str, dict[str, str]], people: dict[str, str]
) -> None:
    (item,) = _ingest(client, edge, fever_alert())
    _person(db, people["alice"], item, "claim")
    _person(db, people["alice"], item, "decision", decision="confirm")
    first = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    assert (first["state"], first["awaiting_second"], first["required_decisions"]) == ("claimed", True, 2)
    with pytest.raises(ReviewConflict, match="two-person rule.*different reviewer"):
        _person(db, people["alice"], item, "decision", decision="confirm")
    key_second = _act(client, staff["bob"], item, "decision", decision="confirm")  # a key is not a second person
    assert key_second.status_code == 403 and "two people" in key_second.json()["detail"]
    _person(db, people["bob"], item, "decision", decision="confirm")
    second = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    assert (second["state"], second["awaiting_second"]) == ("confirmed", False)
    assert [d["actor"] for d in second["decisions"]] == [people["alice"], people["bob"]]


def test_disagreement_escalates_and_escalated_items_are_claimed_again(
    client: TestClient, db: Database, edge: dict[str, str], staff: dict[str, dict[str, str]], people: dict[str, str]
) -> None:
    (item,) = _ingest(client, edge, fever_alert())
    _person(db, people["alice"], item, "claim")
    _person(db, people["alice"], item, "decision", decision="confirm")
    _person(db, people["bob"], item, "decision", decision="dismiss", reason="thermometer: 36.5 °C")
    split = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    assert (split["state"], split["round"], split["claimed_by"]) == ("escalated", 2, None)
    with pytest.raises(ReviewConflict, match="claim it"):
        _person(db, people["carol"], item, "decision", decision="confirm")  # claim first
    assert _act(client, staff["carol"], item, "claim").status_code == 403  # escalated: people with authority only
    _person(db, people["carol"], item, "claim")
    # a new round: the two-person rule holds inside it, and staff may no longer settle it
    _person(db, people["carol"], item, "decision", decision="dismiss", reason="re-measured: 36.4 °C")
    with pytest.raises(ReviewConflict, match="two-person rule"):
        _person(db, people["carol"], item, "decision", decision="dismiss", reason="x")
    with pytest.raises(ReviewConflict, match="manager or an admin"):
        _person(db, people["alice"], item, "decision", decision="dismiss", reason="agree")
    _person(db, people["dave"], item, "decision", decision="dismiss", reason="agree")
    final = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    assert final["state"] == "dismissed"
    assert [(d["round"], d["actor"]) for d in final["decisions"]] == [
        (1, people["alice"]), (1, people["bob"]), (2, people["carol"]), (2, people["dave"])]


@pytest.mark.parametrize(("setup", "who", "action", "body", "message"), [
    pytest.param([], "alice", "decision", {"decision": "confirm"}, "claim it before deciding", id="decide unclaimed"),
    pytest.param([], "alice", "release", {}, "only a claimed item", id="release unclaimed"),
    pytest.param([("alice", "claim", {})], "bob", "claim", {}, "already claimed by 'alice'", id="claim taken"),
    pytest.param([("alice", "claim", {})], "bob", "release", {}, "only they", id="release someone else's"),
    pytest.param([("alice", "claim", {})], "bob", "decision", {"decision": "confirm"}, "claimed by 'alice'",
                 id="decide someone else's"),
    pytest.param([("alice", "claim", {}), ("alice", "decision", {"decision": "confirm"})], "bob", "claim", {},
                 "final", id="claim a confirmed item"),
    pytest.param([("alice", "claim", {}), ("alice", "decision", {"decision": "confirm"})], "alice", "decision",
                 {"decision": "escalate"}, "final", id="decide a confirmed item"),
])
def test_invalid_transitions_are_409(
    client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]],
    setup: list[tuple[str, str, dict[str, str]]], who: str, action: str, body: dict[str, str], message: str,
) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    for actor, step, step_body in setup:
        assert _act(client, staff[actor], item, step, **step_body).status_code == 200
    before = client.get(f"{Q}/{item}", headers=staff["alice"]).json()
    r = _act(client, staff[who], item, action, **body)
    assert r.status_code == 409 and message in r.json()["detail"], r.text
    assert client.get(f"{Q}/{item}", headers=staff["alice"]).json() == before  # nothing changed


def test_release_returns_item_to_queue_and_admin_may_release(
    client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]], auth: Auth
) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    _act(client, staff["alice"], item, "claim")
    assert _act(client, staff["alice"], item, "release").json()["state"] == "pending"
    _act(client, staff["bob"], item, "claim")
    released = _act(client, auth("ops", "admin"), item, "release").json()
    assert (released["state"], released["claimed_by"]) == ("pending", None)


def test_unknown_item_is_404(client: TestClient, staff: dict[str, dict[str, str]]) -> None:
    assert client.get(f"{Q}/999", headers=staff["alice"]).status_code == 404
    assert _act(client, staff["alice"], 999, "claim").status_code == 404


def test_queue_is_ordered_by_severity_then_deadline_and_flags_overdue(
    client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]]
) -> None:
    late_fever = fever_alert(at=minutes_ago(30))  # deadline 5 min after: long overdue
    fresh_fever = fever_alert(at=minutes_ago(1))
    critical = crowding_alert(at=minutes_ago(2))  # critical ranks first, deadline 15 min
    notice = crowding_alert(at=minutes_ago(60), severity="notice")  # overdue but least severe
    _ingest(client, edge, fresh_fever, notice, critical, late_fever, occupancy())
    data = client.get(Q, headers=staff["alice"]).json()["data"]
    assert [i["event_id"] for i in data] == [str(e.event_id) for e in (critical, late_fever, fresh_fever, notice)]
    assert [i["overdue"] for i in data] == [False, True, False, True]
    overdue = client.get(Q, params={"overdue": "true"}, headers=staff["alice"]).json()
    assert overdue["count"] == 2


def test_queue_filters(client: TestClient, edge: dict[str, str], staff: dict[str, dict[str, str]]) -> None:
    a, b, c = fever_alert(), crowding_alert(store="osaka-03"), crowding_alert(camera="till-1")
    ids = _ingest(client, edge, a, b, c)
    _act(client, staff["alice"], ids[2], "claim")

    def listed(**params: Any) -> list[str]:
        return [i["event_id"] for i in client.get(Q, params=params, headers=staff["bob"]).json()["data"]]

    assert set(listed(store_id="osaka-03")) == {str(b.event_id)}
    assert set(listed(camera_id="till-1")) == {str(c.event_id)}
    assert set(listed(use_case="A")) == {str(a.event_id)}
    assert set(listed(state="claimed")) == {str(c.event_id)}
    assert set(listed(state=["pending", "claimed"])) == {str(a.event_id), str(b.event_id), str(c.event_id)}
    assert client.get(Q, params={"state": "lost"}, headers=staff["bob"]).status_code == 422


def test_claims_and_decisions_are_audited_without_free_text(
    client: TestClient, db: Database, edge: dict[str, str], staff: dict[str, dict[str, str]]
) -> None:
    (item,) = _ingest(client, edge, crowding_alert())
    _act(client, staff["alice"], item, "claim")
    _act(client, staff["alice"], item, "decision", decision="dismiss", reason="Mr Tanaka's family of five",
         note="called 090-1234-5678")
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.subject == f"review_item:{item}")
                                  .order_by(AuditEntry.seq)).all()
        assert audit.verify(session).ok
    assert [(e.actor, e.action) for e in entries] == [("alice", "review.claim"), ("alice", "review.decision")]
    decision = entries[1].details
    assert decision["decision"] == "dismiss" and len(decision["reason_sha256"]) == 64
    text = json.dumps([e.details for e in entries])
    assert "Tanaka" not in text and "1234-5678" not in text


def test_two_reviewers_claiming_at_once_get_one_claim(
    client: TestClient, db: Database, edge: dict[str, str], staff: dict[str, dict[str, str]]
) -> None:
    import threading

    items = _ingest(client, edge, *[crowding_alert() for _ in range(4)])
    barrier = threading.Barrier(2)
    codes: dict[str, list[int]] = {"alice": [], "bob": []}

    def grab(who: str) -> None:
        barrier.wait(timeout=10)
        for item in items:
            codes[who].append(_act(client, staff[who], item, "claim").status_code)

    threads = [threading.Thread(target=grab, args=(w,)) for w in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # every item claimed by exactly one of them; the other got 409
    for i in range(len(items)):
        assert sorted((codes["alice"][i], codes["bob"][i])) == [200, 409]
    holders = [client.get(f"{Q}/{i}", headers=staff["alice"]).json()["claimed_by"] for i in items]
    assert all(h in ("alice", "bob") for h in holders)
    with db.read_session() as session:
        assert audit.verify(session).ok
