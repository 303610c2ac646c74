"""The one irreversible blur for heads and faces, on the edge and in central.

Pixelation to coarse blocks, then a Gaussian blur: nobody can be recognised, yet a reviewer still
sees where people stand and roughly how they are dressed, which is what a review needs.

>>> head_region((100, 50, 140, 250))
(100, 50, 140, 94)
>>> head_region((10, 10, 50, 30), label="face")
(10, 10, 50, 30)
>>> frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
>>> out = anonymise(frame, [((40, 10, 80, 110), "person")])
>>> bool((out[10:32, 40:80] != frame[10:32, 40:80]).any()), bool((out[60:, :] == frame[60:, :]).all())
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

#: Share of a person box's height, from its top, that holds the head (adults standing: ~1/7.5;
#: generous, so a tilted or bent head is still covered).
HEAD_SHARE = 0.22
#: Blocks across the shorter side of a blurred region.
BLOCKS = 6


def head_region(xyxy: Sequence[float], label: str = "person") -> tuple[int, int, int, int]:
    """Pixels to blur for one box: all of a face box, the top ``HEAD_SHARE`` of a person box."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    if label == "face":
        return round(x1), round(y1), round(x2), round(y2)
    return round(x1), round(y1), round(x2), round(y1 + HEAD_SHARE * (y2 - y1))


def blur_region(image: np.ndarray, region: tuple[int, int, int, int], margin: float = 0.15) -> None:
    """Anonymise ``region`` (x1, y1, x2, y2 pixels) of ``image`` in place, widened by ``margin``."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = region
    mx, my = int((x2 - x1) * margin), int((y2 - y1) * margin)
    x1, y1, x2, y2 = max(0, x1 - mx), max(0, y1 - my), min(w, x2 + mx), min(h, y2 + my)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return
    patch = image[y1:y2, x1:x2]
    ph, pw = patch.shape[:2]
    small = cv2.resize(patch, (max(1, min(BLOCKS, pw)), max(1, min(BLOCKS, ph))), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (pw, ph), interpolation=cv2.INTER_NEAREST)
    image[y1:y2, x1:x2] = cv2.GaussianBlur(coarse, (0, 0), max(1.0, min(pw, ph) / BLOCKS))


def anonymise(image: np.ndarray, boxes: Iterable[tuple[Sequence[float], str]]) -> np.ndarray:
    """A copy with the head of every ``(xyxy, "person")`` and all of every ``(xyxy, "face")`` blurred."""
    out = image.copy()
    for xyxy, label in boxes:
        if label in ("person", "face"):
            blur_region(out, head_region(xyxy, label))
    return out


def blur_all(image: np.ndarray) -> np.ndarray:
    """An anonymised copy of a whole crop (a face crop kept as evidence)."""
    out = image.copy()
    blur_region(out, (0, 0, image.shape[1], image.shape[0]), margin=0.0)
    return out


def pixelate_all(image: np.ndarray, block_px: int = 16) -> np.ndarray:
    """The whole picture in coarse blocks: used when faces must be hidden but their places are unknown."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // block_px), max(1, h // block_px)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
