"""POST /api/v1/events: idempotent, all-or-nothing, with errors that name the field."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.settings import Settings
from services.contract import MAX_BATCH

from .builders import STORE, count_rows, crowding_alert, fever_alert, occupancy, wire

URL = "/api/v1/events"


def test_single_event_is_stored(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    event = occupancy(count=4)
    r = client.post(URL, json=wire(event)[0], headers=edge)
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": [str(event.event_id)], "duplicates": []}
    stored = client.get(f"{URL}/{event.event_id}", headers=edge).json()
    assert stored["payload"] == {"zone": "aisle", "count": 4, "capacity": 10}
    assert stored["occurred_at"].startswith(event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_batch_is_stored_and_alerts_open_review_items(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    events = [occupancy(), fever_alert(), crowding_alert(), occupancy(zone="till")]
    r = client.post(URL, json=wire(*events), headers=edge)
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == [str(e.event_id) for e in events]
    assert count_rows(db, "events") == 4
    assert count_rows(db, "review_items") == 2  # only the review_required ones


def test_redelivered_event_is_stored_once(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    first, second = occupancy(), fever_alert()
    assert client.post(URL, json=wire(first), headers=edge).json()["stored"] == [str(first.event_id)]
    # A retry of the same event plus a new one: the old is acknowledged as a duplicate.
    r = client.post(URL, json=wire(first, second), headers=edge)
    assert r.json() == {"stored": [str(second.event_id)], "duplicates": [str(first.event_id)]}
    # The same id twice inside one batch: stored once; the second copy is acknowledged as a duplicate.
    third = occupancy(zone="till")
    r = client.post(URL, json=wire(third, third, second), headers=edge)
    assert r.json() == {"stored": [str(third.event_id)], "duplicates": [str(third.event_id), str(second.event_id)]}
    assert count_rows(db, "events") == 3
    assert count_rows(db, "review_items") == 1  # the redelivered alert did not open a second item


def test_each_ingest_batch_writes_one_audit_entry_with_ids_only(
    client: TestClient, db: Database, edge: dict[str, str]
) -> None:
    alert = fever_alert()
    client.post(URL, json=wire(occupancy(), alert), headers=edge)
    client.post(URL, json=wire(alert), headers=edge)
    with db.read_session() as session:
        entries = list(session.scalars(
            select(AuditEntry).where(AuditEntry.action == "events.ingest").order_by(AuditEntry.seq)
        ))
        assert audit.verify(session).ok
    assert [len(e.details["stored"]) for e in entries] == [2, 0]
    assert entries[1].details["duplicates"] == [str(alert.event_id)]
    assert {e.actor for e in entries} == {"edge-worker"}
    # ids and digests only: nothing of the payload or explanation text reaches the chain
    assert "Forehead" not in json.dumps([e.details for e in entries])


def _valid() -> dict[str, Any]:
    return wire(occupancy())[0]


def _with(**changes: Any) -> dict[str, Any]:
    doc = _valid()
    for key, value in changes.items():
        if value is ...:
            del doc[key]
        else:
            doc[key] = value
    return doc


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# (body bytes, status, where the error points: a loc for 422, a phrase of the message otherwise)
MALFORMED = [
    pytest.param(b'[{"type": "zone.occupancy", ', 400, "not valid JSON", id="bad JSON"),
    pytest.param(b'{"count": NaN}', 400, "NaN is not valid JSON", id="NaN is not JSON"),
    pytest.param(b"\xff\xfe\x00garbage", 400, "not valid JSON", id="not UTF-8"),
    pytest.param(_json([_valid(), _with(review_required="maybe")]), 422, ["body", 1, "review_required"],
                 id="wrong type: bool"),
    pytest.param(_json([_with(payload=[1, 2])]), 422, ["body", 0, "payload"], id="wrong type: payload list"),
    pytest.param(_json([_valid(), _with(schema_version="2.0")]), 422, ["body", 1, "schema_version"],
                 id="unknown schema_version"),
    pytest.param(_json([_valid(), _with(use_case="Z")]), 422, ["body", 1, "use_case"], id="unknown use_case"),
    pytest.param(_json([_valid(), _with(store_id=...)]), 422, ["body", 1, "store_id"], id="missing field"),
    pytest.param(_json(_with(camera_id="bad camera!")), 422, ["body", "camera_id"], id="single: bad identifier"),
    pytest.param(_json([_with(occurred_at="2026-01-01T09:00:00")]), 422, ["body", 0, "occurred_at"],
                 id="time without zone"),
    pytest.param(_json([_with(colour="red")]), 422, ["body", 0, "colour"], id="unknown field"),
    pytest.param(_json([_with(review_required=True)]), 422, ["body", 0], id="alert without explanation"),
    pytest.param(_json([_with(payload={"note": "a\u0000b"})]), 422, ["body", 0, "payload", "note"],
                 id="NUL in text"),
    pytest.param(_json([]), 422, ["body"], id="empty batch"),
    pytest.param(_json([_valid() for _ in range(MAX_BATCH + 1)]), 422, ["body"], id="too many events"),
    pytest.param(_json("hello"), 422, ["body"], id="not an object"),
    pytest.param(_json([_valid(), 42]), 422, ["body", 1], id="array item not an object"),
]


@pytest.mark.parametrize(("body", "status", "where"), MALFORMED)
def test_malformed_input_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, db: Database, edge: dict[str, str], body: bytes, status: int, where: Any
) -> None:
    r = client.post(URL, content=body, headers={**edge, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    if status == 422:
        assert where in [e["loc"] for e in detail], detail
        assert all(e["msg"] for e in detail)
    else:
        assert where in detail
    assert count_rows(db, "events") == 0
    # the service keeps serving: the next valid request is stored
    good = occupancy()
    assert client.post(URL, json=wire(good), headers=edge).json()["stored"] == [str(good.event_id)]


def test_unknown_schema_version_message_names_supported_versions(client: TestClient, edge: dict[str, str]) -> None:
    r = client.post(URL, json=_with(schema_version="9.9"), headers=edge)
    assert r.status_code == 422
    assert r.json()["detail"] == [{
        "loc": ["body", "schema_version"],
        "msg": "unsupported schema_version '9.9'; this service accepts: 1.0",
        "type": "unsupported_schema_version",
    }]


def test_oversized_body_is_refused_from_content_length(
    make_settings: Callable[..., Any], edge_client: Callable[..., tuple[TestClient, dict[str, str], Database]]
) -> None:
    client, headers, db = edge_client(max_body_bytes=2_000)
    body = _json([_valid() for _ in range(10)])  # about 2.5 kB
    r = client.post(URL, content=body, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert "2000 bytes" in r.json()["detail"]
    assert count_rows(db, "events") == 0
    assert client.post(URL, json=wire(occupancy()), headers=headers).status_code == 200


def test_oversized_body_is_refused_from_bytes_actually_sent(
    edge_client: Callable[..., tuple[TestClient, dict[str, str], Database]]
) -> None:
    client, headers, db = edge_client(max_body_bytes=2_000)
    body = _json([_valid() for _ in range(10)])

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to trust
        for i in range(0, len(body), 500):
            yield body[i:i + 500]

    r = client.post(URL, content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert count_rows(db, "events") == 0


@pytest.fixture
def edge_client(make_settings: Callable[..., Any]) -> Iterator[Callable[..., tuple[TestClient, dict[str, str], Database]]]:
    """An app with custom settings, a client and an edge key."""
    from services.central.api.app import create_app
    from services.central.auth import create_key

    opened: list[TestClient] = []

    def make(**overrides: Any) -> tuple[TestClient, dict[str, str], Database]:
        application = create_app(make_settings(**overrides))
        database = application.state.db
        with database.unit_of_work() as session:
            secret = create_key(session, "edge", ["events:write"], actor="test").secret
        client = TestClient(application)
        client.__enter__()
        opened.append(client)
        return client, {"Authorization": f"Bearer {secret}"}, database

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def test_store_bound_key_cannot_ingest_another_store(
    client: TestClient, db: Database, auth: Callable[..., dict[str, str]]
) -> None:
    shibuya = auth("edge-shibuya", "events:write", store="shibuya-02")
    r = client.post(URL, json=wire(occupancy(store="shibuya-02"), occupancy(store=STORE)), headers=shibuya)
    assert r.status_code == 403
    assert "body[1].store_id" in r.json()["detail"] and "shibuya-02" in r.json()["detail"]
    assert count_rows(db, "events") == 0
    assert client.post(URL, json=wire(occupancy(store="shibuya-02")), headers=shibuya).status_code == 200


def test_concurrent_redeliveries_store_each_event_once(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    """Eight senders post the same overlapping batch at once (on PostgreSQL: eight connections)."""
    batch = [occupancy(zone=f"z{i}") for i in range(15)] + [fever_alert() for _ in range(5)]
    senders = 8
    barrier = threading.Barrier(senders)
    answers: list[dict[str, list[str]]] = []
    failures: list[BaseException] = []

    def send(offset: int) -> None:
        mine = batch[offset:] + batch[:offset]  # same events, different order per sender
        try:
            barrier.wait(timeout=10)
            r = client.post(URL, json=wire(*mine), headers=edge)
            assert r.status_code == 200, r.text
            answers.append(r.json())
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=send, args=(i * 2,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    ids = {str(e.event_id) for e in batch}
    stored = Counter(i for a in answers for i in a["stored"])
    assert set(stored) == ids and set(stored.values()) == {1}  # each stored by exactly one sender
    for a in answers:
        assert set(a["stored"]) | set(a["duplicates"]) == ids  # every sender got every id acknowledged
    assert count_rows(db, "events") == len(batch)
    assert count_rows(db, "review_items") == 5
    with db.read_session() as session:
        result = audit.verify(session)
    assert result.ok, result
    assert result.checked == 1 + 1 + senders  # policy, key, one entry per batch


def test_largest_allowed_batch_is_stored(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    batch = [occupancy(zone=f"z{i % 7}", count=i % 11) for i in range(MAX_BATCH)]
    r = client.post(URL, json=wire(*batch), headers=edge)
    assert r.status_code == 200, r.text
    assert len(r.json()["stored"]) == MAX_BATCH
    assert count_rows(db, "events") == MAX_BATCH


def test_busy_database_answers_503_and_stores_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: another process holds the write lock longer than the busy timeout."""
    import sqlite3

    from services.central.api.app import create_app
    from services.central.auth import create_key

    app = create_app(Settings(data_dir=tmp_path, sqlite_busy_timeout_ms=200))
    db = app.state.db
    with db.unit_of_work() as session:
        headers = {"Authorization": f"Bearer {create_key(session, 'edge', ['events:write']).secret}"}
    blocker = sqlite3.connect(str(tmp_path / "central.db"), isolation_level=None)
    try:
        with TestClient(app) as client:
            blocker.execute("BEGIN IMMEDIATE")
            r = client.post(URL, json=wire(occupancy()), headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert "nothing was stored" in r.json()["detail"]
            blocker.execute("ROLLBACK")
            assert count_rows(db, "events") == 0
            assert client.post(URL, json=wire(occupancy()), headers=headers).status_code == 200
    finally:
        blocker.close()
        db.dispose()
