"""Pure pixel functions for snapshots: decode and encode JPEG.

Blurring heads and faces is :mod:`services.shared.anonymise`, the same function the edge uses.
"""

from __future__ import annotations

import cv2
import numpy as np


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
