"""Constant-velocity Kalman filter for boxes in xyah space, as pure functions (numpy only).

The state of one box is 8 numbers ``(x, y, a, h, vx, vy, va, vh)``: centre x and y (pixels),
aspect ratio a = width / height, height h (pixels), and their velocities per frame. The
measurement is ``(x, y, a, h)``. Noise is proportional to the box height, so a near (tall) person
may move more pixels per frame than a far one; the weights are those of DeepSORT and ByteTrack.

>>> mean, cov = initiate(xyxy_to_xyah(np.array([[10.0, 20.0, 30.0, 60.0]]))[0])
>>> mean[:4].tolist(), mean[4:].tolist()
([20.0, 40.0, 0.5, 40.0], [0.0, 0.0, 0.0, 0.0])
>>> mean, cov = predict(mean[None], cov[None])
>>> mean, cov = update(mean[0], cov[0], np.array([22.0, 40.0, 0.5, 40.0]))
>>> bool(mean[0] > 20.0 and mean[4] > 0.0)  # pulled towards the measurement, now moving right
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]

_NDIM = 4  # measured quantities: x, y, a, h
_MOTION = np.eye(2 * _NDIM) + np.eye(2 * _NDIM, k=_NDIM)  # position += velocity x 1 frame
_POSITION_WEIGHT = 1.0 / 20.0  # std of position noise, as a share of the box height
_VELOCITY_WEIGHT = 1.0 / 160.0  # std of velocity noise, as a share of the box height
# The aspect ratio is nearly constant for a walking person, so its noise is absolute and tiny.
_ASPECT_STD_PROCESS = 1e-2
_ASPECT_VELOCITY_STD = 1e-5
_ASPECT_STD_MEASUREMENT = 1e-1


def xyxy_to_xyah(xyxy: npt.ArrayLike) -> Vector:
    """(n, 4) corner boxes (pixels) to (n, 4) ``(centre x, centre y, width / height, height)``.

    >>> xyxy_to_xyah(np.array([[0, 0, 10, 20]])).tolist()
    [[5.0, 10.0, 0.5, 20.0]]
    """
    box = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    wh = box[:, 2:] - box[:, :2]
    return np.column_stack([box[:, :2] + wh / 2, wh[:, 0] / wh[:, 1], wh[:, 1]])


def xyah_to_xyxy(xyah: npt.ArrayLike) -> Vector:
    """(n, >=4) states or measurements (only the first 4 columns are read) to (n, 4) corner boxes.

    >>> xyah_to_xyxy(np.array([[5.0, 10.0, 0.5, 20.0]])).tolist()
    [[0.0, 0.0, 10.0, 20.0]]
    """
    state = np.asarray(xyah, dtype=np.float64).reshape(len(xyah), -1)
    h = state[:, 3]
    w = state[:, 2] * h
    half = np.column_stack([w, h]) / 2
    return np.column_stack([state[:, :2] - half, state[:, :2] + half])


def initiate(xyah: Vector) -> tuple[Vector, Vector]:
    """State (8,) and covariance (8, 8) of a new track at measurement ``xyah``, at rest.

    The initial uncertainty is wide (twice the per-frame noise for position, ten times for
    velocity) because one box says nothing about how the person moves.
    """
    h = float(xyah[3])
    std = np.array([
        2 * _POSITION_WEIGHT * h, 2 * _POSITION_WEIGHT * h, _ASPECT_STD_PROCESS, 2 * _POSITION_WEIGHT * h,
        10 * _VELOCITY_WEIGHT * h, 10 * _VELOCITY_WEIGHT * h, _ASPECT_VELOCITY_STD, 10 * _VELOCITY_WEIGHT * h,
    ])
    mean = np.concatenate([np.asarray(xyah, dtype=np.float64), np.zeros(_NDIM)])
    return mean, np.diag(std**2)


def predict(mean: Vector, covariance: Vector) -> tuple[Vector, Vector]:
    """Advance n states one frame: ``mean`` (n, 8), ``covariance`` (n, 8, 8) → the same shapes.

    Process noise scales with each box's current height.
    """
    h = mean[:, 3]
    one = np.ones_like(h)
    std = np.column_stack([
        _POSITION_WEIGHT * h, _POSITION_WEIGHT * h, _ASPECT_STD_PROCESS * one, _POSITION_WEIGHT * h,
        _VELOCITY_WEIGHT * h, _VELOCITY_WEIGHT * h, _ASPECT_VELOCITY_STD * one, _VELOCITY_WEIGHT * h,
    ])
    noise = np.zeros_like(covariance)
    diag = np.arange(2 * _NDIM)
    noise[:, diag, diag] = std**2
    return mean @ _MOTION.T, _MOTION @ covariance @ _MOTION.T + noise


def update(mean: Vector, covariance: Vector, xyah: Vector) -> tuple[Vector, Vector]:
    """Correct one predicted state (8,) / (8, 8) with a measured box ``xyah`` (4,)."""
    h = mean[3]
    measurement_std = np.array([_POSITION_WEIGHT * h, _POSITION_WEIGHT * h, _ASPECT_STD_MEASUREMENT, _POSITION_WEIGHT * h])
    projected_cov = covariance[:_NDIM, :_NDIM] + np.diag(measurement_std**2)
    # Gain K = P Hᵀ S⁻¹, solved rather than inverted (S is symmetric positive definite).
    gain = np.linalg.solve(projected_cov, covariance[:, :_NDIM].T).T
    innovation = np.asarray(xyah, dtype=np.float64) - mean[:_NDIM]
    return mean + gain @ innovation, covariance - gain @ projected_cov @ gain.T
