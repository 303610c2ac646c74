"""Columnar value object for the faces found in one frame.

>>> import numpy as np
>>> f = Faces(xyxy=np.array([[10, 10, 50, 60]], np.float32),
...           landmarks=np.array([[[22, 30], [38, 30], [30, 40], [24, 50], [36, 50]]], np.float32),
...           score=np.array([0.9], np.float32))
>>> len(f), f.inner_canthi().round(1).tolist()
(1, [[[26.0, 30.0], [34.0, 30.0]]])
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt


class Landmark(IntEnum):
    """Row order of YuNet's five landmarks (the person's right eye first)."""

    RIGHT_EYE = 0
    LEFT_EYE = 1
    NOSE_TIP = 2
    RIGHT_MOUTH = 3
    LEFT_MOUTH = 4


# Adult inner canthal distance is about half the interpupillary distance (≈32 mm vs ≈63 mm),
# so each inner canthus lies a quarter of the way from one eye centre towards the other.
CANTHUS_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class Faces:
    """Parallel arrays, one row per face, in pixels of the frame they were found in.

    Attributes:
        xyxy: (n, 4) float32 face boxes x1, y1, x2, y2 in pixels.
        landmarks: (n, 5, 2) float32 landmark x, y in pixels, rows in :class:`Landmark` order.
        score: (n,) float32 detector confidence in 0..1.
    """

    xyxy: npt.NDArray[np.float32]
    landmarks: npt.NDArray[np.float32]
    score: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "landmarks", np.asarray(self.landmarks, dtype=np.float32).reshape(n, 5, 2))
        object.__setattr__(self, "score", np.asarray(self.score, dtype=np.float32).reshape(-1))
        if self.score.shape != (n,):
            raise ValueError(f"Faces.score: expected shape ({n},), got {self.score.shape}")

    @classmethod
    def empty(cls) -> Faces:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | slice) -> Faces:
        return Faces(self.xyxy[index], self.landmarks[index], self.score[index])

    @property
    def area(self) -> npt.NDArray[np.float32]:
        """(n,) box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return (wh[:, 0] * wh[:, 1]).astype(np.float32)

    def largest_first(self) -> Faces:
        """The same faces ordered by decreasing box area (the nearest visitor first)."""
        return self[np.argsort(-self.area, kind="stable")]

    def inner_canthi(self) -> npt.NDArray[np.float32]:
        """(n, 2, 2) pixel positions of the right and left inner eye corners (the canthi).

        The inner canthus is the warmest spot on a face that a thermal camera can see and the
        one screening standards (IEC 80601-2-59) measure; YuNet gives eye centres, so the corner
        is interpolated towards the other eye by :data:`CANTHUS_FRACTION`.
        """
        right = self.landmarks[:, Landmark.RIGHT_EYE]
        left = self.landmarks[:, Landmark.LEFT_EYE]
        return np.stack(
            [right + CANTHUS_FRACTION * (left - right), left + CANTHUS_FRACTION * (right - left)], axis=1
        ).astype(np.float32)

    def interocular(self) -> npt.NDArray[np.float32]:
        """(n,) distance between the eye centres in pixels."""
        d = self.landmarks[:, Landmark.LEFT_EYE] - self.landmarks[:, Landmark.RIGHT_EYE]
        return np.hypot(d[:, 0], d[:, 1]).astype(np.float32)


def crop_box(xyxy: npt.NDArray[np.float32], frame_size: tuple[int, int], margin: float = 0.15) -> tuple[int, int, int, int]:
    """Integer crop x1, y1, x2, y2 of one face box grown by ``margin`` (fraction of its size) and clipped.

    >>> crop_box(np.array([10, 10, 30, 50], np.float32), (100, 100), margin=0.5)
    (0, 0, 40, 70)
    """
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    w, h = x2 - x1, y2 - y1
    width, height = frame_size
    cx1 = int(max(0, np.floor(x1 - margin * w)))
    cy1 = int(max(0, np.floor(y1 - margin * h)))
    cx2 = int(min(width, np.ceil(x2 + margin * w)))
    cy2 = int(min(height, np.ceil(y2 + margin * h)))
    return cx1, cy1, max(cx2, cx1 + 1), max(cy2, cy1 + 1)
