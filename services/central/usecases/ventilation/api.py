"""``/api/v1/stores/{store_id}/ventilation``: each zone's latest air, ventilation and infection-risk
index (Wells–Riley, see the page's explanation), for integrators; B's routing may use the index
as a cost of passing through a zone."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import select

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.api.schemas.common import Out
from services.central.db.tables import EventRow

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])

#: Zone reports older than this many of the newest are not looked at (one per zone is wanted).
RECENT = 500


class ZoneVentilationOut(Out):
    zone: str
    device_id: str
    occurred_at: datetime
    mode: str
    co2_ppm: float | None
    airflow_m3h: float | None
    occupants: float
    required_airflow_m3h: float | None = None
    air_changes_per_hour: float | None = None
    risk_index: float | None = None


class StoreVentilationOut(Out):
    store_id: str
    zones: list[ZoneVentilationOut]
    risk_model: str = "Wells-Riley, 25 quanta/h, 0.75 m3/h breathing, 0.2 % prevalence, steady well-mixed air; an index"


@router.get("/{store_id}/ventilation", response_model=StoreVentilationOut)
def store_ventilation(store_id: str, session: ReadSession, principal: EventsReader) -> StoreVentilationOut:
    """The latest ``ventilation.zone_state`` of each zone of the store."""
    store_scope(principal, store_id)
    rows = session.execute(
        select(EventRow.camera_id, EventRow.occurred_at, EventRow.payload)
        .where(EventRow.store_id == store_id, EventRow.type == "ventilation.zone_state")
        .order_by(EventRow.occurred_at.desc()).limit(RECENT)
    ).all()
    latest: dict[str, ZoneVentilationOut] = {}
    for device, at, p in rows:
        if p["zone"] not in latest:
            latest[p["zone"]] = ZoneVentilationOut(
                zone=p["zone"], device_id=device, occurred_at=at, mode=p["mode"], co2_ppm=p.get("co2_ppm"),
                airflow_m3h=p.get("airflow_m3h"), occupants=p["occupants"], required_airflow_m3h=p.get("required_airflow_m3h"),
                air_changes_per_hour=p.get("air_changes_per_hour"), risk_index=p.get("risk_index"))
    return StoreVentilationOut(store_id=store_id, zones=[latest[z] for z in sorted(latest)])
