"""Detect on every Nth frame and track; in between, the last tracks carry over.

People move little in a fraction of a second and detection is the expensive stage, so the live
worker runs the detector on every ``detect_every``-th frame only. This class is that rule, in one
place, for the worker and for ``anshin eval track`` alike, so the tracking figures are figures of
what runs live.

>>> from edge.detections import Detections
>>> class OnePerson:
...     def detect(self, image):
...         return Detections(xyxy=[[10, 10, 20, 40]], score=[0.9], class_id=[0])
>>> class Numbering:
...     def update(self, detections, image):
...         return detections.with_tracker_ids(np.arange(1, len(detections) + 1))
>>> cadence = DetectTrackCadence(OnePerson(), Numbering(), detect_every=2)
>>> [cadence.step(np.zeros((50, 50, 3), np.uint8)).detected for _ in range(4)]
[True, False, True, False]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from edge.detections import Detections


class Tracker(Protocol):
    def update(self, detections: Detections, image: np.ndarray) -> Detections: ...


@dataclass(frozen=True, slots=True)
class CadenceStep:
    """One frame through the cadence.

    Attributes:
        tracks: the tracks to use for this frame (fresh on a detect frame, carried otherwise).
        detected: whether the detector ran on this frame.
        detect_s / track_s: seconds spent detecting and tracking (0 on carried frames).
    """

    tracks: Detections
    detected: bool
    detect_s: float = 0.0
    track_s: float = 0.0


class DetectTrackCadence:
    """Runs ``detector`` and ``tracker`` on every ``detect_every``-th frame, from the first one."""

    def __init__(self, detector: Any, tracker: Tracker, detect_every: int = 1) -> None:
        if detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {detect_every}")
        self.detector = detector
        self.tracker = tracker
        self.detect_every = detect_every
        self._frames = 0
        self._tracks = Detections.empty().with_tracker_ids(np.zeros(0, np.int64))

    def step(self, image: np.ndarray) -> CadenceStep:
        detect = self._frames % self.detect_every == 0
        self._frames += 1
        if not detect:
            return CadenceStep(self._tracks, False)
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        t1 = time.perf_counter()
        self._tracks = self.tracker.update(detections, image)
        t2 = time.perf_counter()
        return CadenceStep(self._tracks, True, t1 - t0, t2 - t1)
