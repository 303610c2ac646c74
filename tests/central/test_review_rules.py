"""Who may settle which review item (``services.central.review.rules``), as a matrix over the real
service (people, as the dashboard calls it) and the real API (keys):

roles staff / manager / admin and an API key with ``reviews:write``
× an item that was escalated or not × a one-person or a two-person item.

On a two-person item a different manager has already made the first decision, so the actor
under test makes the second, settling one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.central.db.session import Database
from services.central.review import service as review
from services.central.review.machine import Decision, ReviewConflict
from services.central.review.rules import ReviewForbidden
from services.central.users.service import actor_of, create_user

from .builders import crowding_alert, fever_alert, wire

Auth = Callable[..., dict[str, str]]
Q = "/api/v1/reviews"
PASSWORD = "correct horse battery"


def _people(db: Database, *roles: str) -> dict[str, str]:
    """One account per name ``role`` or ``role2``; returns name → actor (``user:<id>``)."""
    actors = {}
    with db.unit_of_work() as s:
        for name in roles:
            actors[name] = actor_of(create_user(s, name, PASSWORD, name.rstrip("2"), actor="test").id)
    return actors


def _item(client: TestClient, edge: dict[str, str], two_person: bool) -> int:
    event = fever_alert() if two_person else crowding_alert()
    assert client.post("/api/v1/events", json=wire(event), headers=edge).status_code == 200
    items = client.get(Q, params={"limit": 200}, headers=edge).json()["data"]
    return next(i["id"] for i in items if i["event_id"] == str(event.event_id))


def _as_person(db: Database, actor: str, step: str, item: int, **kw: Any) -> None:
    with db.unit_of_work() as s:
        if step == "claim":
            review.claim(s, item, actor)
        else:
            review.decide(s, item, actor, Decision(kw["decision"]), kw.get("reason"))


def _state(client: TestClient, key: dict[str, str], item: int) -> dict[str, Any]:
    return client.get(f"{Q}/{item}", headers=key).json()  # type: ignore[no-any-return]


@pytest.fixture
def edge(auth: Auth) -> dict[str, str]:
    return auth("edge-worker", "events:write", "reviews:read")


ALLOWED = {  # (actor, escalated, two_person) → may settle; every other combination is refused
    **{(who, False, False): True for who in ("staff", "manager", "admin", "key")},
    **{(who, False, True): who != "key" for who in ("staff", "manager", "admin", "key")},
    **{(who, True, tp): who in ("manager", "admin") for who in ("staff", "manager", "admin", "key") for tp in (False, True)},
}


@pytest.mark.parametrize(("who", "escalated", "two_person"), sorted(ALLOWED), ids=lambda v: str(v))
def test_who_may_settle_an_item(client: TestClient, db: Database, auth: Auth, edge: dict[str, str],
                                who: str, escalated: bool, two_person: bool) -> None:
    people = _people(db, "staff", "manager", "admin", "staff2", "manager2")
    key = auth("triage-bot", "reviews:read", "reviews:write")
    item = _item(client, edge, two_person)
    if escalated:  # round 1 ends in an escalation by staff
        _as_person(db, people["staff2"], "claim", item)
        if two_person:
            _as_person(db, people["staff2"], "decision", item, decision="confirm")
            _as_person(db, people["staff"], "decision", item, decision="dismiss", reason="36.5 °C")  # disagree
        else:
            _as_person(db, people["staff2"], "decision", item, decision="escalate")
        assert (_state(client, key, item)["state"], _state(client, key, item)["round"]) == ("escalated", 2)
    if two_person:  # a different manager decides first and holds the claim
        _as_person(db, people["manager2"], "claim", item)
        _as_person(db, people["manager2"], "decision", item, decision="confirm")
        assert _state(client, key, item)["awaiting_second"] is True
    before = _state(client, key, item)

    if who == "key":
        claimed = 200 if two_person else client.post(f"{Q}/{item}/claim", headers=key).status_code
        r = client.post(f"{Q}/{item}/decision", headers=key, json={"decision": "confirm"})
        settled = claimed == 200 and r.status_code == 200
        if not settled:
            assert 403 in (claimed, r.status_code), r.text
            assert "API key" in r.text or "manager or an admin" in r.text
    else:
        try:
            if not two_person:
                _as_person(db, people[who], "claim", item)
            _as_person(db, people[who], "decision", item, decision="confirm")
            settled = True
        except ReviewForbidden as refused:
            settled = False
            assert ("manager or an admin" if escalated else "two people") in str(refused)

    after = _state(client, key, item)
    assert settled is ALLOWED[(who, escalated, two_person)]
    if settled:
        assert after["state"] == "confirmed"
        actors = [d["actor"] for d in after["decisions"] if d["round"] == after["round"]]
        assert actors[-1] == ("triage-bot" if who == "key" else people[who])
    else:
        assert after == before  # a refusal changes nothing


def test_a_staff_decision_never_completes_an_escalated_two_person_item(
    client: TestClient, db: Database, auth: Auth, edge: dict[str, str]
) -> None:
    """The probe's finding: a manager decides first in round 2, then staff tried to settle it."""
    people = _people(db, "staff", "staff2", "manager")
    reader = auth("reader", "reviews:read")
    item = _item(client, edge, two_person=True)
    _as_person(db, people["staff"], "claim", item)
    _as_person(db, people["staff"], "decision", item, decision="escalate")
    _as_person(db, people["manager"], "claim", item)
    _as_person(db, people["manager"], "decision", item, decision="confirm")
    with pytest.raises(ReviewForbidden, match="manager or an admin"):
        _as_person(db, people["staff2"], "decision", item, decision="confirm")
    assert _state(client, reader, item)["state"] == "claimed"


