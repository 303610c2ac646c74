"""The ventilation page of a store (``/stores/{id}/ventilation``): each zone's CO₂ and outdoor air
over the last hours (inline SVG), its mode, the infection-risk index with its explanation, recent
setpoint changes with who and why; managers report an infected visitor (two-person review, then
the purge) and override a zone's setpoints for a number of minutes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, status
from fastapi.responses import RedirectResponse, Response

from services.central.dashboard.access import CsrfViewer
from services.central.dashboard.web import SignedInUi, Ui
from services.central.usecases.ventilation import service
from services.central.users.roles import Permission
from services.central.users.sessions import Viewer

router = APIRouter(include_in_schema=False)

HOURS = 3.0
NOTICES = ("vent.report.sent", "vent.override.sent")


def _manager(viewer: Viewer) -> bool:
    # Purges and overrides act on a building: people who may settle escalated reviews (managers, admins).
    return viewer.role.allows(Permission.DECIDE_ESCALATED)


def _hours(ui: Ui) -> float:
    try:
        return min(max(float(ui.request.query_params.get("hours", HOURS)), 0.25), 24.0)
    except ValueError:
        return HOURS


def _context(ui: Ui, store_id: str) -> dict[str, object]:
    now, hours = datetime.now(timezone.utc), _hours(ui)
    with ui.db.read_session() as session:
        data = service.page_data(session, store_id, now, hours)
    return {"store_id": store_id, "hours": hours, "now": now, **data}


@router.get("/ventilation")
def ventilation_stores(ui: SignedInUi) -> Response:
    """The viewer's store's page, or the stores to choose from."""
    return ui.store_chooser("ventilation", "ventilation_stores.html")


@router.get("/stores/{store_id}/ventilation")
def ventilation_page(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    assert ui.viewer is not None
    notice = ui.request.query_params.get("notice", "")
    notice = notice if notice in NOTICES else ""  # only our own messages, never text from the address
    return ui.page("ventilation.html", manager=_manager(ui.viewer), notice=notice,
                   notice_arg=ui.request.query_params.get("arg", ""), **_context(ui, store_id))


@router.get("/stores/{store_id}/ventilation/panel")
def ventilation_panel(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    return ui.page("_ventilation_panel.html", **_context(ui, store_id))


def _back(store_id: str, notice: str, arg: object = "") -> Response:
    return RedirectResponse(f"/stores/{store_id}/ventilation?notice={notice}&arg={arg}", status_code=status.HTTP_303_SEE_OTHER)


def _refuse(ui: Ui, store_id: str, key: str) -> Response:
    assert ui.viewer is not None
    return ui.page("ventilation.html", status_code=422, manager=_manager(ui.viewer),
                   error=key, notice="", notice_arg="", **_context(ui, store_id))


@router.post("/stores/{store_id}/ventilation/report")
def report_infection(
    store_id: str, ui: SignedInUi, viewer: CsrfViewer,
    zones: Annotated[list[str], Form(max_length=64)], visited_from: Annotated[datetime, Form()],
    visited_until: Annotated[datetime, Form()], note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    if not _manager(viewer):
        return ui.page("error.html", status_code=status.HTTP_403_FORBIDDEN, message=ui.t("vent.managers_only"))
    utc = [t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (visited_from, visited_until)]
    try:
        with ui.db.unit_of_work() as session:
            item = service.report_infection(session, ui.settings, store_id=store_id, zones=zones, visited_from=utc[0],
                                            visited_until=utc[1], note=note.strip(), actor=viewer.actor)
    except service.VentilationInputError as exc:
        return _refuse(ui, store_id, exc.key)
    return _back(store_id, "vent.report.sent", item)


@router.post("/stores/{store_id}/ventilation/override")
def override(
    store_id: str, ui: SignedInUi, viewer: CsrfViewer, zone: Annotated[str, Form(max_length=64)],
    damper_pct: Annotated[float, Form()], fan_pct: Annotated[float, Form()], minutes: Annotated[float, Form()],
    reason: Annotated[str, Form(max_length=500)] = "", clear: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    if not _manager(viewer):
        return ui.page("error.html", status_code=status.HTTP_403_FORBIDDEN, message=ui.t("vent.managers_only"))
    try:
        with ui.db.unit_of_work() as session:
            if clear:
                row = service.clear_override(session, store_id=store_id, zone=zone, actor=viewer.actor)
            else:
                row = service.issue_override(session, store_id=store_id, zone=zone, damper_pct=damper_pct,
                                             fan_pct=fan_pct, minutes=minutes, reason=reason.strip(), actor=viewer.actor)
            command_id = row.command_id
    except service.VentilationInputError as exc:
        return _refuse(ui, store_id, exc.key)
    return _back(store_id, "vent.override.sent", str(command_id)[:8])
