"""``/api/v1/stores/{store_id}/comfort``: F comfort's current values, and their history for charts.

The current shape is fixed (the floor page reads it client-side)::

    {"store_id": "...", "readings": [{"zone", "quantity", "value", "unit", "target_low",
                                      "target_high", "status", "out_of_range_s"}]}
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Query

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.comfort.reads import comfort_history, latest_comfort
from services.central.usecases.comfort.schemas import ComfortHistoryOut, ComfortReadingOut, ComfortSeriesOut, StoreComfortOut

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


@router.get("/{store_id}/comfort", response_model=StoreComfortOut)
def store_comfort(store_id: str, session: ReadSession, principal: EventsReader) -> StoreComfortOut:
    """Latest light and air value per (zone, quantity): value, target, status, seconds out of range."""
    store_scope(principal, store_id)
    return StoreComfortOut(store_id=store_id, readings=[ComfortReadingOut(**r.api()) for r in latest_comfort(session, store_id)])


@router.get("/{store_id}/comfort/history", response_model=ComfortHistoryOut)
def store_comfort_history(
    store_id: str, session: ReadSession, principal: EventsReader,
    hours: Annotated[float, Query(gt=0, le=168, description="hours back from now")] = 3.0,
) -> ComfortHistoryOut:
    """Periodic comfort readings of the last ``hours``, one series per (zone, quantity), oldest first."""
    store_scope(principal, store_id)
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    return ComfortHistoryOut(store_id=store_id, since=since, series=history_series(comfort_history(session, store_id, since)))


def history_series(readings: list) -> list[ComfortSeriesOut]:  # noqa: ANN001 - ComfortReading list
    """Readings (oldest first) grouped into one series per (zone, quantity); targets from the newest."""
    series: dict[tuple[str, str], ComfortSeriesOut] = {}
    for r in readings:
        key = (r.zone, r.quantity)
        s = series.get(key)
        if s is None:
            s = series[key] = ComfortSeriesOut(zone=r.zone, quantity=r.quantity, unit=r.unit, target_low=r.target_low,
                                               target_high=r.target_high, points=[])
        s.target_low, s.target_high = r.target_low, r.target_high
        s.points.append((r.occurred_at, r.value))
    return [series[k] for k in sorted(series)]
