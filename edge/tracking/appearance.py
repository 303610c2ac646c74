"""Colour appearance of a person's box, for telling apart people whose boxes overlap (pure numpy + OpenCV).

ByteTrack associates by box overlap alone, so when two people cross, or one reappears from behind
a lamp post next to another, the nearer box wins and ids swap. Clothing colour is a cheap,
camera-local cue that survives those moments: the upper and lower half of the box (shrunk to keep
background out) each give a small hue-saturation-value histogram, and two appearances are compared
by the Bhattacharyya coefficient. Nothing here identifies anyone beyond this camera's next seconds:
the histograms live in tracker memory only and are never sent or stored.

>>> image = np.zeros((100, 100, 3), np.uint8); image[:, :50] = (0, 0, 255); image[:, 50:] = (255, 0, 0)
>>> a = box_appearances(image, np.array([[5, 5, 45, 95], [55, 5, 95, 95], [10, 5, 40, 95]], np.float32))
>>> d = appearance_distance(a, a)
>>> round(float(d[0, 2]), 3), round(float(d[0, 1]), 3)
(0.0, 1.0)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

_BINS = (8, 4, 2)  # hue, saturation, value: coarse on purpose (lighting changes along a path)
_HALF = int(np.prod(_BINS))
SIZE = 2 * _HALF  # upper half + lower half of the box


def box_appearances(image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """(n, SIZE) appearances of the boxes ``xyxy`` in the BGR ``image``; each half sums to 1 (zeros if empty)."""
    out = np.zeros((len(xyxy), SIZE), np.float32)
    if not len(xyxy):
        return out
    height, width = image.shape[:2]
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    for row, (x0, y0, x1, y1) in enumerate(np.asarray(xyxy, np.float64)):
        w, h = x1 - x0, y1 - y0
        # The middle 60 % of the width and 10-90 % of the height: mostly clothing, little background.
        left, right = int(max(0, x0 + 0.2 * w)), int(min(width, x1 - 0.2 * w))
        top, bottom = int(max(0, y0 + 0.1 * h)), int(min(height, y1 - 0.1 * h))
        if right - left < 2 or bottom - top < 4:
            continue
        middle = (top + bottom) // 2
        for half, (a, b) in enumerate(((top, middle), (middle, bottom))):
            patch = hsv[a:b, left:right]
            hist = cv2.calcHist([patch], [0, 1, 2], None, list(_BINS), [0, 180, 0, 256, 0, 256]).ravel()
            total = hist.sum()
            if total > 0:
                out[row, half * _HALF:(half + 1) * _HALF] = hist / total
    return out


def appearance_distance(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """(n, m) distances in 0..1: 1 - Bhattacharyya coefficient, averaged over the two halves.

    A pair where either appearance is unknown (all zeros) gets 0: no evidence either way.
    """
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ra, rb = np.sqrt(np.maximum(a, 0)).astype(np.float64), np.sqrt(np.maximum(b, 0)).astype(np.float64)
    total, counted = np.zeros((len(a), len(b))), np.zeros((len(a), len(b)))
    for half in range(2):
        s = slice(half * _HALF, (half + 1) * _HALF)
        known = (a[:, s].sum(1)[:, None] > 0) & (b[:, s].sum(1)[None, :] > 0)
        total += np.where(known, 1.0 - ra[:, s] @ rb[:, s].T, 0.0)
        counted += known
    return np.clip(total / np.maximum(counted, 1), 0.0, 1.0)
