"""Association helpers for ByteTrack: fused costs and a thresholded one-to-one assignment (pure).

>>> tracks = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], dtype=np.float64)
>>> dets = np.array([[51, 50, 61, 60], [1, 0, 11, 10], [200, 200, 210, 210]], dtype=np.float64)
>>> from services.shared.boxes import box_iou
>>> a = assign(1 - box_iou(tracks, dets), max_cost=0.8)
>>> a.matches.tolist(), a.unmatched_rows.tolist(), a.unmatched_cols.tolist()
([[0, 1], [1, 0]], [], [2])
"""

from __future__ import annotations

from dataclasses import dataclass

import lap
import numpy as np
import numpy.typing as npt


def fused_cost(iou: npt.NDArray[np.float64], score: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Association cost ``1 - IoU x score`` (n tracks, m detections): a faint detection must overlap more.

    >>> fused_cost(np.array([[1.0, 0.5]]), [0.5, 1.0]).tolist()
    [[0.5, 0.5]]
    """
    return 1.0 - iou * np.asarray(score, dtype=np.float64)[None, :]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Result of :func:`assign`, as row/column indices of the cost matrix.

    Attributes:
        matches: (k, 2) int64 ``(row, col)`` pairs, by ascending row.
        unmatched_rows: (n - k,) int64, ascending.
        unmatched_cols: (m - k,) int64, ascending.
    """

    matches: npt.NDArray[np.int64]
    unmatched_rows: npt.NDArray[np.int64]
    unmatched_cols: npt.NDArray[np.int64]


def assign(cost: npt.NDArray[np.float64], max_cost: float) -> Assignment:
    """Minimum-cost one-to-one matching in which a pair costing more than ``max_cost`` is never used.

    Solved with Jonker-Volgenant (``lap.lapjv``) on the cost matrix extended so that every row
    and column may stay unmatched at ``max_cost / 2`` (``cost_limit``): leaving a track and a
    detection apart then costs ``max_cost``, so no pair above it is worth making. This is the
    assignment ByteTrack's reference code makes (it can differ from an unbounded assignment
    filtered afterwards).
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        return Assignment(np.zeros((0, 2), np.int64), np.arange(n, dtype=np.int64), np.arange(m, dtype=np.int64))
    _, col_of_row, row_of_col = lap.lapjv(np.asarray(cost, dtype=np.float64), extend_cost=True, cost_limit=max_cost)
    rows = np.flatnonzero(col_of_row >= 0)
    matches = np.column_stack([rows, col_of_row[rows]]).astype(np.int64)
    return Assignment(matches, np.flatnonzero(col_of_row < 0), np.flatnonzero(row_of_col < 0))
