"""Overlap of axis-aligned boxes (x1, y1, x2, y2 in pixels) and non-maximum suppression.

>>> box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 30, 30]]).round(3).tolist()
[[0.333, 0.0]]
>>> nms(np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]]), np.array([0.9, 0.8, 0.7]), iou=0.5).tolist()
[0, 2]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

#: An overlap measure: (n, 4) and (m, 4) boxes → (n, m) in 0..1.
Overlap = Callable[[npt.ArrayLike, npt.ArrayLike], npt.NDArray[np.float64]]

MAX_WH = 7680  # per-class box offset for class-aware NMS (ultralytics' max_wh)


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Intersection over union of every box in ``a`` (n, 4) with every box in ``b`` (m, 4) → (n, m)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter, area_a, area_b = _intersections(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_ios(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Intersection over the smaller box's area, (n, 4) x (m, 4) → (n, m): 1 when one box holds the other.

    >>> box_ios([[0, 0, 10, 10]], [[0, 0, 5, 5]]).round(3).tolist()
    [[1.0]]
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter, area_a, area_b = _intersections(a, b)
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)


def _intersections(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    wh = (np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2])).clip(0)
    return wh[..., 0] * wh[..., 1], (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1), (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)


def nms(xyxy: npt.ArrayLike, score: npt.ArrayLike, iou: float, overlap: Overlap = box_iou) -> npt.NDArray[np.int64]:
    """Greedy non-maximum suppression; indices of kept boxes, best score first.

    A box is dropped when its overlap with a better kept box is above ``iou`` (torchvision
    semantics). ``overlap`` replaces IoU as the measure (``iou`` is then that measure's threshold).
    """
    order = np.argsort(-np.asarray(score), kind="stable")
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)[order]
    keep: list[int] = []
    alive = np.ones(len(order), dtype=bool)
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(int(order[i]))
        rest = np.flatnonzero(alive[i + 1 :]) + i + 1
        if len(rest):
            alive[rest[overlap(boxes[i : i + 1], boxes[rest])[0] > iou]] = False
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    xyxy: npt.ArrayLike, score: npt.ArrayLike, class_id: npt.ArrayLike, iou: float, overlap: Overlap = box_iou
) -> npt.NDArray[np.int64]:
    """Class-aware NMS: boxes of different classes never suppress each other.

    >>> batched_nms([[0, 0, 10, 10], [1, 0, 11, 10]], [0.9, 0.8], [0, 1], iou=0.5).tolist()
    [0, 1]
    """
    # Shift each class far away from the others, so no two classes ever overlap.
    offset = np.asarray(class_id, np.float64).reshape(-1, 1) * MAX_WH
    return nms(np.asarray(xyxy, np.float64).reshape(-1, 4) + offset, score, iou, overlap)
