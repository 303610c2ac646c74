"""From empty-space boxes to units missing per planogram segment (pure functions).

The segment polygon and the gap boxes are drawn on a coarse grid of the frame; the empty share
of a segment is the share of its cells under a gap box. Empty facings = round(share x facings),
units missing = empty facings x units per facing (capacity / facings), never above capacity.

>>> square = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]
>>> share = covered_share(square, np.array([[0, 0, 0.25, 0.5]]))
>>> round(share, 1)
0.5
>>> units_missing(share, facings=4, capacity=12)
6
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

GRID = 200  # cells per frame side: 0.5 % of the frame, fine enough for facings, cheap to draw


def _polygon_mask(polygon: Sequence[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros((GRID, GRID), np.uint8)
    pts = np.round(np.asarray(polygon, float) * GRID).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def _boxes_mask(boxes: np.ndarray) -> np.ndarray:
    mask = np.zeros((GRID, GRID), bool)
    for x1, y1, x2, y2 in np.asarray(boxes, float).reshape(-1, 4):
        c1, r1 = int(np.floor(max(x1, 0) * GRID)), int(np.floor(max(y1, 0) * GRID))
        c2, r2 = int(np.ceil(min(x2, 1) * GRID)), int(np.ceil(min(y2, 1) * GRID))
        mask[r1:r2, c1:c2] = True
    return mask


def covered_share(polygon: Sequence[tuple[float, float]], boxes: np.ndarray) -> float:
    """Share (0-1) of a polygon covered by boxes; both in fractions of the frame."""
    seg = _polygon_mask(polygon)
    area = int(seg.sum())
    if area == 0:
        return 0.0
    return float((seg & _boxes_mask(boxes)).sum() / area)


def boxes_in(polygon: Sequence[tuple[float, float]], boxes: np.ndarray, min_share: float = 0.3) -> np.ndarray:
    """Which boxes have at least ``min_share`` of their own area inside the polygon (a bool mask)."""
    seg = _polygon_mask(polygon)
    keep = []
    for box in np.asarray(boxes, float).reshape(-1, 4):
        m = _boxes_mask(box[None])
        keep.append(m.sum() > 0 and (m & seg).sum() / m.sum() >= min_share)
    return np.asarray(keep, bool)


def units_missing(share: float, facings: int, capacity: int) -> int:
    """Units to refill for an empty share of a segment (whole facings, at most the capacity)."""
    empty_facings = min(facings, round(share * facings))
    return min(capacity, round(empty_facings * capacity / facings))
