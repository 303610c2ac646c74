"""Mask-classification figures: balanced accuracy, per-class recall and recall per slice.

Labels are 1 = with mask, 0 = without mask. Slices follow the fairness practice of reporting
accuracy per subgroup the data allows: class, image size and lighting.

>>> y = np.array([1, 1, 1, 0, 0])
>>> p = np.array([1, 1, 0, 0, 0])
>>> m = binary_figures(y, p)
>>> m["balanced_accuracy"], m["recall_with_mask"], m["recall_without_mask"]
(0.8333, 0.6667, 1.0)
>>> size_bucket(100, 300), light_bucket(40.0)
('64-127px', 'dark')
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt

SIZE_EDGES = (64, 128, 256)  # shorter image side, pixels
LIGHT_EDGES = (70.0, 170.0)  # mean grey level 0-255


def size_bucket(width: int, height: int) -> str:
    """Bucket of the image's shorter side: '<64px', '64-127px', '128-255px' or '>=256px'."""
    side = min(width, height)
    if side < SIZE_EDGES[0]:
        return f"<{SIZE_EDGES[0]}px"
    for lo, hi in zip(SIZE_EDGES, SIZE_EDGES[1:], strict=False):
        if side < hi:
            return f"{lo}-{hi - 1}px"
    return f">={SIZE_EDGES[-1]}px"


def light_bucket(mean_grey: float) -> str:
    """'dark' (< 70), 'normal' or 'bright' (≥ 170) by mean grey level of the image."""
    if mean_grey < LIGHT_EDGES[0]:
        return "dark"
    return "bright" if mean_grey >= LIGHT_EDGES[1] else "normal"


def _recall(y: np.ndarray, p: np.ndarray, cls: int) -> float:
    sel = y == cls
    return float((p[sel] == cls).mean()) if sel.any() else float("nan")


def binary_figures(y: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, float]:
    """Balanced accuracy and both recalls, rounded to 4 places (NaN recall when a class is absent)."""
    y, p = np.asarray(y, int), np.asarray(predicted, int)
    r1, r0 = _recall(y, p, 1), _recall(y, p, 0)
    recalls = [r for r in (r1, r0) if not np.isnan(r)]
    ba = float(np.mean(recalls)) if recalls else float("nan")
    return {"balanced_accuracy": round(ba, 4), "recall_with_mask": round(r1, 4), "recall_without_mask": round(r0, 4)}


def slice_recalls(y: npt.ArrayLike, predicted: npt.ArrayLike, slices: dict[str, list[str]]) -> list[dict[str, object]]:
    """One row per (slice kind, bucket, class): n and recall, so a weak subgroup is visible.

    ``slices`` maps a slice kind (e.g. 'size') to one bucket name per image.
    """
    y, p = np.asarray(y, int), np.asarray(predicted, int)
    rows: list[dict[str, object]] = []
    names = {1: "with_mask", 0: "without_mask"}
    for kind, buckets in slices.items():
        groups: dict[str, list[int]] = defaultdict(list)
        for i, b in enumerate(buckets):
            groups[b].append(i)
        for bucket in sorted(groups):
            idx = np.asarray(groups[bucket])
            for cls in (1, 0):
                sel = idx[y[idx] == cls]
                if len(sel):
                    rows.append({"slice": kind, "bucket": bucket, "class": names[cls], "n": int(len(sel)),
                                 "recall": round(float((p[sel] == cls).mean()), 4)})
    return rows
