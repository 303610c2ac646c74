"""``/api/v1/stores/{store_id}/occupancy``: use case F's live zone occupancy, for integrators."""

from __future__ import annotations

from fastapi import APIRouter

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.occupancy.reads import latest_occupancy
from services.central.usecases.occupancy.schemas import StoreOccupancyOut, ZoneOccupancyOut

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


@router.get("/{store_id}/occupancy", response_model=StoreOccupancyOut)
def store_occupancy(store_id: str, session: ReadSession, principal: EventsReader) -> StoreOccupancyOut:
    """Latest ``zone.occupancy`` reading per (camera, zone): count, capacity, over or not."""
    store_scope(principal, store_id)
    zones = latest_occupancy(session, store_id)
    return StoreOccupancyOut(store_id=store_id, zones=[ZoneOccupancyOut.model_validate(z) for z in zones])
