"""Wire shapes of use case F's API (zone occupancy per store)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.central.api.schemas.common import Out


class ZoneOccupancyOut(Out):
    store_id: str
    camera_id: str
    zone: str
    count: int | None
    capacity: int | None
    over_capacity: bool
    occurred_at: datetime
    event_id: UUID


class StoreOccupancyOut(Out):
    store_id: str
    zones: list[ZoneOccupancyOut]
