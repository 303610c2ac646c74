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

Clips (an :class:`EvidenceRequest` with ``clip=(before_s, after_s)``): the worker keeps recent
frames at :data:`CLIP_FPS` (:class:`ClipBuffer`); once the seconds after the event have passed,
:func:`render_clip` blurs every frame as the picture is blurred (tracked heads and the faces found
in *that* frame under ``standard``; no clip at all under ``minimal``) and encodes it as WebM (VP8,
which browsers play). The clip travels appended to the event's picture
(:func:`services.contract.blobs.bundle`), so every transport and the outbox carry it unchanged.

>>> import numpy as np
>>> frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
>>> picture = evidence_jpeg(frame, "standard", np.array([[40, 10, 80, 110]], np.float32))
>>> out = cv2.imdecode(np.frombuffer(picture.jpeg, np.uint8), cv2.IMREAD_COLOR)
>>> picture.anonymised, out.shape, evidence_jpeg(frame, "minimal", np.zeros((0, 4)))
(True, (120, 160, 3), None)
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from edge.detections import Detections
from edge.faces import Faces
from edge.usecases.base import EvidenceRequest
from services.shared.anonymise import anonymise

log = logging.getLogger(__name__)

JPEG_QUALITY = 80
#: Frames per second kept for evidence clips: enough to see how someone moved, small enough to send.
CLIP_FPS = 5.0
#: Clip frames wider than this are scaled down (a clip is for seeing movement, not detail).
CLIP_MAX_WIDTH = 640


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


# ---------------------------------------------------------------------------- clips


@dataclass(frozen=True, slots=True)
class ClipFrame:
    """One frame kept for clips: capture time, pixels (scaled to :data:`CLIP_MAX_WIDTH`) and the
    tracked people's boxes in those pixels (their heads are blurred in every clip frame)."""

    at: datetime
    image: np.ndarray
    people: np.ndarray  # (n, 4) xyxy in the scaled image's pixels


@dataclass(frozen=True, slots=True)
class EvidenceClip:
    webm: bytes
    anonymised: bool
    frames: int
    fps: float


class ClipBuffer:
    """The last ``seconds`` of a camera at :data:`CLIP_FPS`, for clips around events.

    >>> from datetime import timedelta, timezone
    >>> buf = ClipBuffer(1.0)
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> for k in range(30):   # 3 s at 10 fps
    ...     buf.add(t0 + timedelta(seconds=k / 10), np.zeros((4, 4, 3), np.uint8), Detections.empty())
    >>> len(buf.frames), [round((f.at - t0).total_seconds(), 1) for f in buf.between(t0, t0 + timedelta(seconds=1))]
    (7, [])
    """

    def __init__(self, seconds: float, fps: float = CLIP_FPS) -> None:
        self.fps = fps
        self.frames: deque[ClipFrame] = deque(maxlen=max(2, math.ceil(seconds * fps) + 2))
        self._last: datetime | None = None

    def add(self, at: datetime, image: np.ndarray, tracks: Detections) -> None:
        """Keep this frame if it is 1/fps after the last one kept."""
        if self._last is not None and (at - self._last).total_seconds() < 1.0 / self.fps - 1e-6:
            return
        self._last = at
        scale = min(1.0, CLIP_MAX_WIDTH / image.shape[1])
        people = tracks.people().xyxy.reshape(-1, 4).astype(np.float32) * scale
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1.0 else image.copy()
        self.frames.append(ClipFrame(at, small, people))

    def between(self, start: datetime, end: datetime) -> list[ClipFrame]:
        return [f for f in self.frames if start <= f.at <= end]


def encode_webm(images: Sequence[np.ndarray], fps: float) -> bytes:
    """Frames (BGR, one size) as a WebM (VP8) video, the format browsers play in ``<video>``.

    >>> from services.contract.blobs import WEBM_MAGIC
    >>> data = encode_webm([np.full((48, 64, 3), v, np.uint8) for v in range(0, 250, 25)], 5.0)
    >>> data[:4] == WEBM_MAGIC
    True
    """
    if not images:
        raise ValueError("a clip needs at least one frame")
    h, w = images[0].shape[:2]
    fd, path = tempfile.mkstemp(suffix=".webm")  # OpenCV writes video only to a file
    os.close(fd)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"VP80"), float(fps), (w, h))
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot write WebM (VP8) here; no evidence clip")
        for image in images:
            writer.write(image if image.shape[:2] == (h, w) else cv2.resize(image, (w, h)))
        writer.release()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def render_clip(
    frames: Sequence[ClipFrame], privacy_profile: str, faces: Callable[[np.ndarray], Faces] | None, fps: float = CLIP_FPS,
) -> EvidenceClip | None:
    """The clip that may leave the edge for this profile, or None (``minimal``, or no frames).

    Under ``standard`` every frame is blurred before encoding: each tracked person's head and each
    face ``faces`` finds in that frame (faces move; one frame's faces do not cover another's).
    """
    if privacy_profile == "minimal" or not frames:
        return None
    anonymised = privacy_profile != "identified"
    images = []
    for frame in frames:
        image = frame.image
        if anonymised:
            boxes = [(box, "person") for box in frame.people]
            if faces is not None:
                boxes += [(box, "face") for box in faces(image).xyxy.reshape(-1, 4)]
            image = anonymise(image, boxes) if boxes else image
        images.append(image)
    return EvidenceClip(encode_webm(images, fps), anonymised, len(images), fps)
