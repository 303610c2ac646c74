"""Evidence pictures, made on the edge as the store's privacy profile allows.

* ``minimal``: no picture ever leaves the worker (:func:`evidence_jpeg` returns None).
* ``standard``: every person's head and every detected face is blurred *before* the JPEG is
  made, so central, the network and the outbox never hold a recognisable face.
* ``identified``: the picture is kept as is (opted-in customers, use case E); central blurs it
  for every viewer whose role may not see faces.

Blurring is pixelation to coarse blocks plus a Gaussian blur: irreversible, yet it still shows
where people stand, which is what a reviewer checks.

>>> head_region((100, 50, 140, 250))
(100, 50, 140, 94)
>>> import numpy as np
>>> frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
>>> out = anonymise(frame, np.array([[40, 10, 80, 110]], np.float32))
>>> bool((out[10:32, 40:80] != frame[10:32, 40:80]).any()), bool((out[60:, :] == frame[60:, :]).all())
(True, True)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Share of a person box's height, from its top, that holds the head (generous: a bent or
#: tilted head is still covered).
HEAD_SHARE = 0.22
JPEG_QUALITY = 80


@dataclass(frozen=True, slots=True)
class EvidencePicture:
    jpeg: bytes
    anonymised: bool  # heads and faces blurred (profile standard)


def head_region(xyxy: Sequence[float], face: bool = False) -> tuple[int, int, int, int]:
    """Pixels to blur for a box: all of a face box, the top ``HEAD_SHARE`` of a person box."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    if face:
        return round(x1), round(y1), round(x2), round(y2)
    return round(x1), round(y1), round(x2), round(y1 + HEAD_SHARE * (y2 - y1))


def _blur(image: np.ndarray, region: tuple[int, int, int, int], margin: float = 0.15) -> None:
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


def anonymise(frame: np.ndarray, person_xyxy: np.ndarray, face_xyxy: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``frame`` with each person's head and each face blurred (boxes in pixels, (n, 4))."""
    out = frame.copy()
    for box in np.asarray(person_xyxy, np.float32).reshape(-1, 4):
        _blur(out, head_region(box))
    for box in np.asarray(face_xyxy if face_xyxy is not None else np.zeros((0, 4)), np.float32).reshape(-1, 4):
        _blur(out, head_region(box, face=True))
    return out


class FaceFinder:
    """Faces to blur besides the person boxes' heads (people seen close up, whose box is only a
    face, or bystanders the person detector missed). Uses YuNet when its model is available;
    without it, person heads are still blurred and a warning says faces may be missed."""

    def __init__(self) -> None:
        self._detector = None
        self._tried = False

    def find(self, frame: np.ndarray) -> np.ndarray:
        if not self._tried:
            self._tried = True
            try:
                from edge.faces import YuNetFaceDetector

                self._detector = YuNetFaceDetector()
            except Exception as exc:  # a missing model must not stop evidence: heads are still blurred
                log.warning("no face detector for evidence blurring (%s); blurring person heads only", exc)
        if self._detector is None:
            return np.zeros((0, 4), np.float32)
        return np.asarray(self._detector.detect(frame).xyxy, np.float32).reshape(-1, 4)


def evidence_jpeg(
    frame: np.ndarray, privacy_profile: str, person_xyxy: np.ndarray, face_xyxy: np.ndarray | None = None,
    quality: int = JPEG_QUALITY,
) -> EvidencePicture | None:
    """The picture that may leave the edge for this profile, or None (``minimal``)."""
    if privacy_profile == "minimal":
        return None
    anonymised = privacy_profile != "identified"
    image = anonymise(frame, person_xyxy, face_xyxy) if anonymised else frame
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("could not encode the evidence picture as JPEG")
    return EvidencePicture(buf.tobytes(), anonymised)
