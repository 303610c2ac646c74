"""The audit chain: intact chains verify; edits, deletions and reordering are named."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from services.central import audit
from services.central.cli import central_app
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.settings import Settings

from .builders import crowding_alert, fever_alert, occupancy, wire

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def activity(client: TestClient, edge: dict[str, str], auth: Auth) -> int:
    """Ingests, a claim and a decision; returns how many audit entries exist."""
    alice = auth("alice", "reviews:read", "reviews:write")
    for batch in ([occupancy(), crowding_alert()], [fever_alert()], [occupancy(zone="till")]):
        assert client.post("/api/v1/events", json=wire(*batch), headers=edge).status_code == 200
    item = client.get("/api/v1/reviews", headers=alice).json()["data"][0]["id"]
    client.post(f"/api/v1/reviews/{item}/claim", headers=alice)
    client.post(f"/api/v1/reviews/{item}/decision", headers=alice, json={"decision": "escalate"})
    with client.app.state.db.read_session() as session:  # type: ignore[attr-defined]
        result = audit.verify(session)
    assert result.ok, result
    return result.checked


def _verify(db: Database) -> audit.VerifyResult:
    with db.read_session() as session:
        return audit.verify(session)


def _tamper(db: Database, statement) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:  # what an attacker with database access would do
        assert conn.execute(statement).rowcount == 1


def test_intact_chain_verifies(db: Database, activity: int) -> None:
    # policy + 3 keys (edge, alice) ... counted by the fixture; here the numbers must agree
    result = _verify(db)
    assert (result.ok, result.checked, result.head_seq) == (True, activity, activity)
    assert result.first_bad_seq is None and len(result.head_hash or "") == 64


def test_edited_entry_is_named(db: Database, activity: int) -> None:
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 4).values(details={"stored": []}))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.reason and result.reason.startswith("hash mismatch")


def test_edit_with_recomputed_hash_breaks_the_next_link(db: Database, activity: int) -> None:
    with db.read_session() as session:
        row = session.get(AuditEntry, 3)
        assert row is not None
        forged = audit.entry_hash(row.seq, row.at, "someone-else", row.action, row.subject, row.details, row.prev_hash)
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else", hash=forged))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason and result.reason.startswith("prev_hash mismatch")


def test_deleted_entry_is_named_as_a_gap(db: Database, activity: int) -> None:
    _tamper(db, delete(AuditEntry).where(AuditEntry.seq == 5))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert result.reason and result.reason.startswith("missing: entry 5")


def test_deleted_first_entry_is_named(db: Database, activity: int) -> None:
    _tamper(db, delete(AuditEntry).where(AuditEntry.seq == 1))
    assert (_verify(db).ok, _verify(db).first_bad_seq) == (False, 1)


def test_swapped_entries_are_detected(db: Database, activity: int) -> None:
    # Move entry 4 away, put 3 in its place, then 4 in 3's: order broken, all rows present.
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 4).values(seq=-4))
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 3).values(seq=4))
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == -4).values(seq=3))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_verify_over_http(client: TestClient, db: Database, activity: int, auth: Auth) -> None:
    auditor = auth("auditor", "audit:read")
    ok = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert ok["ok"] and ok["checked"] == activity + 1  # + the auditor's key
    entries = client.get("/api/v1/audit", params={"action": "review.decision"}, headers=auditor).json()
    assert entries["count"] == 1 and entries["data"][0]["actor"] == "alice"
    _tamper(db, update(AuditEntry).where(AuditEntry.seq == 2).values(action="key.delete"))
    bad = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert (bad["ok"], bad["first_bad_seq"]) == (False, 2)


def test_cli_verify_exit_codes(settings: Settings, db: Database, activity: int) -> None:
    runner = CliRunner()
    ok = runner.invoke(central_app, ["audit", "verify", "--database-url", settings.database_url])
    assert ok.exit_code == 0, ok.output
    assert f"{activity} entries checked" in ok.output
    _tamper(db, delete(AuditEntry).where(AuditEntry.seq == 3))
    # the URL from the environment, as an operator would run it
    bad = runner.invoke(central_app, ["audit", "verify"], env={"ANSHIN_DATABASE_URL": settings.database_url})
    assert bad.exit_code == 1, bad.output
    assert "seq 3" in bad.output and "missing" in bad.output


def test_cli_verify_without_database_is_an_error_not_a_pass(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(central_app, ["audit", "verify", "--database-url", f"sqlite:///{tmp_path}/absent.db"])
    assert r.exit_code == 2
    assert not (tmp_path / "absent.db").exists()


def test_concurrent_appends_form_one_chain(db: Database) -> None:
    """Writers on separate connections append at once; the chain stays linear and complete."""
    writers, each = 6, 5
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(each):
                with db.unit_of_work() as session:
                    audit.append(session, f"writer-{n}", "test.append", f"thing:{n}:{i}", {"i": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    before = _verify(db).checked
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    result = _verify(db)
    assert result.ok and result.checked == before + writers * each


def test_review_policy_change_is_audited_once(make_settings: Callable[..., Settings]) -> None:
    from services.central.api.app import create_app

    def policy_entries(settings: Settings) -> list[AuditEntry]:
        application = create_app(settings)
        with application.state.db.read_session() as session:
            rows = [e for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
                    if e.action == "config.change"]
        application.state.db.dispose()
        return rows

    assert len(policy_entries(make_settings())) == 1
    assert len(policy_entries(make_settings())) == 1  # restart with the same policy: nothing new
    changed = policy_entries(make_settings(two_person_types=["entrance.fever_suspected", "zone.overcrowded"]))
    assert len(changed) == 2
    assert changed[-1].details["policy"]["two_person_types"] == ["entrance.fever_suspected", "zone.overcrowded"]


def test_an_edited_review_decision_row_is_named_though_the_chain_is_intact(
    settings: Settings, db: Database, activity: int
) -> None:
    """The probe's finding: rewriting a decision in SQL used to leave ``audit verify`` passing."""
    from services.central.db.tables import ReviewDecision

    with db.read_session() as session:
        decision = session.scalars(select(ReviewDecision)).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "review.decision")).one()
    assert entry.details["decision_id"] == decision.id and len(entry.details["row_sha256"]) == 64
    _tamper(db, update(ReviewDecision).where(ReviewDecision.id == decision.id).values(decision="confirm"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq, result.bad_row) == (False, entry.seq, f"review_decisions:{decision.id}")
    assert result.reason and result.reason.startswith("row mismatch") and "edited" in result.reason
    bad = CliRunner().invoke(central_app, ["audit", "verify", "--database-url", settings.database_url])
    assert bad.exit_code == 1, bad.output
    assert f"review_decisions row {decision.id}" in bad.output


def test_a_deleted_review_decision_row_is_named(db: Database, activity: int) -> None:
    from services.central.db.tables import ReviewDecision

    _tamper(db, delete(ReviewDecision))
    result = _verify(db)
    assert not result.ok and result.reason and "deleted" in result.reason and result.bad_row


def _jpeg(seed: int) -> bytes:
    import cv2
    import numpy as np

    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    return bytes(cv2.imencode(".jpg", pixels)[1])


def test_snapshot_uploads_are_audited_evidence_and_unanonymised_ones(client: TestClient, db: Database, auth: Auth) -> None:
    writer = auth("edge-tokyo", "events:write", store="tokyo-01")

    def upload(data: bytes, kind: str, anonymised: bool) -> None:
        r = client.post("/api/v1/snapshots", content=data, headers={**writer, "Content-Type": "image/jpeg"},
                        params={"store_id": "tokyo-01", "camera_id": "door", "kind": kind,
                                "anonymised": str(anonymised).lower()})
        assert r.status_code == 200, r.text

    upload(_jpeg(1), "evidence", True)
    upload(_jpeg(1), "evidence", True)  # the same bytes again: nothing new stored, nothing new audited
    upload(_jpeg(2), "live", False)  # faces in the clear
    upload(_jpeg(3), "live", True)  # blurred, replaced within minutes: not audited
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "snapshot.upload")
                                  .order_by(AuditEntry.seq)).all()
        assert audit.verify(session).ok
    assert [(e.actor, e.details["kind"], e.details["anonymised"]) for e in entries] == [
        ("edge-tokyo", "evidence", True), ("edge-tokyo", "live", False)]
    assert entries[1].subject == f"snapshot:{entries[1].details['sha256']}" and entries[1].details["camera_id"] == "door"


