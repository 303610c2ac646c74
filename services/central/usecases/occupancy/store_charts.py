"""What the store page charts: people per zone, comfort values with their target bands, visitors,
and the alerts and notices (instead of an endless list of every event).

Everything comes from stored events, read over a window (``hours``) and thinned to one point per
bucket (:func:`~services.central.usecases.occupancy.charts.bucket_means`) before it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow, ReviewItem
from services.central.usecases.comfort.reads import comfort_history
from services.central.usecases.lines.reads import Visitors, visitors
from services.central.usecases.occupancy.charts import Chart, Series, bucket_means, line_chart

#: Severities that are alerts or notices for staff (info is periodic data: it is charted, not listed).
ALERT_SEVERITIES = ("notice", "warning", "critical")


@dataclass(frozen=True, slots=True)
class ZoneChart:
    camera_id: str
    zone: str
    capacity: int | None
    chart: Chart


@dataclass(frozen=True, slots=True)
class ComfortChart:
    zone: str
    quantity: str
    unit: str
    target_low: float | None
    target_high: float | None
    status: str
    chart: Chart

    @property
    def target(self) -> str:
        """The target range in words of symbols.

        >>> c = ComfortChart("floor", "co2_ppm", "ppm", None, 1000.0, "ok", None)  # type: ignore[arg-type]
        >>> c.target, ComfortChart("f", "temperature_c", "°C", 17.0, 28.0, "ok", None).target  # type: ignore[arg-type]
        ('≤ 1000 ppm', '17–28 °C')
        """
        low, high = (f"{v:g}" if v is not None else None for v in (self.target_low, self.target_high))
        if low is not None and high is not None:
            return f"{low}–{high} {self.unit}"
        return f"≤ {high} {self.unit}" if high is not None else f"≥ {low} {self.unit}"


def bucket_seconds(hours: float) -> int:
    """About 180 points per chart, never finer than 10 s.

    >>> bucket_seconds(3), bucket_seconds(0.25)
    (60, 10)
    """
    return max(10, int(hours * 3600 / 180))


def occupancy_charts(session: Session, store_id: str, now: datetime, hours: float) -> list[ZoneChart]:
    """People per (camera, zone) over the window, one chart each, shaded up to the zone's capacity."""
    since = now - timedelta(hours=hours)
    zone, count = EventRow.payload["zone"].as_string(), EventRow.payload["count"].as_float()
    capacity = EventRow.payload["capacity"].as_float()
    rows = session.execute(
        select(EventRow.camera_id, zone.label("zone"), count.label("count"), capacity.label("capacity"), EventRow.occurred_at)
        .where(EventRow.store_id == store_id, EventRow.type == "zone.occupancy", EventRow.occurred_at >= since,
               EventRow.occurred_at <= now, zone.is_not(None))
        .order_by(EventRow.occurred_at)
    ).all()
    series: dict[tuple[str, str], list[tuple[datetime, float | None]]] = {}
    capacities: dict[tuple[str, str], int | None] = {}
    for r in rows:
        key = (r.camera_id, r.zone)
        series.setdefault(key, []).append((r.occurred_at, r.count))
        capacities[key] = int(r.capacity) if r.capacity is not None else None
    step = bucket_seconds(hours)
    return [
        ZoneChart(cam, name, capacities[(cam, name)],
                  line_chart([Series(name, bucket_means(points, step))], since, now,
                             band=(0.0, float(capacities[(cam, name)] or 0)) if capacities[(cam, name)] else None,
                             width=360, height=120))
        for (cam, name), points in sorted(series.items())
    ]


def comfort_charts(session: Session, store_id: str, now: datetime, hours: float) -> list[ComfortChart]:
    """Each comfort value over the window, its target range shaded; gaps where it was untrusted."""
    since = now - timedelta(hours=hours)
    grouped: dict[tuple[str, str], list[Any]] = {}
    for r in comfort_history(session, store_id, since):
        grouped.setdefault((r.zone, r.quantity), []).append(r)
    step = bucket_seconds(hours)
    out = []
    for (zone, quantity), readings in sorted(grouped.items()):
        newest = readings[-1]
        points = bucket_means([(r.occurred_at, r.value) for r in readings], step)
        out.append(ComfortChart(zone, quantity, newest.unit, newest.target_low, newest.target_high, newest.status,
                                line_chart([Series(f"{zone} {quantity}", points)], since, now,
                                           band=(newest.target_low, newest.target_high), width=360, height=120)))
    return out


def store_visitors(session: Session, store_id: str, now: datetime, hours: float) -> Visitors:
    return visitors(session, store_id, now, hours)


def alerts_and_notices(session: Session, store_id: str, now: datetime, hours: float = 24.0, limit: int = 15) -> list[dict[str, Any]]:
    """The newest alerts and notices of the window (not periodic readings), with their review item if any."""
    rows = session.execute(
        select(EventRow)
        .where(EventRow.store_id == store_id, EventRow.occurred_at >= now - timedelta(hours=hours),
               or_(EventRow.severity.in_(ALERT_SEVERITIES), EventRow.review_required.is_(True)))
        .order_by(EventRow.occurred_at.desc()).limit(limit)
    ).scalars().all()
    items = dict(session.execute(
        select(ReviewItem.event_id, ReviewItem.id).where(ReviewItem.event_id.in_([r.event_id for r in rows]))
    ).all()) if rows else {}
    return [
        {"occurred_at": r.occurred_at, "camera_id": r.camera_id, "type": r.type, "severity": r.severity,
         "summary": (r.explanation or {}).get("summary", ""), "review_id": items.get(r.event_id),
         "zone": r.payload.get("zone"), "quantity": r.payload.get("quantity"), "value": r.payload.get("value"),
         "unit": r.payload.get("unit"), "count": r.payload.get("count")}
        for r in rows
    ]
