"""The shelf page (ja/en): the current gap drawn over its evidence picture, open tasks with who,
state and timings, staff confirmation (audited) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import select

from edge.paths import media_dir
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.usecases.shelf import restock
from services.central.usecases.shelf.config import ShelfConfig
from services.central.usecases.shelf.controller import RestockController, new_shelf_events
from services.central.usecases.shelf.tables import RestockTask

from .ui_builders import post_form, sign_in

STORE = "shelf-page"
PHOTO = media_dir() / "empty_shelf" / "images" / "1-60_jpg.rf.c10df01e87efb00528285a1c0971d233.jpg"


def gap_event(ref: str, at: datetime) -> dict:
    return {"event_id": str(uuid.uuid4()), "type": "shelf.gap", "use_case": "I", "store_id": STORE, "camera_id": "shelf-1",
            "occurred_at": at.isoformat(), "severity": "notice",
            "payload": {"segment": "middle-row", "sku": "repellent-spray", "capacity": 40, "facings": 10,
                        "gap_fraction": 0.55, "units_missing": 24, "frames": 2,
                        "polygon": [[0, 0.35], [1, 0.35], [1, 0.65], [0, 0.65]], "gaps": [[0.05, 0.4, 0.5, 0.62]]},
            "evidence": {"snapshot_ref": ref, "frame_size": [640, 640],
                         "boxes": [{"xyxy": [32, 256, 320, 397], "label": "empty_shelf", "score": 0.9}]}}


def setup_task(client: TestClient, db: Database, edge: dict[str, str]) -> str:
    r = client.post("/api/v1/snapshots", content=PHOTO.read_bytes(), headers={**edge, "Content-Type": "image/jpeg"},
                    params={"store_id": STORE, "camera_id": "shelf-1", "kind": "evidence", "anonymised": "true"})
    assert r.status_code in (200, 201), r.text
    event = gap_event(r.json()["snapshot_ref"], datetime.now(timezone.utc) - timedelta(seconds=90))
    assert client.post("/api/v1/events", json=[event], headers=edge).status_code == 200
    config = ShelfConfig.model_validate({"store_id": STORE, "skus": {"repellent-spray": {"node": "produce", "position": [3, 5]}}})
    now = datetime.now(timezone.utc)
    with db.unit_of_work() as session:
        restock.set_stock(session, STORE, "repellent-spray", 30, now)
    controller = RestockController(config, None)
    with db.unit_of_work() as session:
        for row in new_shelf_events(session, STORE, now - timedelta(hours=1)):
            controller.handle(session, row, now)
    return event["event_id"]


def test_the_shelf_page_draws_the_gap_and_lists_the_staff_task(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    event_id = setup_task(client, db, edge)
    sign_in(client, db, "aiko", "staff")
    page = client.get(f"/stores/{STORE}/shelf")
    assert page.status_code == 200
    assert f'href="/ui/evidence/{event_id}.jpg"' in page.text
    assert re.search(r'<rect class="gap" x="32\.0+\d*" y="256\.0+\d*"', page.text)  # the gap box over the picture
    assert "24 missing (55 % empty)" in page.text
    row = re.search(r'<tr class="task"[^>]*data-assignee="staff" data-state="open">.*?</tr>', page.text, re.S)
    assert row and "repellent-spray" in row.group(0) and "no robot free" in row.group(0)
    assert client.get(f"/ui/evidence/{event_id}.jpg").headers["content-type"] == "image/jpeg"


def test_the_shelf_page_in_japanese(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    setup_task(client, db, edge)
    sign_in(client, db, "yui", "staff", locale="ja")
    page = client.get(f"/stores/{STORE}/shelf")
    assert "現在の欠品" in page.text and "24 個不足（空き 55 %）" in page.text and "空きロボットなし" in page.text
    assert "Current gaps" not in page.text


def test_staff_confirm_a_refill_and_it_is_audited(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    setup_task(client, db, edge)
    csrf = sign_in(client, db, "ken", "staff")
    with db.read_session() as session:
        task_id = session.scalars(select(RestockTask.id)).one()
    r = post_form(client, f"/stores/{STORE}/shelf/tasks/{task_id}/confirm", csrf)
    assert r.status_code == 303
    with db.read_session() as session:
        task = session.get(RestockTask, task_id)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "shelf.task.confirm")).all()
    assert (task.state, task.done_by) == ("done", "staff") and task.refill_s >= 89
    assert len(audit) == 1 and audit[0].subject == f"shelf_task:{task_id}"
    page = client.get(f"/stores/{STORE}/shelf?confirmed=1")
    assert "Task confirmed as refilled." in page.text and 'id="done-tasks"' in page.text
    # a confirmation without the session's CSRF token changes nothing
    assert post_form(client, f"/stores/{STORE}/shelf/tasks/{task_id}/confirm", "forged").status_code == 403


def test_the_gaps_are_drawn_on_the_latest_live_frame_when_there_is_one(client: TestClient, db: Database, edge: dict[str, str]) -> None:
    setup_task(client, db, edge)
    r = client.post("/api/v1/snapshots", content=PHOTO.read_bytes(), headers={**edge, "Content-Type": "image/jpeg"},
                    params={"store_id": STORE, "camera_id": "shelf-1", "kind": "live", "anonymised": "true"})
    assert r.status_code in (200, 201), r.text
    sign_in(client, db, "aiko", "staff")
    page = client.get(f"/stores/{STORE}/shelf").text
    assert f'href="/ui/live/{STORE}/shelf-1.jpg"' in page and '<rect class="gap"' in page


def test_the_tasks_api_lists_open_tasks_for_a_reader(client: TestClient, db: Database, edge: dict[str, str], auth) -> None:  # noqa: ANN001
    setup_task(client, db, edge)
    reader = auth("hq", "events:read")
    body = client.get(f"/api/v1/stores/{STORE}/shelf/tasks", headers=reader).json()
    assert body["count"] == 1 and body["data"][0]["sku"] == "repellent-spray"
    assert (body["data"][0]["assignee"], body["data"][0]["fallback_reason"]) == ("staff", "no_robot_free")
    assert client.get(f"/api/v1/stores/{STORE}/shelf/tasks?state=done", headers=reader).json()["count"] == 0
    assert client.get(f"/api/v1/stores/{STORE}/shelf/tasks?state=bogus", headers=reader).status_code == 422
    other = auth("other-store", "events:read", store="elsewhere")
    assert client.get(f"/api/v1/stores/{STORE}/shelf/tasks", headers=other).status_code == 403
    assert client.get(f"/api/v1/stores/{STORE}/shelf/tasks").status_code == 401