def test_edge_status_is_audited_when_an_edge_appears_or_changes_state_not_per_report(
    client: TestClient, db: Database, auth: Auth
) -> None:
    from datetime import datetime, timedelta, timezone

    edge = auth("edge-tokyo", "events:write", store="tokyo-01")
    start = datetime.now(timezone.utc)

    def report(i: int, oldest_age_s: float = 1.0, dead_letters: int = 0) -> None:
        body = {"store_id": "tokyo-01", "camera_id": "door", "at": (start + timedelta(seconds=15 * i)).isoformat(),
                "outbox_depth": 3, "dead_letters": dead_letters, "oldest_age_s": oldest_age_s, "inference_ms": 20.0}
        assert client.post("/api/v1/edges/status", json=body, headers=edge).status_code == 200

    for i in range(5):
        report(i)  # first report audited, the next four not
    report(5, oldest_age_s=600.0)  # backlog
    report(6, oldest_age_s=700.0)
    report(7)  # back to ok
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "edge.status")
                                  .order_by(AuditEntry.seq)).all()
    assert [(e.details["status"], e.details["previous"]) for e in entries] == [
        ("ok", None), ("backlog", "ok"), ("ok", "backlog")]
    assert {(e.actor, e.subject) for e in entries} == {("edge-tokyo", "edge:tokyo-01/door")}
