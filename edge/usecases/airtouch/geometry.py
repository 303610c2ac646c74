"""Pure geometry of air-touch: the camera-to-screen homography and distance from hand size.

MediaPipe's 21 hand landmarks: 0 wrist, 5/9/13/17 the finger bases (MCP), 8 the index fingertip.

>>> h = Homography.from_corners([(100, 100), (300, 100), (300, 250), (100, 250)], (1000, 750))
>>> [round(v, 6) for v in h.apply(200, 175) + h.apply(300, 250)]
[500.0, 375.0, 1000.0, 750.0]
>>> d = DepthModel.fit((110.0, 4.0), (75.0, 20.0))
>>> round(d.distance_cm(110.0), 2), round(d.distance_cm(75.0), 2)
(4.0, 20.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INDEX_TIP, WRIST, INDEX_MCP, MIDDLE_MCP, PINKY_MCP = 8, 0, 5, 9, 17
KNUCKLES = (5, 9, 13, 17)  #: index, middle, ring, pinky bases (MCP), in order across the hand

Point = tuple[float, float]


@dataclass(frozen=True)
class Homography:
    """A 3x3 plane-to-plane map, here from camera pixels to screen pixels."""

    matrix: tuple[tuple[float, float, float], ...]

    @classmethod
    def from_corners(cls, corners: Sequence[Point], screen: tuple[int, int]) -> Homography:
        """The map taking ``corners`` (camera pixels of the screen's top-left, top-right,
        bottom-right and bottom-left, as the fingertip reached them at calibration) to the screen's
        corners ``(0, 0) .. (width, height)``."""
        w, h = screen
        return cls.between(corners, [(0, 0), (w, 0), (w, h), (0, h)])

    @classmethod
    def between(cls, src: Sequence[Point], dst: Sequence[Point]) -> Homography:
        """Direct linear solution from exactly four correspondences (no three collinear)."""
        if len(src) != 4 or len(dst) != 4:
            raise ValueError("a homography needs exactly 4 point pairs")
        a, b = [], []
        for (x, y), (u, v) in zip(src, dst, strict=True):
            a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
            a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
            b += [u, v]
        try:
            p = np.linalg.solve(np.asarray(a, float), np.asarray(b, float))
        except np.linalg.LinAlgError:
            raise ValueError("degenerate corners: three of them lie on one line") from None
        m = np.append(p, 1.0).reshape(3, 3)
        return cls(tuple(tuple(float(v) for v in row) for row in m))

    def apply(self, x: float, y: float) -> Point:
        m = self.matrix
        w = m[2][0] * x + m[2][1] * y + m[2][2]
        return ((m[0][0] * x + m[0][1] * y + m[0][2]) / w, (m[1][0] * x + m[1][1] * y + m[1][2]) / w)

    def inverse(self) -> Homography:
        inv = np.linalg.inv(np.asarray(self.matrix))
        inv = inv / inv[2, 2]
        return Homography(tuple(tuple(float(v) for v in row) for row in inv))


def hand_px(landmarks: np.ndarray) -> float:
    """Hand size in pixels: the length of the knuckle row, index → middle → ring → pinky base (MCP).

    The four finger bases sit on the rigid metacarpal arch, so the row keeps its length whatever the
    fingers do (a fist, a V-sign, pointing) and shrinks with distance from the camera (pinhole:
    size ∝ 1 / distance). The wrist is left out on purpose: in video mode MediaPipe places it
    inconsistently on some hands (on ``victory.jpg`` every wrist-to-base span comes out ~30 % longer
    than on the still photo, the knuckle row ~7 %), and a hand read too big reads too close and
    presses while hovering. Turning the hand edge-on only shortens the row, which reads it farther
    away: that can cost a press, never make one.

    >>> pts = np.zeros((21, 3)); pts[[5, 9, 13, 17], 0] = [0, 20, 38, 54]
    >>> hand_px(pts)
    54.0
    """
    p = np.asarray(landmarks, float)[:, :2]
    row = p[list(KNUCKLES)]
    return float(np.linalg.norm(np.diff(row, axis=0), axis=1).sum())


@dataclass(frozen=True)
class DepthModel:
    """Distance of the hand to the screen plane from its size (:func:`hand_px`): ``k / hand_px - offset_cm``.

    ``k / hand_px`` is the pinhole distance to the camera; ``offset_cm`` is how far the camera sits
    behind (or, negative, in front of) the screen plane along its axis. Two samples of one hand at
    known distances (the kiosk's calibration) fix both."""

    k: float
    offset_cm: float

    @classmethod
    def fit(cls, near: tuple[float, float], far: tuple[float, float]) -> DepthModel:
        """From two ``(hand_px, distance_cm)`` samples at different distances."""
        (s1, d1), (s2, d2) = near, far
        if s1 <= 0 or s2 <= 0 or abs(1 / s1 - 1 / s2) < 1e-9:
            raise ValueError("depth calibration needs two positive, different hand sizes")
        k = (d1 - d2) / (1 / s1 - 1 / s2)
        if k <= 0:
            raise ValueError("depth calibration: the nearer sample must show the larger hand")
        return cls(k=k, offset_cm=k / s1 - d1)

    def distance_cm(self, size_px: float) -> float:
        return self.k / size_px - self.offset_cm

    def size_at(self, distance_cm: float) -> float:
        """The hand size this model expects at ``distance_cm`` (the inverse; used to render traces)."""
        return self.k / (distance_cm + self.offset_cm)
