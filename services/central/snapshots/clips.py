"""Evidence clips: the WebM an edge appends to an alert's picture (:func:`services.contract.blobs.bundle`).

The picture and its clip are one stored snapshot (one sha256, one ``anonymised`` flag, one
retention); :func:`clip_of` takes the clip back out. Uploads are checked here: a bundle whose
clip does not decode as video is refused. A viewer gets the clip as stored when the edge
anonymised it (heads and faces blurred in every frame) or when their role and the store's
profile allow faces; otherwise every frame is pixelated before it leaves central
(:func:`viewable_clip`), as pictures are.
"""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np

from services.contract.blobs import split_bundle
from services.shared.anonymise import pixelate_all

#: Most frames central decodes from one clip (a clip is seconds long; more is not a clip).
MAX_CLIP_FRAMES = 600


class ClipError(ValueError):
    """Bytes that are not a playable WebM clip."""


def clip_of(data: bytes) -> bytes | None:
    """The WebM clip stored with a picture, or None for a plain picture."""
    return split_bundle(data)[1]


def picture_of(data: bytes) -> bytes:
    """The picture alone (a bundle's JPEG; a plain picture as it is)."""
    return split_bundle(data)[0]


def decode_clip(webm: bytes) -> tuple[list[np.ndarray], float]:
    """Frames (BGR) and frames per second of a WebM clip; :class:`ClipError` if it holds no frame."""
    fd, path = tempfile.mkstemp(suffix=".webm")  # OpenCV reads video only from a file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(webm)
        cap = cv2.VideoCapture(path)
        frames: list[np.ndarray] = []
        try:
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            while len(frames) <= MAX_CLIP_FRAMES:
                ok, image = cap.read()
                if not ok:
                    break
                frames.append(image)
        finally:
            cap.release()
    finally:
        os.unlink(path)
    if not frames:
        raise ClipError("the clip is not a playable WebM video (no frame decodes)")
    if len(frames) > MAX_CLIP_FRAMES:
        raise ClipError(f"the clip has more than {MAX_CLIP_FRAMES} frames; evidence clips are a few seconds")
    return frames, fps if 0 < fps <= 120 else 5.0


def encode_clip(frames: list[np.ndarray], fps: float) -> bytes:
    """Frames as WebM (VP8), which browsers play."""
    h, w = frames[0].shape[:2]
    fd, path = tempfile.mkstemp(suffix=".webm")
    os.close(fd)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"VP80"), fps, (w, h))
        if not writer.isOpened():
            raise ClipError("cannot encode WebM (VP8) here")
        for image in frames:
            writer.write(image)
        writer.release()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def check_upload(data: bytes) -> None:
    """Refuse (:class:`ClipError`) a bundle whose clip does not decode; plain pictures pass."""
    clip = clip_of(data)
    if clip is not None:
        decode_clip(clip)


def viewable_clip(webm: bytes, anonymised: bool, show_faces: bool) -> bytes:
    """The clip a viewer gets: as stored when anonymised on the edge or faces may be shown;
    every frame pixelated otherwise (faces may be anywhere in an unblurred clip)."""
    if anonymised or show_faces:
        return webm
    frames, fps = decode_clip(webm)
    return encode_clip([pixelate_all(f) for f in frames], fps)
