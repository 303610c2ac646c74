"""Pure pixel functions for snapshots: decode, find head regions, blur them, encode.

Anonymisation is pixelation to coarse blocks followed by a Gaussian blur: irreversible, and
still shows where a person stands and roughly how they are dressed, which is what a reviewer
needs to judge crowding or a visitor at the door.

>>> head_region((100, 50, 140, 250))
(100, 50, 140, 94)
>>> head_region((10, 10, 50, 30), label="face")
(10, 10, 50, 30)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

#: Share of a person box's height, from its top, that holds the head (adults standing: ~1/7.5;
#: generous, so a tilted or bent head is still covered).
HEAD_SHARE = 0.22


class ImageError(ValueError):
    """Bytes that are not a decodable JPEG."""


def decode_jpeg(data: bytes) -> np.ndarray:
    """BGR pixels of a JPEG; raises :class:`ImageError` for anything else."""
    if not data.startswith(b"\xff\xd8"):
        raise ImageError("not a JPEG (missing the FF D8 start-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageError("JPEG could not be decoded (truncated or corrupt)")
    return image


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ImageError("could not encode JPEG")
    return buf.tobytes()


def head_region(xyxy: Sequence[float], label: str = "person") -> tuple[int, int, int, int]:
    """Pixels to blur for one box: all of a face box, the top ``HEAD_SHARE`` of a person box."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    if label == "face":
        return round(x1), round(y1), round(x2), round(y2)
    return round(x1), round(y1), round(x2), round(y1 + HEAD_SHARE * (y2 - y1))


def blur_region(image: np.ndarray, region: tuple[int, int, int, int], margin: float = 0.15) -> None:
    """Anonymise ``region`` (x1, y1, x2, y2 pixels) of ``image`` in place, with a margin."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = region
    mx, my = int((x2 - x1) * margin), int((y2 - y1) * margin)
    x1, y1, x2, y2 = max(0, x1 - mx), max(0, y1 - my), min(w, x2 + mx), min(h, y2 + my)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return
    patch = image[y1:y2, x1:x2]
    ph, pw = patch.shape[:2]
    small = cv2.resize(patch, (max(1, min(6, pw)), max(1, min(6, ph))), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (pw, ph), interpolation=cv2.INTER_NEAREST)
    image[y1:y2, x1:x2] = cv2.GaussianBlur(coarse, (0, 0), max(1.0, min(pw, ph) / 6))


def anonymise(image: np.ndarray, boxes: Iterable[tuple[Sequence[float], str]]) -> np.ndarray:
    """A copy with the head (or face) of every ``(xyxy, label)`` box blurred."""
    out = image.copy()
    for xyxy, label in boxes:
        if label in ("person", "face"):
            blur_region(out, head_region(xyxy, label))
    return out


def pixelate_all(image: np.ndarray, block_px: int = 16) -> np.ndarray:
    """The whole picture in coarse blocks: used when faces must be hidden but their places are unknown."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // block_px), max(1, h // block_px)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
