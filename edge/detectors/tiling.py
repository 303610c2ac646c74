"""Sliced inference: run any detector on overlapping tiles and merge the results.

Each tile is letterboxed to the network input by the wrapped detector, so a tile of half the
frame's side gives every person about twice the network pixels.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from edge.detections import Detections
from edge.detectors.base import Detector
from edge.detectors.config import TilingConfig
from services.shared.boxes import batched_nms, box_ios, box_iou


def tile_windows(width: int, height: int, rows: int, cols: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Tile rectangles (x0, y0, x1, y1) in pixels covering the frame, neighbours overlapping by ``overlap``.

    >>> tile_windows(640, 480, rows=2, cols=2, overlap=0.25)
    [(0, 0, 366, 274), (274, 0, 640, 274), (0, 206, 366, 480), (274, 206, 640, 480)]
    """

    def spans(length: int, n: int) -> list[tuple[int, int]]:
        side = length / (n - (n - 1) * overlap)
        step = side * (1 - overlap)
        return [(round(i * step), min(length, round(i * step + side))) for i in range(n)]

    return [(x0, y0, x1, y1) for (y0, y1) in spans(height, rows) for (x0, x1) in spans(width, cols)]


def merge_duplicates(
    dets: Detections, metric: Literal["iou", "ios"], thresh: float
) -> Detections:
    """Greedy, class-aware: keep the best-scoring box, drop same-class boxes matching it above ``thresh``."""
    if len(dets) == 0:
        return dets
    overlap = box_ios if metric == "ios" else box_iou
    return dets[batched_nms(dets.xyxy, dets.score, dets.class_id, thresh, overlap)]


def concat(parts: list[Detections]) -> Detections:
    """One Detections from several (tracker ids and data are dropped: tiles are merged before tracking)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    return Detections(
        xyxy=np.concatenate([p.xyxy for p in parts]),
        score=np.concatenate([p.score for p in parts]),
        class_id=np.concatenate([p.class_id for p in parts]),
    )


class TiledDetector:
    """Wraps a detector: runs it on each tile (and the whole frame), boxes back in frame pixels."""

    def __init__(self, inner: Detector, tiles: TilingConfig) -> None:
        self.inner = inner
        self.tiles = tiles
        self.kind = inner.kind
        self.model_name = inner.model_name
        self.model_version = inner.model_version
        # One inference session serves every thread (onnxruntime's run is thread-safe).
        self._pool = ThreadPoolExecutor(tiles.workers, thread_name_prefix="tiles") if tiles.workers > 1 else None

    def detect(self, frame: np.ndarray) -> Detections:
        """Detections in frame pixels for one BGR frame (H, W, 3 uint8)."""
        height, width = frame.shape[:2]
        t = self.tiles
        windows = [(0, 0, width, height)] if t.full_frame else []
        windows += tile_windows(width, height, t.rows, t.cols, t.overlap)

        def run(window: tuple[int, int, int, int]) -> Detections:
            x0, y0, x1, y1 = window
            found = self.inner.detect(np.ascontiguousarray(frame[y0:y1, x0:x1]))
            offset = np.array([x0, y0, x0, y0], dtype=np.float32)
            return Detections(found.xyxy + offset, found.score, found.class_id)

        # Results in window order either way, so the merge (and the count) does not depend on workers.
        parts = list(self._pool.map(run, windows)) if self._pool else [run(w) for w in windows]
        return merge_duplicates(concat(parts), t.merge, t.merge_thresh)
