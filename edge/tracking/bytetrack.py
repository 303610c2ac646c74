"""ByteTrack over :class:`~edge.detections.Detections`, using ultralytics' BYTETracker.

Importing ``ultralytics.trackers`` imports torch (through ``ultralytics.utils``), although the
tracker itself is numpy + lap. The import therefore happens when a :class:`ByteTracker` is built,
never when this module is imported, so the rest of the edge worker stays torch-free until
tracking is switched on.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.detections import Detections
from edge.tracking.config import TrackerConfig


class _Boxes:
    """The minimal ``Boxes``-like view BYTETracker reads: conf, cls, xyxy, xywh, len, mask indexing."""

    __slots__ = ("conf", "cls", "xyxy")

    def __init__(self, xyxy: npt.NDArray[np.float32], conf: npt.NDArray[np.float32], cls: npt.NDArray[np.float32]):
        self.xyxy, self.conf, self.cls = xyxy, conf, cls

    @classmethod
    def of(cls, dets: Detections) -> _Boxes:
        return cls(dets.xyxy, dets.score, dets.class_id.astype(np.float32))

    @property
    def xywh(self) -> npt.NDArray[np.float32]:
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        return np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> _Boxes:
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _new_bytetracker(config: TrackerConfig) -> Any:
    os.environ.setdefault("YOLO_OFFLINE", "1")  # never pip-install lap at run time
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    try:
        from ultralytics.trackers.byte_tracker import BYTETracker
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("tracking needs the ultralytics package (with torch) and lap; install them") from exc
    args = SimpleNamespace(
        tracker_type="bytetrack",
        track_high_thresh=config.track_high_thresh,
        track_low_thresh=config.track_low_thresh,
        new_track_thresh=config.new_track_thresh,
        track_buffer=config.lost_frames,  # this BYTETracker reads the buffer as frames, with no fps scaling
        match_thresh=config.match_thresh,
        fuse_score=config.fuse_score,
    )
    return BYTETracker(args)


class ByteTracker:
    """Detections in, the same detections with ``tracker_id`` out (only those in a live track).

    Boxes, scores and classes are the detector's (not the Kalman-smoothed ones), so what
    analyzers see is what the detector saw. Track ids start at 1 and are unique per tracker.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracker = _new_bytetracker(self.config)

    def update(self, detections: Detections, frame: np.ndarray | None = None) -> Detections:
        """Advance one frame; ``frame`` (BGR) is accepted for trackers that use pixels (ByteTrack does not)."""
        rows = self._tracker.update(_Boxes.of(detections), frame)
        if len(rows) == 0:
            return detections[np.zeros(0, dtype=np.int64)].with_tracker_ids(np.zeros(0, dtype=np.int64))
        idx = rows[:, -1].astype(np.int64)  # index of the detection each live track matched this frame
        return detections[idx].with_tracker_ids(rows[:, 4].astype(np.int64))

    def reset(self) -> None:
        """Forget all tracks (e.g. after a camera reconnect); ids restart at 1."""
        self._tracker.reset()
