"""Thermal-to-RGB registration by a planar homography.

>>> h = np.array([[0.5, 0, 10], [0, 0.5, 0], [0, 0, 1]])
>>> rgb_to_thermal(np.array([[100.0, 40.0]]), h).tolist()
[[60.0, 20.0]]
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt


def rgb_to_thermal(points: npt.ArrayLike, homography: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """(..., 2) RGB pixel points → (..., 2) thermal pixel points."""
    pts = np.asarray(points, dtype=np.float64)
    flat = pts.reshape(-1, 2)
    ones = np.ones((len(flat), 1))
    mapped = np.hstack([flat, ones]) @ np.asarray(homography, dtype=np.float64).T
    return (mapped[:, :2] / mapped[:, 2:3]).reshape(pts.shape)


def scale_to_calibration(points: npt.ArrayLike, frame_size: tuple[int, int], rgb_size: tuple[int, int]) -> npt.NDArray[np.float64]:
    """Rescale points from the frame's resolution to the resolution the calibration was made at.

    >>> scale_to_calibration([[64.0, 36.0]], (640, 360), (1280, 720)).tolist()
    [[128.0, 72.0]]
    """
    sx, sy = rgb_size[0] / frame_size[0], rgb_size[1] / frame_size[1]
    return np.asarray(points, dtype=np.float64) * np.array([sx, sy])


def fit_homography(rgb_points: npt.ArrayLike, thermal_points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Least-squares homography RGB → thermal from ≥ 4 corresponding points (pixels).

    >>> rgb = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], float)
    >>> fit_homography(rgb, rgb / 4 + 5).round(3).tolist()
    [[0.25, 0.0, 5.0], [0.0, 0.25, 5.0], [0.0, 0.0, 1.0]]
    """
    src = np.asarray(rgb_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(thermal_points, dtype=np.float64).reshape(-1, 2)
    if len(src) < 4 or len(src) != len(dst):
        raise ValueError(f"need at least 4 matching point pairs, got {len(src)} RGB and {len(dst)} thermal")
    h, _ = cv2.findHomography(src, dst, 0)
    if h is None:
        raise ValueError("points are degenerate (collinear?); no homography")
    return h / h[2, 2]
