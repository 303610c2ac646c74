"""Live zone occupancy: the latest ``zone.occupancy`` payload per (store, camera, zone).

Payloads carry ``zone`` (name), ``count`` (people) and ``capacity`` (people allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow

OCCUPANCY_TYPE = "zone.occupancy"


@dataclass(frozen=True, slots=True)
class ZoneOccupancy:
    store_id: str
    camera_id: str
    zone: str
    count: int | None
    capacity: int | None
    occurred_at: datetime
    event_id: UUID

    @property
    def over_capacity(self) -> bool:
        """True when more people are in the zone than it allows.

        >>> from uuid import uuid4
        >>> z = ZoneOccupancy("s", "c", "aisle", 12, 10, datetime(2026, 1, 1), uuid4())
        >>> z.over_capacity
        True
        """
        return self.count is not None and self.capacity is not None and self.count > self.capacity


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def latest_occupancy(session: Session, store_id: str | None = None) -> list[ZoneOccupancy]:
    """Latest reading per (store, camera, zone), sorted by store, camera, zone.

    One window query on both backends (``row_number() OVER (PARTITION BY ...)``), served by
    the ``(store_id, type, occurred_at)`` index when ``store_id`` is given.
    """
    zone = EventRow.payload["zone"].as_string()
    ranked = select(
        EventRow.event_id,
        EventRow.store_id,
        EventRow.camera_id,
        zone.label("zone"),
        EventRow.payload,
        EventRow.occurred_at,
        func.row_number()
        .over(
            partition_by=(EventRow.store_id, EventRow.camera_id, zone),
            order_by=(EventRow.occurred_at.desc(), EventRow.received_at.desc()),
        )
        .label("rank"),
    ).where(EventRow.type == OCCUPANCY_TYPE, zone.is_not(None))
    if store_id is not None:
        ranked = ranked.where(EventRow.store_id == store_id)
    sub = ranked.subquery()
    rows = session.execute(
        select(sub).where(sub.c.rank == 1).order_by(sub.c.store_id, sub.c.camera_id, sub.c.zone)
    ).all()
    return [
        ZoneOccupancy(
            store_id=r.store_id,
            camera_id=r.camera_id,
            zone=r.zone,
            count=_number(r.payload.get("count")),
            capacity=_number(r.payload.get("capacity")),
            occurred_at=r.occurred_at,
            event_id=r.event_id,
        )
        for r in rows
    ]
