"""Evidence pictures, made on the edge as the store's privacy profile allows.

* ``minimal``: no picture ever leaves the worker (:func:`evidence_jpeg` returns None).
* ``standard``: every person's head and every detected face is blurred *before* the JPEG is
  made, so central, the network and the outbox never hold a recognisable face.
* ``identified``: the picture is kept as is (opted-in customers, use case E); central blurs it
  for every viewer whose role may not see faces.

Blurring is :func:`services.shared.anonymise.anonymise`, the same as central's.

>>> import numpy as np
>>> frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
>>> out = anonymise_frame(frame, np.array([[40, 10, 80, 110]], np.float32))
>>> bool((out[10:32, 40:80] != frame[10:32, 40:80]).any()), bool((out[60:, :] == frame[60:, :]).all())
(True, True)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from services.shared.anonymise import anonymise

log = logging.getLogger(__name__)

JPEG_QUALITY = 80


@dataclass(frozen=True, slots=True)
class EvidencePicture:
    jpeg: bytes
    anonymised: bool  # heads and faces blurred (profile standard)


def anonymise_frame(frame: np.ndarray, person_xyxy: np.ndarray, face_xyxy: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``frame`` with each person's head and each face blurred (boxes in pixels, (n, 4))."""
    faces = np.asarray(face_xyxy if face_xyxy is not None else np.zeros((0, 4)), np.float32).reshape(-1, 4)
    people = np.asarray(person_xyxy, np.float32).reshape(-1, 4)
    return anonymise(frame, [(box, "person") for box in people] + [(box, "face") for box in faces])


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
    image = anonymise_frame(frame, person_xyxy, face_xyxy) if anonymised else frame
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("could not encode the evidence picture as JPEG")
    return EvidencePicture(buf.tobytes(), anonymised)
