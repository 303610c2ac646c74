"""The shelf page of a store (``/stores/{id}/shelf``): current gaps drawn on the latest gap picture,
open restock tasks (robot or staff) with state and timings, staff confirmation, the robots."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, status
from fastapi.responses import RedirectResponse, Response

from services.central import audit
from services.central.dashboard.access import CsrfViewer
from services.central.dashboard.web import SignedInUi
from services.central.usecases.shelf import page

router = APIRouter(include_in_schema=False)


@router.get("/shelf")
def shelf_stores(ui: SignedInUi) -> Response:
    """The viewer's store's page, or the stores to choose from."""
    return ui.store_chooser("shelf", "shelf_stores.html")


@router.get("/stores/{store_id}/shelf")
def shelf_page(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    with ui.db.read_session() as session:
        data = page.page_data(session, store_id, datetime.now(timezone.utc))
    confirmed = ui.request.query_params.get("confirmed") == "1"
    return ui.page("shelf.html", store_id=store_id, confirmed=confirmed, **data)


@router.post("/stores/{store_id}/shelf/tasks/{task_id}/confirm")
def confirm_task(store_id: str, task_id: str, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    """Staff say the shelf is refilled: the task is done now (a robot still on it is cancelled by the
    restock process). Audited."""
    from services.central.usecases.shelf.controller import OPEN
    from services.central.usecases.shelf.tables import RestockTask

    if not ui.sees_store(store_id):
        return ui.not_found()
    try:
        tid = uuid.UUID(task_id)
    except ValueError:
        return ui.not_found()
    now = datetime.now(timezone.utc)
    with ui.db.unit_of_work() as session:
        task = session.get(RestockTask, tid)
        if task is None or task.store_id != store_id:
            return ui.not_found()
        if task.state in OPEN:
            task.state, task.done_by, task.done_at = "done", "staff", now
            task.refill_s = round(max((now - task.gap_at).total_seconds(), 0.0), 3)
            task.history = [*(task.history or []), {"at": now.isoformat(), "what": f"done (staff: {viewer.actor})"}]
            task.updated_at = now
            if task.robot:
                from services.central.usecases.shelf.tables import Robot

                robot = session.get(Robot, task.robot)
                if robot is not None and robot.order_id == task.order_id and task.order_state in ("FINISHED", "FAILED", "CANCELLED", "TIMED_OUT"):
                    robot.order_id = None
            audit.append(session, viewer.actor, "shelf.task.confirm", f"shelf_task:{task.id}",
                         {"store_id": store_id, "sku": task.sku, "segment": task.segment}, at=now)
    return RedirectResponse(f"/stores/{store_id}/shelf?confirmed=1", status_code=status.HTTP_303_SEE_OTHER)
