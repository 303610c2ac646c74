"""Retention on both backends: what goes, what stays (open alerts, pictures they show), that the
audit chain still verifies after a purge, the CLI, and the schedule inside central with its metric."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import delete, select
from typer.testing import CliRunner

from services.central.api.app import create_app
from services.central.audit import verify
from services.central.cli import central_app
from services.central.db.session import Database
from services.central.db.tables import EventIdRow, EventRow, ReviewDecision, ReviewItem, SnapshotRow
from services.central.retention import run
from services.central.retention.cli import retention_app
from services.central.settings import Settings
from services.central.snapshots.blobs import ref_of
from services.central.snapshots.images import encode_jpeg
from services.central.snapshots.service import Upload, accept, blob_store
from services.central.stores import get_profile, set_profile
from services.contract import Event, Evidence

from .builders import STORE, crowding_alert, now, occupancy, wire

Auth = Callable[..., dict[str, str]]


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return encode_jpeg(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def _picture(db: Database, settings: Settings, seed: int, kind: str, at: datetime, store: str = STORE) -> str:
    with db.unit_of_work() as session:
        profile = get_profile(session, store, settings)
        row = accept(session, blob_store(settings.data_dir), Upload(_jpeg(seed), store, "aisle-1", kind), profile,
                     "edge-worker", at, keep_live=10)
        return row.sha256


def _decide(client: TestClient, auth: Auth, event: Event) -> None:
    reviewer = auth(f"reviewer-{event.event_id.hex[:8]}", "reviews:read", "reviews:write")
    with_id = client.get("/api/v1/reviews?state=pending", headers=reviewer).json()["data"]
    item = next(i["id"] for i in with_id if i["event"]["event_id"] == str(event.event_id))
    assert client.post(f"/api/v1/reviews/{item}/claim", headers=reviewer).status_code == 200
    r = client.post(f"/api/v1/reviews/{item}/decision", headers=reviewer, json={"decision": "confirm", "note": "ok"})
    assert r.status_code == 200, r.text


def _ids(db: Database) -> set[str]:
    with db.read_session() as session:
        return {str(i) for i in session.scalars(select(EventRow.event_id))}


def test_purge_keeps_open_alerts_and_the_chain_still_verifies(
    client: TestClient, db: Database, settings: Settings, edge: dict[str, str], auth: Auth
) -> None:
    t = now()
    old_picture = _picture(db, settings, 1, "evidence", t - timedelta(days=31))  # shown by the open alert
    orphan_picture = _picture(db, settings, 2, "evidence", t - timedelta(days=31))
    fresh_picture = _picture(db, settings, 3, "evidence", t - timedelta(days=2))
    old_live = _picture(db, settings, 4, "live", t - timedelta(hours=2))
    new_live = _picture(db, settings, 5, "live", t - timedelta(minutes=5))

    routine_old, routine_new = occupancy(at=t - timedelta(days=8)), occupancy(at=t - timedelta(days=6))
    decided_old = crowding_alert(at=t - timedelta(days=31))
    open_old = crowding_alert(at=t - timedelta(days=40)).model_copy(
        update={"evidence": Evidence(snapshot_ref=ref_of(old_picture))})
    decided_new = crowding_alert(at=t - timedelta(days=3))
    events = [routine_old, routine_new, decided_old, open_old, decided_new]
    assert client.post("/api/v1/events", json=wire(*events), headers=edge).status_code == 200
    _decide(client, auth, decided_old)
    _decide(client, auth, decided_new)

    blobs = blob_store(settings.data_dir)
    dry = run(db, blobs, settings, dry_run=True)
    assert (dry.events, dry.review_items, dry.review_decisions) == (2, 1, 1)
    assert (dry.evidence_pictures, dry.live_pictures, dry.files) == (1, 1, 0)
    assert len(_ids(db)) == 5 and blobs.path(orphan_picture).exists()  # a dry run changes nothing

    report = run(db, blobs, settings)
    assert (report.events, report.review_items, report.review_decisions) == (2, 1, 1)
    assert (report.evidence_pictures, report.live_pictures, report.files) == (1, 1, 2)
    assert _ids(db) == {str(e.event_id) for e in (routine_new, open_old, decided_new)}
    with db.read_session() as session:
        assert {str(i) for i in session.scalars(select(EventIdRow.event_id))} == _ids(db)
        assert session.scalar(select(ReviewItem.state).where(ReviewItem.event_id == open_old.event_id)) == "pending"
        assert {(r.sha256, r.kind) for r in session.scalars(select(SnapshotRow))} == {
            (old_picture, "evidence"), (fresh_picture, "evidence"), (new_live, "live")}
    assert not blobs.path(orphan_picture).exists() and not blobs.path(old_live).exists()
    assert blobs.path(old_picture).exists() and blobs.path(fresh_picture).exists()

    # The decision's own audit entry vouches for a row that is gone; the purge entry accounts for it.
    with db.read_session() as session:
        assert verify(session).ok, verify(session)
    r = CliRunner().invoke(central_app, ["audit", "verify", "--database-url", settings.database_url])
    assert r.exit_code == 0, r.output
    # A second run finds nothing; ingest of a purged event stores it again (its key went with it).
    assert not any(run(db, blobs, settings).counts().values())
    again = client.post("/api/v1/events", json=wire(routine_old), headers=edge).json()
    assert again["stored"] == [str(routine_old.event_id)]


def test_a_decision_deleted_outside_retention_still_breaks_verify(
    client: TestClient, db: Database, settings: Settings, edge: dict[str, str], auth: Auth
) -> None:
    alert = crowding_alert(at=now() - timedelta(days=31))
    assert client.post("/api/v1/events", json=wire(alert), headers=edge).status_code == 200
    _decide(client, auth, alert)
    with db.unit_of_work() as session:
        session.execute(delete(ReviewDecision))
    with db.read_session() as session:
        result = verify(session)
    assert not result.ok and result.reason is not None and "deleted" in result.reason
    # Retention purging the event afterwards does not excuse it: the decision is not among its rows.
    run(db, blob_store(settings.data_dir), settings)
    with db.read_session() as session:
        assert not verify(session).ok


def test_a_minimal_store_keeps_no_pictures_and_the_cli_reports(
    db: Database, settings: Settings
) -> None:
    fresh = _picture(db, settings, 7, "evidence", now())
    live = _picture(db, settings, 8, "live", now())
    with db.unit_of_work() as session:
        set_profile(session, STORE, "minimal", "JP")
    runner = CliRunner()
    dry = runner.invoke(retention_app, ["run", "--dry-run", "--database-url", settings.database_url],
                        env={"ANSHIN_DATA_DIR": str(settings.data_dir)})
    assert dry.exit_code == 0 and "would purge: 0 events" in dry.output and "1 evidence pictures" in dry.output, dry.output
    out = runner.invoke(retention_app, ["run", "--json", "--database-url", settings.database_url],
                        env={"ANSHIN_DATA_DIR": str(settings.data_dir)})
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)  # progress and log lines go to stderr
    assert (report["evidence_pictures"], report["live_pictures"], report["files"]) == (1, 1, 2)
    blobs = blob_store(settings.data_dir)
    assert not blobs.path(fresh).exists() and not blobs.path(live).exists()


def test_central_purges_on_a_schedule_and_counts_it(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(retention_interval_s=0.2)
    before = REGISTRY.get_sample_value("anshin_retention_purged_total", {"kind": "live_pictures"}) or 0.0
    app = create_app(settings)
    try:
        _picture(app.state.db, settings, 9, "live", now() - timedelta(hours=3))
        with TestClient(app):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                purged = REGISTRY.get_sample_value("anshin_retention_purged_total", {"kind": "live_pictures"})
                if (purged or 0.0) > before:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("central did not purge the old live picture on its schedule")
        after = REGISTRY.get_sample_value("anshin_retention_purged_total", {"kind": "live_pictures"}) or 0.0
        assert after - before == 1
        with app.state.db.read_session() as session:
            assert session.scalar(select(SnapshotRow.sha256)) is None
    finally:
        app.state.db.dispose()
