"""The review decision hook: a use case's ``on_decided`` runs once an item of its events reaches a
final decision (after the second agreeing decision under the two-person rule), in the decision's
transaction, dispatched by the item's use case; the core names no use case."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, EventRow, ReviewItem
from services.central.review import service as review
from services.central.review.machine import Decision
from services.central.usecases import USE_CASES
from services.central.users.service import actor_of, create_user

from .builders import crowding_alert, fever_alert, wire

Q = "/api/v1/reviews"


class Recorder:
    """An ``on_decided`` hook that records its calls and writes an audit entry (to show it runs in
    the decision's transaction); ``fail`` makes it raise instead."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str, list[str]]] = []
        self.fail = False

    def __call__(self, session: Session, item: ReviewItem, event: EventRow, state: str) -> None:
        if self.fail:
            raise RuntimeError("the use case refused")
        self.calls.append((item.id, event.type, state, [d.actor for d in item.decisions]))
        audit.append(session, "hook", "test.on_decided", f"review_item:{item.id}", {"state": state})


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> dict[str, Recorder]:
    """Every registered use case gets a recording hook (by name)."""
    recorders = {u.name: Recorder() for u in USE_CASES}
    patched = tuple(dataclasses.replace(u, on_decided=recorders[u.name]) for u in USE_CASES)
    monkeypatch.setattr(review, "USE_CASES", patched)
    return recorders


@pytest.fixture
def people(db: Database) -> dict[str, str]:
    with db.unit_of_work() as s:
        return {n: actor_of(create_user(s, n, "correct horse battery", r, actor="test").id)
                for n, r in {"alice": "staff", "bob": "staff", "carol": "manager"}.items()}


def _ingest(client: TestClient, auth: Any, *events: Any) -> list[int]:
    edge = auth("edge-worker", "events:write", "reviews:read")
    assert client.post("/api/v1/events", json=wire(*events), headers=edge).status_code == 200
    by_event = {i["event_id"]: i["id"] for i in client.get(Q, headers=edge).json()["data"]}
    return [by_event[str(e.event_id)] for e in events]


def _step(db: Database, actor: str, item: int, decision: Decision | None = None, reason: str | None = None) -> None:
    with db.unit_of_work() as s:
        if decision is None:
            review.claim(s, item, actor)
        else:
            review.decide(s, item, actor, decision, reason)


def _hook_entries(db: Database) -> int:
    with db.read_session() as s:
        return len(s.scalars(select(AuditEntry).where(AuditEntry.action == "test.on_decided")).all())


def _use_case_of(event_type: str) -> str:
    return {"entrance.fever_suspected": "entrance", "zone.overcrowded": "occupancy"}[event_type]


def test_two_person_item_calls_the_hook_only_after_the_second_confirmation(
    client: TestClient, db: Database, auth: Any, people: dict[str, str], hooks: dict[str, Recorder]
) -> None:
    (item,) = _ingest(client, auth, fever_alert())
    recorder = hooks[_use_case_of("entrance.fever_suspected")]
    _step(db, people["alice"], item)
    _step(db, people["alice"], item, Decision.CONFIRM)
    assert recorder.calls == [] and _hook_entries(db) == 0  # one person is not enough
    _step(db, people["bob"], item, Decision.CONFIRM)
    assert recorder.calls == [(item, "entrance.fever_suspected", "confirmed", [people["alice"], people["bob"]])]
    assert _hook_entries(db) == 1  # what the hook wrote committed with the decision
    assert all(r.calls == [] for name, r in hooks.items() if r is not recorder)  # only the item's use case
    with db.read_session() as s:
        assert audit.verify(s).ok


def test_escalation_is_not_final_and_a_dismissal_is(
    client: TestClient, db: Database, auth: Any, people: dict[str, str], hooks: dict[str, Recorder]
) -> None:
    fever, crowding = _ingest(client, auth, fever_alert(), crowding_alert())
    _step(db, people["alice"], fever)
    _step(db, people["alice"], fever, Decision.CONFIRM)
    _step(db, people["bob"], fever, Decision.DISMISS, "thermometer 36.5 °C")  # disagreement: escalated
    assert hooks["entrance"].calls == []
    _step(db, people["alice"], crowding)
    _step(db, people["alice"], crowding, Decision.DISMISS, "staff counted 9 people")
    assert [(c[0], c[2]) for c in hooks["occupancy"].calls] == [(crowding, "dismissed")]


def test_a_failing_hook_rolls_the_decision_back(
    client: TestClient, db: Database, auth: Any, people: dict[str, str], hooks: dict[str, Recorder]
) -> None:
    (item,) = _ingest(client, auth, crowding_alert())
    hooks["occupancy"].fail = True
    _step(db, people["alice"], item)
    with pytest.raises(RuntimeError, match="refused"):
        _step(db, people["alice"], item, Decision.CONFIRM)
    with db.read_session() as s:
        kept = s.get(ReviewItem, item)
        assert kept is not None and (kept.state, list(kept.decisions)) == ("claimed", [])
