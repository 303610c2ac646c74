"""Use case B on the edge: people's feet on the floor plan, and distancing notices.

Each frame the analyzer takes the tracked people's feet (bottom centre of the box), keeps those
inside the area the homography was calibrated on (the convex hull of its image points: outside
it the plane model was never checked), and maps them to floor metres. It emits:

* ``floor.positions`` (info) on the first frame and then every ``interval_s`` seconds of frame
  time: the floor points, rounded to 0.1 m and sorted, so no identity or track order leaves the edge;
* ``floor.distancing`` (notice, no review) when pairs of people have stayed closer than
  ``distancing.distance_m`` for ``distancing.min_duration_s``: counts, the closest distance and
  the longest time, at most once per ``cooldown_s``. No picture, no track id.

>>> from datetime import datetime, timedelta, timezone
>>> pairs = [{"image": [0, 0], "floor": [0, 0]}, {"image": [100, 0], "floor": [10, 0]},
...          {"image": [100, 100], "floor": [10, 10]}, {"image": [0, 100], "floor": [0, 10]}]
>>> cfg = FloorAnalyzerConfig(image_size=(100, 100), homography={"pairs": pairs},
...                           distancing={"distance_m": 1.5, "min_duration_s": 1.0})
>>> a = FloorAnalyzer(cfg, {})
>>> tracks = Detections(xyxy=[[40, 0, 44, 50], [45, 0, 49, 50]], score=[0.9, 0.8], class_id=[0, 0], tracker_id=[7, 8])
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> [(e.type, e.payload) for e in a.update(tracks, FrameContext("s1", "c1", t0, (100, 100)))]
[('floor.positions', {'people': 2, 'positions': [[4.2, 5.0], [4.7, 5.0]], 'interval_s': 0.0})]
>>> [(e.type, e.payload["pairs"], e.payload["people"]) for e in a.update(tracks, FrameContext("s1", "c1", t0 + timedelta(seconds=1), (100, 100)))]
[('floor.distancing', 1, 2)]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from edge.detections import Detections
from edge.geometry import Anchor, anchor_points
from edge.usecases.base import FrameContext
from edge.usecases.floor.config import FloorAnalyzerConfig
from edge.usecases.floor.distancing import ClosePair, PairClock
from services.contract import Event, Explanation, Severity, UseCase

RULE = "floor_distancing"


class FloorAnalyzer:
    """Projects tracked people onto the floor plan; see the module docstring for the events.

    Args:
        config: the analyzer's config (homography pairs, interval, distancing).
        zones: the camera's image zones (unused: floor areas live on the floor plan, in central).
    """

    use_case: ClassVar[UseCase] = UseCase.B
    type: ClassVar[str] = "floor"

    def __init__(self, config: FloorAnalyzerConfig, zones: Mapping[str, Any]) -> None:
        self.config = config
        self.homography = config.homography.fit()
        d = config.distancing
        self._clock = PairClock(d.distance_m, d.min_duration_s, d.grace_s) if d else None
        self._last_report: datetime | None = None
        self._last_notice: datetime | None = None
        self._people = 0

    def floor_points(self, tracks: Detections, frame_size: tuple[int, int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Track ids (−1 without a tracker) and floor points (metres) of the people in the calibrated area."""
        people = tracks.people()
        feet = anchor_points(people.xyxy, Anchor.BOTTOM_CENTER).astype(np.float64).reshape(-1, 2)
        width, height = self.config.image_size
        feet = feet * np.array([width / max(frame_size[0], 1), height / max(frame_size[1], 1)])  # to calibration pixels
        ids = (np.full(len(people), -1, dtype=np.int64) if people.tracker_id is None
               else np.asarray(people.tracker_id, dtype=np.int64))
        keep = self.homography.in_calibrated_area(feet) if len(feet) else np.zeros(0, dtype=bool)
        floor = self.homography.to_floor(feet[keep])
        finite = np.isfinite(floor).all(axis=1)
        return ids[keep][finite], floor[finite]

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        ids, floor = self.floor_points(tracks, ctx.frame_size)
        self._people = len(floor)
        since = None if self._last_report is None else (ctx.at - self._last_report).total_seconds()
        if since is None or since >= self.config.interval_s:
            yield self._positions(floor, ctx, since or 0.0)
            self._last_report = ctx.at
        if self._clock is not None and tracks.tracker_id is not None:
            close = self._clock.update(ids.tolist(), floor, ctx.at.timestamp())
            cooled = self._last_notice is None or (ctx.at - self._last_notice).total_seconds() >= self.config.distancing.cooldown_s  # type: ignore[union-attr]
            if close and cooled:
                self._last_notice = ctx.at
                yield self._distancing(close, ctx)

    def live_state(self) -> dict[str, Any]:
        """People on the floor plan in the last frame."""
        return {"floor_people": self._people}

    def _base(self, ctx: FrameContext, **kwargs: object) -> Event:
        return Event(use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at, **kwargs)  # type: ignore[arg-type]

    def _positions(self, floor: npt.NDArray[np.float64], ctx: FrameContext, since_s: float) -> Event:
        # Rounded and sorted: the report says where people stand, not who is who or in which order they were tracked.
        points = sorted([round(float(x), 1), round(float(y), 1)] for x, y in floor)
        return self._base(ctx, type="floor.positions", severity=Severity.INFO,
                          payload={"people": len(points), "positions": points, "interval_s": round(since_s, 3)})

    def _distancing(self, close: list[ClosePair], ctx: FrameContext) -> Event:
        d = self.config.distancing
        assert d is not None
        people = len({p.a for p in close} | {p.b for p in close})
        closest = min(p.distance_m for p in close)
        longest = max(p.duration_s for p in close)
        return self._base(
            ctx, type="floor.distancing", severity=Severity.NOTICE,
            payload={"pairs": len(close), "people": people, "closest_m": round(closest, 2), "longest_s": round(longest, 1),
                     "distance_m": d.distance_m, "min_duration_s": d.min_duration_s},
            explanation=Explanation(
                rule=RULE,
                summary=(f"{len(close)} pair(s) of people ({people} people) stayed closer than {d.distance_m:g} m "
                         f"for at least {d.min_duration_s:g} s (closest {closest:.2f} m, longest {longest:.0f} s)."),
                thresholds={"distance_m": d.distance_m, "min_duration_s": d.min_duration_s},
                measured={"pairs": float(len(close)), "people": float(people), "closest_m": closest, "longest_s": longest},
            ),
        )
