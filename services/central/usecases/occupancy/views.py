"""Live store view: each camera's latest picture with its zone outlines and occupancy, the
store's alerts and notices, and charts over the last hours (people per zone, comfort values
with their target bands, visitors). ``/stores`` lists the stores a viewer may see.

Central never talks to cameras: the picture is the newest live snapshot the edge uploaded, and the
zone outlines come from the ``polygon`` of the latest ``zone.occupancy`` payload per zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.dashboard.web import SignedInUi, Ui
from services.central.db.tables import EventRow
from services.central.snapshots.service import latest_live
from services.central.stores import get_profile, known_stores
from services.central.usecases.occupancy.reads import latest_occupancy
from services.central.usecases.occupancy.store_charts import alerts_and_notices, comfort_charts, occupancy_charts, store_visitors

router = APIRouter(include_in_schema=False)

#: Hours the store page's charts cover (``?hours=`` may ask for 1-24).
CHART_HOURS = 3.0


@dataclass(frozen=True, slots=True)
class ZoneView:
    name: str
    count: int | None
    capacity: int | None
    over: bool
    occurred_at: datetime
    points: str | None  # SVG polygon points in picture pixels; None without a polygon or picture size
    label_x: float | None = None
    label_y: float | None = None


@dataclass
class CameraView:
    camera_id: str
    picture_version: str | None = None  # changes when a new picture arrives (cache buster)
    picture_at: datetime | None = None
    width: int | None = None
    height: int | None = None
    zones: list[ZoneView] = field(default_factory=list)


def _polygon(payload: dict[str, Any], width: int | None, height: int | None) -> tuple[str | None, float | None, float | None]:
    poly = payload.get("polygon")
    if not width or not height or not isinstance(poly, list) or len(poly) < 3:
        return None, None, None
    try:
        pts = [(float(x) * width, float(y) * height) for x, y in poly]
    except (TypeError, ValueError):
        return None, None, None
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts), min(x for x, _ in pts) + 4, min(y for _, y in pts) + 16


def _cameras(session: Session, store_id: str) -> list[CameraView]:
    live = latest_live(session, store_id)
    occupancy = latest_occupancy(session, store_id)
    payloads = dict(session.execute(
        select(EventRow.event_id, EventRow.payload).where(EventRow.event_id.in_([z.event_id for z in occupancy]))
    ).all()) if occupancy else {}
    cameras: dict[str, CameraView] = {}
    for cam_id, row in live.items():
        cameras[cam_id] = CameraView(cam_id, row.sha256[:12], row.created_at, row.width, row.height)
    for z in occupancy:
        cam = cameras.setdefault(z.camera_id, CameraView(z.camera_id))
        points, lx, ly = _polygon(payloads.get(z.event_id, {}), cam.width, cam.height)
        cam.zones.append(ZoneView(z.zone, z.count, z.capacity, z.over_capacity, z.occurred_at, points, lx, ly))
    return [cameras[k] for k in sorted(cameras)]


def _store_context(ui: Ui, store_id: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    with ui.db.read_session() as session:
        return {"store_id": store_id, "profile": get_profile(session, store_id, ui.settings),
                "cameras": _cameras(session, store_id), "alerts": alerts_and_notices(session, store_id, now)}


def _hours(ui: Ui) -> float:
    """``?hours=`` within 1-24, else the default (a bad value is no error on a page that refreshes)."""
    try:
        return min(max(float(ui.request.query_params.get("hours", CHART_HOURS)), 1.0), 24.0)
    except ValueError:
        return CHART_HOURS


def _charts_context(ui: Ui, store_id: str) -> dict[str, Any]:
    now, hours = datetime.now(timezone.utc), _hours(ui)
    with ui.db.read_session() as session:
        return {"store_id": store_id, "hours": hours, "now": now,
                "zone_charts": occupancy_charts(session, store_id, now, hours),
                "comfort_charts": comfort_charts(session, store_id, now, hours),
                "visitors": store_visitors(session, store_id, now, 1.0)}


@router.get("/stores")
def stores_page(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    with ui.db.read_session() as session:
        ids = [ui.viewer.store_id] if ui.viewer.store_id else known_stores(session)
        stores = [get_profile(session, s, ui.settings) for s in ids]
    return ui.page("stores.html", stores=stores)


@router.get("/stores/{store_id}")
def store_page(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.page("error.html", status_code=status.HTTP_404_NOT_FOUND, message=ui.t("err.not_found"))
    return ui.page("store.html", **{**_store_context(ui, store_id), **_charts_context(ui, store_id)})


@router.get("/stores/{store_id}/live")
def store_live(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.page("error.html", status_code=status.HTTP_404_NOT_FOUND, message=ui.t("err.not_found"))
    return ui.page("_store_live.html", **_store_context(ui, store_id))


@router.get("/stores/{store_id}/charts")
def store_charts(store_id: str, ui: SignedInUi) -> Response:
    if not ui.sees_store(store_id):
        return ui.page("error.html", status_code=status.HTTP_404_NOT_FOUND, message=ui.t("err.not_found"))
    return ui.page("_store_charts.html", **_charts_context(ui, store_id))
