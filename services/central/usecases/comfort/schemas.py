"""Wire shapes of the comfort API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ComfortReadingOut(BaseModel):
    zone: str
    quantity: str
    value: float | None
    unit: str
    target_low: float | None
    target_high: float | None
    status: str
    out_of_range_s: float


class StoreComfortOut(BaseModel):
    store_id: str
    readings: list[ComfortReadingOut]


class ComfortSeriesOut(BaseModel):
    zone: str
    quantity: str
    unit: str
    target_low: float | None
    target_high: float | None
    points: list[tuple[datetime, float | None]]  # (time, value); null where the reading was untrusted


class ComfortHistoryOut(BaseModel):
    store_id: str
    since: datetime
    series: list[ComfortSeriesOut]
