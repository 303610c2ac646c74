"""Use case F: people per zone against its capacity.

Each frame, a tracked person counts in a zone when the bottom centre of their box (their feet)
lies inside the zone polygon. Per zone the analyzer emits:

* ``zone.occupancy`` (info) every ``interval_s`` seconds of frame time: the current count, the
  capacity, their ratio, the peak and the number of distinct tracks seen in the interval;
* ``zone.overcrowded`` (warning, review required, with an :class:`Explanation` and the people's
  boxes as evidence) once the count stayed above capacity for ``min_frames`` consecutive frames;
* ``zone.cleared`` (notice) when the count falls to ``capacity - hysteresis`` or below, which
  also re-arms the alert. Hysteresis keeps one person stepping in and out of a full zone from
  raising an alert every few seconds.

>>> from datetime import datetime, timezone
>>> from edge.config import ZoneConfig
>>> zones = {"door": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])}
>>> a = OccupancyAnalyzer(OccupancyAnalyzerConfig(zones={"door": {"capacity": 1}}, min_frames=1), zones)
>>> tracks = Detections(xyxy=[[0, 0, 10, 10], [20, 0, 30, 10]], score=[0.9, 0.8], class_id=[0, 0], tracker_id=[1, 2])
>>> ctx = FrameContext("s1", "c1", datetime(2026, 1, 1, tzinfo=timezone.utc), (100, 100))
>>> [(e.type, e.payload["count"]) for e in a.update(tracks, ctx)]
[('zone.occupancy', 2), ('zone.overcrowded', 2)]
>>> a.live_state()
{'zone_counts': {'door': 2}}

With a count calibration (``count:`` in the config, :mod:`edge.usecases.occupancy.counting`)
a zone's count is the calibrated estimate, rounded: the whole frame's correction spread as a
per-detection weight over the zone's people. Zone payloads then also carry ``raw_count`` (people
boxes in the zone) and ``calibrated`` (false outside the calibration's valid range, where the
count is the raw one), and :meth:`OccupancyAnalyzer.live_state` the whole-frame estimate.

For a live view the analyzer offers :meth:`OccupancyAnalyzer.live_state` (people per zone) and
:meth:`OccupancyAnalyzer.overlay` (zone outlines, red when over capacity, with count/capacity).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import cv2
import numpy as np

from edge.config import ZoneConfig
from edge.detections import Detections
from edge.geometry import Anchor, anchor_points, inside, to_pixels
from edge.usecases.base import EvidenceRequest, FrameContext
from edge.usecases.occupancy.config import OccupancyAnalyzerConfig
from edge.usecases.occupancy.counting import FrameCount, PeopleCounter
from services.contract import Event, Explanation, Severity, UseCase
from services.contract.events import Box, Evidence, ModelRef

RULE = "occupancy_over_capacity"


@dataclass(frozen=True, slots=True)
class _Zone:
    """One watched zone: the camera's polygon and F's capacity for it."""

    polygon: list[tuple[float, float]]
    capacity: int


@dataclass(slots=True)
class _ZoneState:
    """What the analyzer remembers about one zone between frames."""

    frames_over: int = 0  # consecutive frames with count > capacity
    alerting: bool = False  # an overcrowded alert is out and not yet cleared
    alert_at: datetime | None = None
    last_report: datetime | None = None  # when the last zone.occupancy went out
    peak: int = 0  # highest count since then
    tracks_seen: set[int] = field(default_factory=set)  # distinct track ids in the zone since then
    count: int = 0
    raw: int = 0  # person boxes in the zone (count before calibration)


class OccupancyAnalyzer:
    """Counts tracked people per zone; see the module docstring for the events.

    Args:
        config: the analyzer's config (zones with capacities, interval, hysteresis, min_frames).
        zones: the camera's zones by name (normalised polygons).
    """

    use_case: ClassVar[UseCase] = UseCase.F
    type: ClassVar[str] = "occupancy"

    def __init__(self, config: OccupancyAnalyzerConfig, zones: Mapping[str, ZoneConfig]) -> None:
        missing = [n for n in config.zones if n not in zones]
        if missing:
            raise ValueError(f"occupancy analyzer: unknown zone(s) {missing}; defined: {sorted(zones)}")
        self.config = config
        self.zones = {name: _Zone(list(zones[name].polygon), watch.capacity) for name, watch in config.zones.items()}
        self._state = {name: _ZoneState() for name in self.zones}
        count = config.count
        self._counter = PeopleCounter.from_file(count.calibration, count.valid_detected) if count else PeopleCounter(None)
        self._frame = FrameCount(0, 0.0, False)

    @property
    def counts(self) -> dict[str, int]:
        """People per zone in the last frame."""
        return {name: s.count for name, s in self._state.items()}

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        people = tracks.people()
        self._frame = self._counter.count(len(people), ctx.model_version, ctx.at)
        feet = anchor_points(people.xyxy, Anchor.BOTTOM_CENTER)
        for name, zone in self.zones.items():
            mask = inside(feet, to_pixels(zone.polygon, ctx.frame_size))
            yield from self._update_zone(name, zone, people[mask], ctx)

    def _update_zone(self, name: str, zone: _Zone, present: Detections, ctx: FrameContext) -> Iterator[Event]:
        state = self._state[name]
        count = zone_count(self._frame, len(present))
        state.count, state.raw = count, len(present)
        state.peak = max(state.peak, count)
        if present.tracker_id is not None:
            state.tracks_seen.update(int(t) for t in present.tracker_id)

        # Report on the first frame (a dashboard has a value at once), then every interval_s.
        since = None if state.last_report is None else (ctx.at - state.last_report).total_seconds()
        if since is None or since >= self.config.interval_s:
            yield self._occupancy(name, zone, state, ctx, since or 0.0)
            state.last_report, state.peak, state.tracks_seen = ctx.at, 0, set()

        state.frames_over = state.frames_over + 1 if count > zone.capacity else 0
        if not state.alerting and state.frames_over >= self.config.min_frames:
            state.alerting, state.alert_at = True, ctx.at
            yield self._overcrowded(name, zone, state, present, ctx)
        elif state.alerting and count <= zone.capacity - self.config.hysteresis:
            yield self._cleared(name, zone, state, ctx)
            state.alerting, state.alert_at = False, None

    # ------------------------------------------------------------------ surviving a restart

    def durable_state(self) -> dict[str, Any]:
        """The zones with an overcrowded alert out and not yet cleared, and since when.

        >>> from datetime import datetime, timezone
        >>> from edge.usecases.occupancy.config import OccupancyAnalyzerConfig
        >>> from edge.config import ZoneConfig
        >>> zones = {"door": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])}
        >>> a = OccupancyAnalyzer(OccupancyAnalyzerConfig(zones={"door": {"capacity": 1}}), zones)
        >>> a.restore_state({"open_alerts": {"door": "2026-01-01T09:00:00+00:00"}})
        >>> a.durable_state()
        {'open_alerts': {'door': '2026-01-01T09:00:00+00:00'}}
        """
        return {"open_alerts": {name: s.alert_at.isoformat() for name, s in self._state.items() if s.alerting and s.alert_at}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take back the open alerts of a crashed run: each is cleared (``zone.cleared``) once its
        zone is under capacity again, and not raised a second time while it stays crowded."""
        for name, at in dict(state.get("open_alerts", {})).items():
            if name in self._state:  # a zone no longer watched has nothing to clear here
                zone = self._state[name]
                zone.alerting, zone.alert_at = True, datetime.fromisoformat(at)
                zone.frames_over = self.config.min_frames

    # ------------------------------------------------------------------ live view

    def live_state(self) -> dict[str, Any]:
        """People per watched zone in the last frame (and, with a calibration, in the whole frame)."""
        if self.config.count is None:
            return {"zone_counts": self.counts}
        return {"zone_counts": self.counts, "people": round(self._frame.people, 1), "calibrated": self._frame.calibrated}

    def overlay(self, image: np.ndarray, state: dict[str, Any]) -> None:
        """Draw each zone (red when over capacity) with its count/capacity onto ``image``, in place."""
        counts = state.get("zone_counts", {})
        size = (image.shape[1], image.shape[0])
        for name, zone in self.zones.items():
            poly = to_pixels(zone.polygon, size).round().astype(np.int32)
            colour = (0, 0, 255) if counts.get(name, 0) > zone.capacity else (0, 200, 0)
            cv2.polylines(image, [poly], isClosed=True, color=colour, thickness=2)
            x, y = poly.min(axis=0)
            cv2.putText(image, f"{name} {counts.get(name, 0)}/{zone.capacity}", (int(x) + 4, int(y) + 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
        if "people" in state:
            label = f"people ~{state['people']:.0f}" + ("" if state.get("calibrated") else " (raw, uncalibrated)")
            cv2.putText(image, label, (8, size[1] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)

    # ------------------------------------------------------------------ events

    def _zone_payload(self, name: str, zone: _Zone, state: _ZoneState) -> dict[str, object]:
        """The zone fields, plus the raw count and whether it was calibrated when the camera has a calibration."""
        payload = _zone_payload(name, zone, state.count)
        if self.config.count is not None:
            payload.update(raw_count=state.raw, calibrated=self._frame.calibrated)
        return payload

    def _base(self, ctx: FrameContext, **kwargs: object) -> Event:
        return Event(use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at, **kwargs)  # type: ignore[arg-type]

    def _occupancy(self, name: str, zone: _Zone, state: _ZoneState, ctx: FrameContext, since_s: float) -> Event:
        return self._base(
            ctx,
            type="zone.occupancy",
            severity=Severity.INFO,
            payload={
                **self._zone_payload(name, zone, state),
                "peak_count": state.peak,
                "unique_tracks": len(state.tracks_seen),
                "interval_s": round(since_s, 3),  # seconds covered by peak_count and unique_tracks
                "polygon": [[round(x, 4), round(y, 4)] for x, y in zone.polygon],  # fractions of the frame, for maps
            },
        )

    def _overcrowded(self, name: str, zone: _Zone, state: _ZoneState, present: Detections, ctx: FrameContext) -> Event:
        count = state.count
        boxes = [
            Box(
                xyxy=tuple(float(v) for v in present.xyxy[k]),  # type: ignore[arg-type]
                label="person",
                score=float(np.clip(present.score[k], 0.0, 1.0)),
                track_id=None if present.tracker_id is None else int(present.tracker_id[k]),
            )
            for k in range(len(present))
        ]
        model = ModelRef(name=ctx.model_name, version=ctx.model_version or "unknown") if ctx.model_name else None
        measured = {"count": float(count), "consecutive_frames": float(state.frames_over)}
        how = ""
        if self.config.count is not None:
            measured["raw_count"] = float(state.raw)
            how = (f" Estimated from {state.raw} detected people with the camera's count calibration."
                   if self._frame.calibrated else f" Not calibrated: {self._frame.note}.")
        explanation = Explanation(
            rule=RULE,
            summary=(
                f"{count} people in zone '{name}' for {state.frames_over} consecutive frames; "
                f"capacity {zone.capacity}.{how}"
            ),
            thresholds={
                "capacity": float(zone.capacity),
                "hysteresis": float(self.config.hysteresis),
                "min_frames": float(self.config.min_frames),
            },
            measured=measured,
            model=model,
        )
        event = self._base(
            ctx,
            type="zone.overcrowded",
            severity=Severity.WARNING,
            review_required=True,
            payload=self._zone_payload(name, zone, state),
            explanation=explanation,
            evidence=Evidence(frame_size=ctx.frame_size, boxes=boxes, scores={"mean_person_score": _mean(present.score)}),
        )
        # The reviewer sees the frame with the people in the zone; their heads are blurred (standard).
        return ctx.with_evidence(event, EvidenceRequest(blur=tuple((b.xyxy, "person") for b in boxes)))

    def _cleared(self, name: str, zone: _Zone, state: _ZoneState, ctx: FrameContext) -> Event:
        duration = (ctx.at - state.alert_at).total_seconds() if state.alert_at else 0.0
        return self._base(
            ctx,
            type="zone.cleared",
            severity=Severity.NOTICE,
            payload={
                **self._zone_payload(name, zone, state),
                "overcrowded_for_s": round(duration, 3),
            },
            explanation=Explanation(
                rule="occupancy_back_under_capacity",
                summary=f"zone '{name}' is back to {state.count} people (capacity {zone.capacity}).",
                thresholds={"capacity": float(zone.capacity), "clear_at_or_below": float(zone.capacity - self.config.hysteresis)},
                measured={"count": float(state.count)},
            ),
        )


def _mean(values: np.ndarray) -> float:
    return round(float(np.mean(values)), 4) if len(values) else 0.0


def zone_count(frame: FrameCount, boxes: int) -> int:
    """People in a zone with ``boxes`` of the frame's person boxes: the (calibrated) estimate, rounded.

    >>> zone_count(FrameCount(10, 18.0, True), 4), zone_count(FrameCount(10, 10.0, False), 4)
    (7, 4)
    """
    return int(round(frame.in_zone(boxes)))


def _zone_payload(name: str, zone: _Zone, count: int) -> dict[str, object]:
    """What every zone event says about the zone: name, people, capacity and their ratio."""
    return {"zone": name, "count": count, "capacity": zone.capacity, "occupancy_ratio": round(count / zone.capacity, 3)}
