"""Image → mask verdict, the same way for the entrance analyzer, the eval and the training features.

The subject is the largest face YuNet finds (the visitor nearest the camera); its box grown by
:data:`CROP_MARGIN` is classified. With no face found, the whole image is classified instead
and the verdict says so, because a tightly cropped or heavily masked face can defeat the face
detector while the classifier still sees a face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.faces.faces import Faces, crop_box

# Grow the face box so the whole mask (which YuNet's box often cuts at the chin) is in view.
CROP_MARGIN = 0.15


@dataclass(frozen=True, slots=True)
class Subject:
    """The crop a mask classifier should look at.

    Attributes:
        crop: BGR pixels (a view into the image).
        box: x1, y1, x2, y2 of the crop in image pixels.
        face_found: False when the whole image stands in for a face.
    """

    crop: np.ndarray
    box: tuple[int, int, int, int]
    face_found: bool


def face_crops(image: np.ndarray, faces: Faces, margin: float = CROP_MARGIN) -> list[Subject]:
    """One :class:`Subject` per face, in the order of ``faces``."""
    h, w = image.shape[:2]
    out = []
    for xyxy in faces.xyxy:
        x1, y1, x2, y2 = crop_box(xyxy, (w, h), margin)
        out.append(Subject(image[y1:y2, x1:x2], (x1, y1, x2, y2), True))
    return out


def main_subject(image: np.ndarray, faces: Faces, margin: float = CROP_MARGIN) -> Subject:
    """The largest face's crop, else the whole image."""
    if len(faces) == 0:
        h, w = image.shape[:2]
        return Subject(image, (0, 0, w, h), False)
    return face_crops(image, faces.largest_first()[:1], margin)[0]
