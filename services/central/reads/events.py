"""Filtered, paged reads of stored events, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow


@dataclass(frozen=True, slots=True)
class EventFilter:
    """All optional; ``since`` is inclusive and ``until`` exclusive, on ``occurred_at`` (UTC)."""

    store_id: str | None = None
    camera_id: str | None = None
    type: str | None = None
    use_case: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select, f: EventFilter) -> Select:  # type: ignore[type-arg]
    for column, value in (
        (EventRow.store_id, f.store_id),
        (EventRow.camera_id, f.camera_id),
        (EventRow.type, f.type),
        (EventRow.use_case, f.use_case),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(EventRow.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(EventRow.occurred_at < f.until)
    return query


def list_events(session: Session, f: EventFilter, limit: int, offset: int) -> tuple[list[EventRow], int]:
    """A page of events (newest ``occurred_at`` first) and the total matching count."""
    total = session.scalar(_filtered(select(func.count()).select_from(EventRow), f)) or 0
    rows = session.scalars(
        _filtered(select(EventRow), f)
        .order_by(EventRow.occurred_at.desc(), EventRow.event_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def latest_received(session: Session, limit: int) -> list[EventRow]:
    """The events central received last (the dashboard's live list)."""
    return list(
        session.scalars(
            select(EventRow).order_by(EventRow.received_at.desc(), EventRow.occurred_at.desc()).limit(limit)
        )
    )


def get_event(session: Session, event_id: UUID) -> EventRow | None:
    return session.get(EventRow, event_id)
