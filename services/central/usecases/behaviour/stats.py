"""Which behaviour rules mislead: alert and dismissal rates per rule and day, and the manager notice.

Pure functions over ``(event type, created at, final state)`` of H's review items; the page
(``views.py``) reads those rows and draws the result as inline SVG.

* A day's **dismissal rate** is dismissed / (confirmed + dismissed) among that day's alerts that
  were decided; undecided alerts count as alerts only.
* A rule gets a **manager notice** when its dismissal rate *stayed* above the level for a week:
  on every one of the last 7 days that had decisions the rate was above the level, and at least
  :data:`MIN_DECIDED_DAYS` of those 7 days had decisions (fewer says too little).

>>> from datetime import date, datetime, timezone
>>> today = date(2026, 3, 8)
>>> rows = [("behaviour.loitering", datetime(2026, 3, d, 10, tzinfo=timezone.utc), s)
...         for d in range(2, 9) for s in ("dismissed", "dismissed", "dismissed", "confirmed")]
>>> daily = daily_rates(rows, today, days=7)
>>> [(d.alerts, d.rate) for d in daily["behaviour.loitering"]][:2]
[(4, 0.75), (4, 0.75)]
>>> lasting_dismissals(daily, level=0.7, today=today), lasting_dismissals(daily, level=0.8, today=today)
(['behaviour.loitering'], [])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: Default level above which a rule's lasting dismissal rate is reported to the manager.
DISMISSAL_NOTICE_LEVEL = 0.8
#: Days of the week that must have decisions before a rate can be said to have stayed high.
MIN_DECIDED_DAYS = 4
WEEK = 7


@dataclass(frozen=True, slots=True)
class DayRate:
    day: date
    alerts: int
    confirmed: int
    dismissed: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def rate(self) -> float | None:
        """Dismissed share of the decided alerts; None on a day without decisions."""
        return round(self.dismissed / self.decided, 4) if self.decided else None


def daily_rates(rows: Iterable[tuple[str, datetime, str]], today: date, days: int = 28) -> dict[str, list[DayRate]]:
    """Per event type, one :class:`DayRate` per day from ``today - days + 1`` to ``today`` (UTC days)."""
    first = today - timedelta(days=days - 1)
    counts: dict[str, dict[date, list[int]]] = {}
    for event_type, created_at, state in rows:
        day = created_at.date()
        if not first <= day <= today:
            continue
        c = counts.setdefault(event_type, {}).setdefault(day, [0, 0, 0])
        c[0] += 1
        c[1] += state == "confirmed"
        c[2] += state == "dismissed"
    return {
        t: [DayRate(first + timedelta(days=k), *by_day.get(first + timedelta(days=k), [0, 0, 0])) for k in range(days)]
        for t, by_day in sorted(counts.items())
    }


def lasting_dismissals(daily: Mapping[str, Sequence[DayRate]], level: float, today: date) -> list[str]:
    """Event types whose dismissal rate stayed above ``level`` for the last week (see the module doc)."""
    out = []
    week = today - timedelta(days=WEEK - 1)
    for event_type, days in daily.items():
        rates = [d.rate for d in days if week <= d.day <= today and d.rate is not None]
        if len(rates) >= MIN_DECIDED_DAYS and all(r > level for r in rates):
            out.append(event_type)
    return out


@dataclass(frozen=True, slots=True)
class Chart:
    """Inline SVG geometry of one rule's chart: alert bars and the dismissal-rate line."""

    width: int
    height: int
    bars: list[tuple[float, float, float, float, int, str]]  # x, y, w, h, alerts, day (ISO)
    rate_points: str  # SVG polyline points of the dismissal rate (days with decisions)
    dots: list[tuple[float, float, float, str]]  # x, y, rate, day
    level_y: float
    max_alerts: int


def chart(days: Sequence[DayRate], level: float, width: int = 560, height: int = 120) -> Chart:
    """Bars for alerts per day (scaled to the busiest day), a line for the dismissal rate (0-1 over the height).

    >>> c = chart([DayRate(date(2026, 3, 1), 2, 1, 1), DayRate(date(2026, 3, 2), 4, 0, 0)], level=0.5, width=100, height=50)
    >>> c.bars[1][3], c.rate_points, c.level_y
    (50.0, '25.0,25.0', 25.0)
    """
    step = width / max(1, len(days))
    top = max((d.alerts for d in days), default=0) or 1
    bars, dots = [], []
    for k, d in enumerate(days):
        h = round(height * d.alerts / top, 2)
        bars.append((round(k * step + 1, 2), round(height - h, 2), round(max(1.0, step - 2), 2), h, d.alerts, d.day.isoformat()))
        if d.rate is not None:
            dots.append((round(k * step + step / 2, 2), round(height * (1 - d.rate), 2), d.rate, d.day.isoformat()))
    points = " ".join(f"{x},{y}" for x, y, _, _ in dots)
    return Chart(width, height, bars, points, dots, round(height * (1 - level), 2), top)
