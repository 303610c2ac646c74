"""Comfort values from the stored events: the latest per (zone, quantity) and their history.

Every comfort event (``comfort.reading``, ``comfort.notice``, ``comfort.restored``) carries the
whole state of its value (value, target, status, seconds out of range), so the latest of any of
them is the current state. History is the ``comfort.reading`` events, the periodic values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow

COMFORT_TYPES = ("comfort.reading", "comfort.notice", "comfort.restored")


@dataclass(frozen=True, slots=True)
class ComfortReading:
    """One value's latest state (the API's reading shape) and when it was taken."""

    zone: str
    quantity: str
    value: float | None
    unit: str
    target_low: float | None
    target_high: float | None
    status: str
    out_of_range_s: float
    occurred_at: datetime

    def api(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("zone", "quantity", "value", "unit", "target_low", "target_high", "status", "out_of_range_s")}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _reading(payload: dict[str, Any], at: datetime) -> ComfortReading:
    return ComfortReading(
        zone=str(payload.get("zone", "")), quantity=str(payload.get("quantity", "")), value=_num(payload.get("value")),
        unit=str(payload.get("unit", "")), target_low=_num(payload.get("target_low")), target_high=_num(payload.get("target_high")),
        status=str(payload.get("status", "untrusted")), out_of_range_s=_num(payload.get("out_of_range_s")) or 0.0, occurred_at=at,
    )


def latest_comfort(session: Session, store_id: str) -> list[ComfortReading]:
    """The latest state of every (zone, quantity) of a store, sorted by zone and quantity."""
    zone, quantity = EventRow.payload["zone"].as_string(), EventRow.payload["quantity"].as_string()
    ranked = select(
        EventRow.payload, EventRow.occurred_at,
        func.row_number().over(partition_by=(zone, quantity),
                               order_by=(EventRow.occurred_at.desc(), EventRow.received_at.desc())).label("rank"),
    ).where(EventRow.store_id == store_id, EventRow.type.in_(COMFORT_TYPES), zone.is_not(None), quantity.is_not(None))
    sub = ranked.subquery()
    rows = session.execute(select(sub.c.payload, sub.c.occurred_at).where(sub.c.rank == 1)).all()
    return sorted((_reading(r.payload, r.occurred_at) for r in rows), key=lambda r: (r.zone, r.quantity))


def comfort_history(session: Session, store_id: str, since: datetime, limit: int = 20_000) -> list[ComfortReading]:
    """``comfort.reading`` values of a store since ``since``, oldest first (at most ``limit``, the newest)."""
    rows = session.execute(
        select(EventRow.payload, EventRow.occurred_at)
        .where(EventRow.store_id == store_id, EventRow.type == "comfort.reading", EventRow.occurred_at >= since)
        .order_by(EventRow.occurred_at.desc()).limit(limit)
    ).all()
    return [_reading(r.payload, r.occurred_at) for r in reversed(rows)]


def recent_notices(session: Session, store_id: str, since: datetime, limit: int = 20) -> list[tuple[str, ComfortReading]]:
    """(type, state) of the newest comfort notices and restorations since ``since``, newest first."""
    rows = session.execute(
        select(EventRow.type, EventRow.payload, EventRow.occurred_at)
        .where(EventRow.store_id == store_id, EventRow.type.in_(COMFORT_TYPES[1:]), EventRow.occurred_at >= since)
        .order_by(EventRow.occurred_at.desc()).limit(limit)
    ).all()
    return [(r.type, _reading(r.payload, r.occurred_at)) for r in rows]
