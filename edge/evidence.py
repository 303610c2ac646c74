"""The evidence stage: the one place where pictures that leave the edge are made.

Analyzers ask for a picture with an event (:class:`edge.usecases.base.EvidenceRequest`); once
per frame the worker hands the frame, those requests, the tracks and the frame's faces to
:func:`render_evidence`, which makes one picture for all of them as the store's privacy profile
allows:

* ``minimal``: no picture ever leaves the worker (None).
* ``standard``: every tracked person's head, every face found in the frame and whatever the
  requests ask to blur are blurred *before* the JPEG is made, so central, the network and the
  outbox never hold a recognisable face.
* ``identified``: the picture is kept as is (opted-in customers, use case E); central blurs it
  for every viewer whose role may not see faces.

The boxes a reviewer looks at are the event's own ``evidence.boxes``; central draws them.
Live pictures for the store view (:func:`live_picture`) are always made as under ``standard``.
Blurring is :func:`services.shared.anonymise.anonymise`, the same as central's.

>>> import numpy as np
>>> frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
>>> picture = evidence_jpeg(frame, "standard", np.array([[40, 10, 80, 110]], np.float32))
>>> out = cv2.imdecode(np.frombuffer(picture.jpeg, np.uint8), cv2.IMREAD_COLOR)
>>> picture.anonymised, out.shape, evidence_jpeg(frame, "minimal", np.zeros((0, 4)))
(True, (120, 160, 3), None)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.detections import Detections
from edge.faces import Faces
from edge.usecases.base import EvidenceRequest
from services.shared.anonymise import anonymise

log = logging.getLogger(__name__)

JPEG_QUALITY = 80


@dataclass(frozen=True, slots=True)
class EvidencePicture:
    jpeg: bytes
    anonymised: bool  # heads and faces blurred (profile standard)


def evidence_jpeg(
    frame: np.ndarray, privacy_profile: str, person_xyxy: np.ndarray, face_xyxy: np.ndarray | None = None,
    quality: int = JPEG_QUALITY,
) -> EvidencePicture | None:
    """The picture that may leave the edge for this profile, or None (``minimal``)."""
    if privacy_profile == "minimal":
        return None
    anonymised = privacy_profile != "identified"
    faces = np.asarray(face_xyxy if face_xyxy is not None else np.zeros((0, 4)), np.float32).reshape(-1, 4)
    people = np.asarray(person_xyxy, np.float32).reshape(-1, 4)
    boxes = [(box, "person") for box in people] + [(box, "face") for box in faces]
    image = anonymise(frame, boxes) if anonymised else frame
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("could not encode the evidence picture as JPEG")
    return EvidencePicture(buf.tobytes(), anonymised)


def render_evidence(
    frame: np.ndarray, privacy_profile: str, requests: Sequence[EvidenceRequest], tracks: Detections,
    faces: Callable[[], Faces],
) -> EvidencePicture | None:
    """One picture of ``frame`` for all of this frame's requests, or None (``minimal``, or nothing asked).

    ``faces`` is called only when faces must be blurred (``standard``), so a frame whose picture
    is not needed costs no face detection.
    """
    if privacy_profile == "minimal" or not requests:
        return None
    wanted = [box for request in requests for box in request.blur]
    people = [tracks.people().xyxy.reshape(-1, 4), np.array([b for b, kind in wanted if kind == "person"]).reshape(-1, 4)]
    face_boxes = [np.array([b for b, kind in wanted if kind == "face"]).reshape(-1, 4)]
    if privacy_profile == "standard":
        face_boxes.append(faces().xyxy.reshape(-1, 4))
    return evidence_jpeg(frame, privacy_profile, np.vstack(people).astype(np.float32), np.vstack(face_boxes).astype(np.float32))


def live_picture(frame: np.ndarray, tracks: Detections, faces: Callable[[], Faces]) -> EvidencePicture | None:
    """A live picture for the store view: always blurred, whatever the store's profile (not for ``minimal``)."""
    return evidence_jpeg(frame, "standard", tracks.people().xyxy.reshape(-1, 4), faces().xyxy.reshape(-1, 4))
