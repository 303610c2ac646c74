"""Time-series charts as inline SVG geometry, computed here so templates only draw (no chart
library, nothing fetched at run time).

:func:`bucket_means` thins a series to one mean per bucket (a 3-hour chart of 2-second readings
gets 180 points); :func:`line_chart` maps series onto a ``width`` × ``height`` box: one SVG path
per series (a missing value, such as an untrusted reading, breaks the line), an optional band
(a target range, shaded), and tick labels. Times are UTC; labels are HH:MM.

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
>>> pts = [(t0 + timedelta(seconds=s), v) for s, v in [(0, 1.0), (20, 3.0), (70, None), (130, 4.0)]]
>>> bucket_means(pts, 60)
[(datetime.datetime(2026, 1, 1, 9, 0, tzinfo=datetime.timezone.utc), 2.0), (datetime.datetime(2026, 1, 1, 9, 1, tzinfo=datetime.timezone.utc), None), (datetime.datetime(2026, 1, 1, 9, 2, tzinfo=datetime.timezone.utc), 4.0)]
>>> chart = line_chart([Series("door", bucket_means(pts, 60))], t0, t0 + timedelta(minutes=2), band=(0.0, 3.0),
...                    width=100, height=50, pad=0)
>>> [p.d for p in chart.paths]
['M0.0,26.9 M100.0,3.7']
>>> chart.band
(0.0, 15.3, 100.0, 34.7)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Point = tuple[datetime, float | None]

#: Series colours (colour-blind safe, Okabe-Ito), in order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    points: list[Point]


@dataclass(frozen=True, slots=True)
class Path:
    label: str
    d: str  # SVG path data
    colour: str
    last: float | None  # the newest value, for the legend


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    paths: list[Path]
    band: tuple[float, float, float, float] | None  # x, y, width, height of the shaded range
    y_ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label)

    @property
    def empty(self) -> bool:
        return not any(p.d for p in self.paths)


def bucket_means(points: Sequence[Point], seconds: float) -> list[Point]:
    """One point per ``seconds`` bucket (its start): the mean of the bucket's values; None when all were None."""
    buckets: dict[datetime, list[float]] = {}
    order: list[datetime] = []
    for at, value in points:
        ts = at.timestamp()
        start = datetime.fromtimestamp(ts - ts % seconds, tz=at.tzinfo)
        if start not in buckets:
            buckets[start] = []
            order.append(start)
        if value is not None:
            buckets[start].append(value)
    return [(b, round(sum(v) / len(v), 3) if (v := buckets[b]) else None) for b in order]


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def line_chart(series: Sequence[Series], start: datetime, end: datetime, band: tuple[float | None, float | None] | None = None,
               width: int = 560, height: int = 140, pad: int = 28) -> Chart:
    """Lay ``series`` out between ``start`` and ``end``; ``band`` (low, high; None: open) is shaded."""
    values = [v for s in series for _, v in s.points if v is not None]
    lows = [b for b in (band or (None, None)) if b is not None]
    lo = min(values + lows, default=0.0)
    hi = max(values + lows, default=1.0)
    if lo >= 0 and (band is None or band[0] is None or band[0] >= 0):
        lo = min(lo, 0.0) if hi - lo > 0.3 * max(abs(hi), 1e-9) else lo
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    margin = 0.08 * (hi - lo)
    lo, hi = (lo if lo == 0 else lo - margin), hi + margin
    span_s = max((end - start).total_seconds(), 1.0)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def x(at: datetime) -> float:
        return round(pad + inner_w * min(max((at - start).total_seconds() / span_s, 0.0), 1.0), 1)

    def y(v: float) -> float:
        return round(pad + inner_h * (1 - (v - lo) / (hi - lo)), 1)

    paths = []
    for k, s in enumerate(series):
        parts, pen_down = [], False
        for at, v in s.points:
            if v is None:
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{x(at)},{y(v)}")
            pen_down = True
        last = next((v for _, v in reversed(s.points) if v is not None), None)
        paths.append(Path(s.label, " ".join(parts), PALETTE[k % len(PALETTE)], last))
    shaded = None
    if band is not None and (band[0] is not None or band[1] is not None):
        top = y(min(band[1], hi)) if band[1] is not None else float(pad)
        bottom = y(max(band[0], lo)) if band[0] is not None else float(pad + inner_h)
        shaded = (float(pad), top, float(inner_w), round(bottom - top, 1))
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step) * step
    y_ticks = [(y(v), f"{v:g}") for v in (first + i * step for i in range(10)) if v <= hi + 1e-9]
    x_ticks = [(x(start + timedelta(seconds=span_s * f)), (start + timedelta(seconds=span_s * f)).strftime("%H:%M"))
               for f in (0.0, 0.5, 1.0)]
    return Chart(width, height, paths, shaded, y_ticks, x_ticks)