def test_a_key_never_counts_as_one_of_two_people_but_may_escalate(
    client: TestClient, db: Database, auth: Auth, edge: dict[str, str]
) -> None:
    key = auth("triage-bot", "reviews:read", "reviews:write")
    first = _item(client, edge, two_person=True)
    assert client.post(f"{Q}/{first}/claim", headers=key).status_code == 200
    for decision in ({"decision": "confirm"}, {"decision": "dismiss", "reason": "hot drink"}):
        r = client.post(f"{Q}/{first}/decision", headers=key, json=decision)
        assert r.status_code == 403 and "two people" in r.json()["detail"]
    escalated = client.post(f"{Q}/{first}/decision", headers=key, json={"decision": "escalate"}).json()
    assert (escalated["state"], escalated["round"]) == ("escalated", 2)
    assert client.post(f"{Q}/{first}/claim", headers=key).status_code == 403  # now for managers only


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_read_only_roles_take_no_step(client: TestClient, db: Database, edge: dict[str, str], role: str) -> None:
    people = _people(db, role)
    item = _item(client, edge, two_person=False)
    with pytest.raises(ReviewForbidden, match="may read the queue"):
        _as_person(db, people[role], "claim", item)


def test_a_disabled_account_takes_no_step(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    from services.central.users.service import find_user, set_disabled

    people = _people(db, "manager")
    with db.unit_of_work() as s:
        set_disabled(s, find_user(s, "manager"), True, actor="test")
    with pytest.raises(ReviewForbidden, match="not an active account"):
        _as_person(db, people["manager"], "claim", _item(client, edge, two_person=False))


def test_a_key_cannot_be_named_like_a_person(db: Database) -> None:
    from services.central.auth import KeyRequestError, create_key

    with db.unit_of_work() as s, pytest.raises(KeyRequestError, match="user:"):
        create_key(s, "user:1", ["reviews:write"])


def test_a_manager_or_an_admin_key_releases_someone_elses_claim_staff_does_not(
    client: TestClient, db: Database, auth: Auth, edge: dict[str, str]
) -> None:
    people = _people(db, "staff", "staff2", "manager")
    item = _item(client, edge, two_person=False)
    _as_person(db, people["staff"], "claim", item)
    with db.unit_of_work() as s, pytest.raises(ReviewConflict, match="only they"):
        review.release(s, item, people["staff2"], may_override=True)
    with db.unit_of_work() as s:
        assert review.release(s, item, people["manager"], may_override=True).state == "pending"
    _as_person(db, people["staff"], "claim", item)
    r = client.post(f"{Q}/{item}/release", headers=auth("ops", "admin"))
    assert (r.status_code, r.json()["state"]) == (200, "pending")
