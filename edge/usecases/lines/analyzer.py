"""Use case F footfall: in/out counts across the camera's counting lines (``line.crossings``).

Each frame, every tracked person's feet (bottom centre of the box) go through one
:class:`~edge.usecases.lines.counter.LineCounter` per line, with the line and its hysteresis
margin scaled to the frame's pixels. Every ``interval_s`` seconds of frame time the analyzer
sends one ``line.crossings`` per line with the people who crossed in and out during the interval.

>>> from datetime import datetime, timedelta, timezone
>>> cfg = LinesAnalyzerConfig(lines={"door": {"start": [0.5, 0.0], "end": [0.5, 1.0]}}, interval_s=1.0)
>>> a = LinesAnalyzer(cfg, {})
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> events = []
>>> for k, x in enumerate([80, 70, 55, 45, 30, 20]):   # one walker, right to left across x = 50
...     box = Detections(xyxy=[[x - 5, 40, x + 5, 90]], score=[0.9], class_id=[0], tracker_id=[3])
...     ctx = FrameContext("s1", "c1", t0 + timedelta(seconds=0.25 * k), (100, 100))
...     events += list(a.update(box, ctx))
>>> [(e.type, e.payload["line"], e.payload["in_count"], e.payload["out_count"]) for e in events]
[('line.crossings', 'door', 1, 0)]
>>> a.live_state()
{'line_totals': {'door': [1, 0]}}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import cv2
import numpy as np

from edge.detections import Detections
from edge.geometry import Anchor, anchor_points
from edge.usecases.base import FrameContext
from edge.usecases.lines.config import CountingLine, LinesAnalyzerConfig
from edge.usecases.lines.counter import Line, LineCounter
from services.contract import Event, Severity, UseCase


def pixel_line(line: CountingLine, frame_size: tuple[int, int]) -> Line:
    """The configured line (fractions) in pixels of a ``(width, height)`` frame.

    >>> pixel_line(CountingLine(start=(0.5, 0.0), end=(0.5, 1.0)), (480, 360))
    Line(start=(240.0, 0.0), end=(240.0, 360.0))
    """
    w, h = frame_size
    return Line((line.start[0] * w, line.start[1] * h), (line.end[0] * w, line.end[1] * h))


@dataclass(slots=True)
class _Interval:
    started: datetime | None = None
    in_count: int = 0
    out_count: int = 0


class LinesAnalyzer:
    """Counts people crossing each configured line; see the module docstring for the events.

    Args:
        config: the lines (fractions of the frame), interval and hysteresis.
        zones: the camera's zones (unused: lines are their own geometry).
    """

    use_case: ClassVar[UseCase] = UseCase.F
    type: ClassVar[str] = "lines"

    def __init__(self, config: LinesAnalyzerConfig, zones: Mapping[str, Any]) -> None:
        self.config = config
        self._counters: dict[str, LineCounter] = {}
        self._size: tuple[int, int] | None = None
        self._intervals = {name: _Interval() for name in config.lines}

    def _counters_for(self, frame_size: tuple[int, int]) -> dict[str, LineCounter]:
        # Built on the first frame (and again if the resolution changes): pixels need the frame size.
        if frame_size != self._size:
            margin, rejoin = self.config.hysteresis * frame_size[1], self.config.rejoin * frame_size[1]
            self._counters = {name: LineCounter(pixel_line(line, frame_size), margin, self.config.forget_after_frames, rejoin)
                              for name, line in self.config.lines.items()}
            self._size = frame_size
        return self._counters

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        people = tracks.people()
        ids = people.tracker_id if people.tracker_id is not None else np.zeros(0, np.int64)
        feet = anchor_points(people.xyxy, Anchor.BOTTOM_CENTER) if people.tracker_id is not None else np.zeros((0, 2))
        for name, counter in self._counters_for(ctx.frame_size).items():
            crossed = counter.update(ids, feet)
            interval = self._intervals[name]
            interval.in_count += len(crossed.in_ids)
            interval.out_count += len(crossed.out_ids)
            if interval.started is None:
                interval.started = ctx.at
            elapsed = (ctx.at - interval.started).total_seconds()
            if elapsed >= self.config.interval_s:
                yield self._crossings(name, interval, elapsed, ctx)
                self._intervals[name] = _Interval(started=ctx.at)

    def _crossings(self, name: str, interval: _Interval, elapsed: float, ctx: FrameContext) -> Event:
        line = self.config.lines[name]
        return Event(
            use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at,
            type="line.crossings", severity=Severity.INFO,
            payload={
                "line": name, "in_count": interval.in_count, "out_count": interval.out_count,
                "interval_s": round(elapsed, 3), "visitors": line.visitors,
                "start": [round(v, 4) for v in line.start], "end": [round(v, 4) for v in line.end],
            },
        )

    # ------------------------------------------------------------------ live view

    def live_state(self) -> dict[str, Any]:
        """In/out totals per line since the worker started."""
        return {"line_totals": {name: list(c.totals) for name, c in self._counters.items()}}

    def overlay(self, image: np.ndarray, state: dict[str, Any]) -> None:
        """Draw each line with an arrow towards its 'in' side and its in/out totals, in place."""
        size = (image.shape[1], image.shape[0])
        for name, cfg in self.config.lines.items():
            line = pixel_line(cfg, size)
            a = tuple(int(round(v)) for v in line.start)
            b = tuple(int(round(v)) for v in line.end)
            cv2.line(image, a, b, (255, 200, 0), 2, cv2.LINE_AA)
            mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            # The right-hand normal of start → end (image coordinates) points to the 'in' side.
            dx, dy = (b[0] - a[0]) / line.length, (b[1] - a[1]) / line.length
            tip = (int(mid[0] - dy * 20), int(mid[1] + dx * 20))
            cv2.arrowedLine(image, (int(mid[0]), int(mid[1])), tip, (255, 200, 0), 2, cv2.LINE_AA, tipLength=0.4)
            totals = state.get("line_totals", {}).get(name, [0, 0])
            cv2.putText(image, f"{name} in {totals[0]} out {totals[1]}", (a[0] + 4, max(14, a[1] + 14)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 200, 0), 1, cv2.LINE_AA)
