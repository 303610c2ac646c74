"""``/api/v1/stores/{store_id}/visitors``: people who came in through the store's entrance lines."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.lines.reads import visitors

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


class LineOut(BaseModel):
    camera_id: str
    line: str
    visitors_line: bool
    in_count: int
    out_count: int
    covered_s: float


class HourOut(BaseModel):
    hour: datetime
    visitors: int


class VisitorsOut(BaseModel):
    store_id: str
    since: datetime
    hours: float
    visitors: int
    visitors_per_hour: float
    lines: list[LineOut]
    hourly: list[HourOut]


@router.get("/{store_id}/visitors", response_model=VisitorsOut)
def store_visitors(
    store_id: str, session: ReadSession, principal: EventsReader,
    hours: Annotated[float, Query(gt=0, le=168, description="hours back from now")] = 1.0,
) -> VisitorsOut:
    """Visitors (in-crossings of entrance lines) in the last ``hours``, per hour, and every line's in/out."""
    store_scope(principal, store_id)
    v = visitors(session, store_id, datetime.now(timezone.utc), hours)
    return VisitorsOut(
        store_id=store_id, since=v.since, hours=hours, visitors=v.visitors, visitors_per_hour=v.per_hour,
        lines=[LineOut(**vars(t)) for t in v.lines], hourly=[HourOut(hour=h, visitors=n) for h, n in v.hourly],
    )
