"""Visitors from ``line.crossings``: people who crossed entrance lines in, per line and per hour.

Only lines the edge marks ``visitors`` (entrances) count as visitors; inner lines still report
their in/out counts per line. A line's ``covered_s`` says how much time its reports cover, so a
camera that was off part of the window shows as such instead of as an empty store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow

CROSSINGS_TYPE = "line.crossings"


@dataclass
class LineTotals:
    camera_id: str
    line: str
    visitors_line: bool
    in_count: int = 0
    out_count: int = 0
    covered_s: float = 0.0


@dataclass
class Visitors:
    since: datetime
    hours: float
    visitors: int
    lines: list[LineTotals]
    hourly: list[tuple[datetime, int]]  # (start of the hour, visitors in it), oldest first

    @property
    def per_hour(self) -> float:
        return round(self.visitors / self.hours, 2)


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def visitors(session: Session, store_id: str, now: datetime, hours: float) -> Visitors:
    """Visitors of a store over the ``hours`` before ``now`` (events by when the interval ended).

    >>> from datetime import timezone
    >>> v = Visitors(datetime(2026, 1, 1, tzinfo=timezone.utc), 2.0, 31, [], [])
    >>> v.per_hour
    15.5
    """
    since = now - timedelta(hours=hours)
    rows = session.execute(
        select(EventRow.camera_id, EventRow.payload, EventRow.occurred_at)
        .where(EventRow.store_id == store_id, EventRow.type == CROSSINGS_TYPE, EventRow.occurred_at >= since,
               EventRow.occurred_at <= now)
        .order_by(EventRow.occurred_at)
    ).all()
    lines: dict[tuple[str, str], LineTotals] = {}
    hourly: dict[datetime, int] = {}
    for r in rows:
        name = str(r.payload.get("line", ""))
        is_entrance = r.payload.get("visitors", True) is not False
        t = lines.setdefault((r.camera_id, name), LineTotals(r.camera_id, name, is_entrance))
        came_in = _int(r.payload.get("in_count"))
        t.in_count += came_in
        t.out_count += _int(r.payload.get("out_count"))
        t.covered_s += float(r.payload.get("interval_s") or 0.0)
        if is_entrance:
            hour = r.occurred_at.replace(minute=0, second=0, microsecond=0)
            hourly[hour] = hourly.get(hour, 0) + came_in
    total = sum(t.in_count for t in lines.values() if t.visitors_line)
    return Visitors(since, hours, total, [lines[k] for k in sorted(lines)], sorted(hourly.items()))
