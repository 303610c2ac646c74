"""``GET /api/v1/stores/{store_id}/shelf/tasks``: use case I's restock tasks, for integrators.

Scope ``events:read``; a store-bound key reads only its store. Newest first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.shelf.controller import OPEN
from services.central.usecases.shelf.tables import RestockTask

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


class ShelfTaskOut(BaseModel):
    id: uuid.UUID
    camera_id: str
    segment: str
    sku: str
    units: int
    priority: float
    sales_rate: float
    sales_source: str
    assignee: Literal["robot", "staff"]
    robot: str | None
    order_id: str | None
    order_state: str | None
    fallback_reason: str | None
    state: str
    done_by: str | None
    escalated: bool
    gap_at: datetime
    created_at: datetime
    done_at: datetime | None
    refill_s: float | None


class ShelfTasksOut(BaseModel):
    data: list[ShelfTaskOut]
    count: int


@router.get("/{store_id}/shelf/tasks", response_model=ShelfTasksOut)
def shelf_tasks(store_id: str, session: ReadSession, principal: EventsReader,
                state: Annotated[Literal["open", "done", "all"], Query(description="open includes escalated")] = "open",
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ShelfTasksOut:
    """The store's restock tasks: who (robot or staff, and why staff), order state, timings."""
    store_scope(principal, store_id)
    q = select(RestockTask).where(RestockTask.store_id == store_id)
    if state == "open":
        q = q.where(RestockTask.state.in_(OPEN))
    elif state == "done":
        q = q.where(RestockTask.state == "done")
    count = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(RestockTask.created_at.desc()).limit(limit)).all()
    return ShelfTasksOut(data=[ShelfTaskOut.model_validate(r, from_attributes=True) for r in rows], count=int(count))
