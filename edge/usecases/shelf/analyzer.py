"""Use case I on the edge: empty facings per planogram segment, stable over frames.

Every ``interval_s`` seconds of frame time the analyzer finds empty shelf space on the frame
(:mod:`edge.usecases.shelf.gaps.detectors`) and, per planogram segment, the empty share of the
segment (:mod:`edge.usecases.shelf.planogram`). A segment that a tracked person covers (more than
``hidden_fraction`` of it) is not judged on that frame: a shopper in front of a full shelf is not a
gap, and the count of frames in a row waits for a clear view. Per segment it emits:

* ``shelf.gap`` (notice, with the frame as evidence) once the empty share stayed at or above
  ``min_gap_fraction`` for ``min_frames`` analyses in a row; once per gap;
* ``shelf.refilled`` (notice) once the share stayed at or below ``refill_fraction`` for
  ``min_frames`` analyses, with the seconds since the gap's notice.

>>> from datetime import datetime, timedelta, timezone
>>> class Fixed:  # a detector that always sees the left half of the frame empty
...     name = "fixed"
...     def detect(self, bgr): return np.array([[0, 0, 50, 100]], float), np.array([0.9])
>>> cfg = ShelfAnalyzerConfig(min_frames=2, interval_s=0, segments={"top": {"sku": "tea", "facings": 4,
...     "capacity": 8, "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}})
>>> a = ShelfAnalyzer(cfg, {}, detector=Fixed())
>>> t0, frame = datetime(2026, 1, 1, tzinfo=timezone.utc), np.zeros((100, 100, 3), np.uint8)
>>> ctx = lambda s: FrameContext("s1", "c1", t0 + timedelta(seconds=s), (100, 100), frame=frame)
>>> [e.type for s in (0, 1, 2) for e in a.update(Detections.empty(), ctx(s))]
['shelf.gap']
>>> a.live_state()["segments"]["top"]["units_missing"]
4
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import cv2
import numpy as np

from edge.detections import Detections
from edge.usecases.base import EvidenceRequest, FrameContext
from edge.usecases.shelf.config import ShelfAnalyzerConfig, ShelfSegment
from edge.usecases.shelf.gaps.detectors import GapDetector
from edge.usecases.shelf.planogram import boxes_in, covered_share, units_missing
from services.contract import Event, Severity, UseCase
from services.contract.events import Box, Evidence


@dataclass(slots=True)
class _SegmentState:
    """What the analyzer remembers about one segment between analyses."""

    share: float = 0.0  # empty share at the last clear view
    gaps: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # gap boxes in it (fractions)
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))  # their detector scores
    hidden: bool = False
    frames_gap: int = 0  # clear views in a row with a gap
    frames_full: int = 0  # clear views in a row without one
    open_since: datetime | None = None  # a shelf.gap is out (and not yet refilled) since


def build_detector(config: ShelfAnalyzerConfig) -> GapDetector:
    """The configured gap detector (loads its model)."""
    from edge.usecases.shelf.gaps import detectors

    if config.detector == "product_rows":
        return detectors.ProductGapDetector()
    return detectors.LearnedGapDetector(conf=config.conf)


class ShelfAnalyzer:
    """Gaps per planogram segment; see the module docstring for the events.

    Args:
        config: the analyzer's config (segments, detector, thresholds).
        zones: the camera's zones (unused: segments carry their own polygons).
        detector: a gap detector (tests); None builds the configured one.
    """

    use_case: ClassVar[UseCase] = UseCase.I
    type: ClassVar[str] = "shelf"

    def __init__(self, config: ShelfAnalyzerConfig, zones: Mapping[str, Any], detector: GapDetector | None = None) -> None:
        self.config = config
        self.detector = detector or build_detector(config)
        self._state = {name: _SegmentState() for name in config.segments}
        self._last: datetime | None = None

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        if ctx.frame is None:
            return
        if self._last is not None and (ctx.at - self._last).total_seconds() < self.config.interval_s:
            return
        self._last = ctx.at
        width, height = ctx.frame_size
        boxes, scores = self.detector.detect(ctx.frame)
        keep = np.asarray(scores) >= self.config.conf
        gaps = np.asarray(boxes, float).reshape(-1, 4)[keep] / np.array([width, height, width, height], float)
        scores = np.asarray(scores, float)[keep]
        people = tracks.people()
        people_boxes = people.xyxy.reshape(-1, 4) / np.array([width, height, width, height], float)
        for name, segment in self.config.segments.items():
            yield from self._judge(name, segment, gaps, scores, people_boxes, ctx)

    def _judge(self, name: str, segment: ShelfSegment, gaps: np.ndarray, scores: np.ndarray, people: np.ndarray,
               ctx: FrameContext) -> Iterator[Event]:
        state = self._state[name]
        state.hidden = covered_share(segment.polygon, people) > self.config.hidden_fraction
        if state.hidden:  # no verdict on a segment someone stands in front of; the counts wait
            return
        mine = boxes_in(segment.polygon, gaps)
        state.gaps, state.scores = gaps[mine], scores[mine]
        state.share = covered_share(segment.polygon, state.gaps)
        if state.share >= self.config.min_gap_fraction:
            state.frames_gap, state.frames_full = state.frames_gap + 1, 0
        elif state.share <= self.config.refill_fraction:
            state.frames_gap, state.frames_full = 0, state.frames_full + 1
        else:  # between the thresholds: neither count moves on
            state.frames_gap = state.frames_full = 0
        if state.open_since is None and state.frames_gap >= self.config.min_frames:
            state.open_since = ctx.at
            yield self._gap(name, segment, state, ctx)
        elif state.open_since is not None and state.frames_full >= self.config.min_frames:
            yield self._refilled(name, segment, state, ctx)
            state.open_since = None

    # ------------------------------------------------------------------ durable state and live view

    def durable_state(self) -> dict[str, Any]:
        """Segments with a gap notice out, and since when (a restarted worker does not repeat it)."""
        return {"open_gaps": {n: s.open_since.isoformat() for n, s in self._state.items() if s.open_since}}

    def restore_state(self, state: dict[str, Any]) -> None:
        for name, at in dict(state.get("open_gaps", {})).items():
            if name in self._state:
                self._state[name].open_since = datetime.fromisoformat(at)

    def live_state(self) -> dict[str, Any]:
        """Per segment: empty share, units missing, hidden, gap open."""
        return {"segments": {
            name: {"share": round(s.share, 3), "hidden": s.hidden, "open": s.open_since is not None,
                   "units_missing": units_missing(s.share, self.config.segments[name].facings,
                                                  self.config.segments[name].capacity)}
            for name, s in self._state.items()}}

    def overlay(self, image: np.ndarray, state: dict[str, Any]) -> None:
        """Segments (red with a gap open, grey when hidden, green otherwise) and their gap boxes."""
        size = np.array([image.shape[1], image.shape[0]], float)
        for name, segment in self.config.segments.items():
            seg = state.get("segments", {}).get(name, {})
            colour = (128, 128, 128) if seg.get("hidden") else (0, 0, 255) if seg.get("open") else (0, 200, 0)
            poly = np.round(np.asarray(segment.polygon) * size).astype(np.int32)
            cv2.polylines(image, [poly], True, colour, 2)
            for x1, y1, x2, y2 in self._state[name].gaps:
                cv2.rectangle(image, (int(x1 * size[0]), int(y1 * size[1])), (int(x2 * size[0]), int(y2 * size[1])),
                              (0, 165, 255), 2)
            x, y = poly.min(axis=0)
            cv2.putText(image, f"{name} -{seg.get('units_missing', 0)}", (int(x) + 4, int(y) + 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)

    # ------------------------------------------------------------------ events

    def _payload(self, name: str, segment: ShelfSegment) -> dict[str, object]:
        return {"segment": name, "sku": segment.sku, "capacity": segment.capacity, "facings": segment.facings}

    def _gap(self, name: str, segment: ShelfSegment, state: _SegmentState, ctx: FrameContext) -> Event:
        width, height = ctx.frame_size
        pixels = state.gaps * np.array([width, height, width, height], float)
        event = Event(
            use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at,
            type="shelf.gap", severity=Severity.NOTICE,
            payload={**self._payload(name, segment), "gap_fraction": round(min(state.share, 1.0), 4),
                     "units_missing": units_missing(state.share, segment.facings, segment.capacity),
                     "frames": state.frames_gap,
                     "polygon": [[round(x, 4), round(y, 4)] for x, y in segment.polygon],
                     "gaps": [[round(float(np.clip(v, 0, 1)), 4) for v in g] for g in state.gaps[:100]]},
            evidence=Evidence(frame_size=ctx.frame_size, boxes=[
                Box(xyxy=tuple(float(v) for v in b), label="empty_shelf", score=float(np.clip(p, 0, 1)))  # type: ignore[arg-type]
                for b, p in zip(pixels, state.scores, strict=True)]),
        )
        # The picture shows the shelf; under `standard` the evidence stage blurs every tracked person's
        # head and every face in it anyway (an analyzer can only add to that), so nothing to add here.
        return ctx.with_evidence(event, EvidenceRequest())

    def _refilled(self, name: str, segment: ShelfSegment, state: _SegmentState, ctx: FrameContext) -> Event:
        since = (ctx.at - state.open_since).total_seconds() if state.open_since else None
        return Event(
            use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at,
            type="shelf.refilled", severity=Severity.NOTICE,
            payload={**self._payload(name, segment), "gap_for_s": None if since is None else round(since, 3)},
        )
