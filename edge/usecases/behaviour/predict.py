"""Short-horizon movement prediction: a constant-velocity Kalman filter per track, in image pixels.

State ``[x, y, vx, vy]`` of a track's foot point; the process noise is white acceleration
(``accel_std`` px/s², the "how much does a walker change speed" knob), the measurement noise
``meas_std`` px. The filter runs on irregular time steps (an occlusion gap is one longer step),
so a track that reappears continues with a grown uncertainty, not a reset.

Prediction ``ahead(seconds)`` extrapolates the filtered state without changing it. Floor metres
would need a floor calibration (homography); this works in the image, where H's zones are.

>>> kf = ConstantVelocity(accel_std=20.0, meas_std=2.0)
>>> for t in range(10):
...     kf.update(t * 0.1, (100.0 + 3.0 * t, 50.0))      # 30 px/s to the right
>>> x, y = kf.ahead(1.0)
>>> round(x), round(y)
(157, 50)
>>> [round(p[0]) for p in kf.path_ahead(0.5, 0.25)]
[134, 142]
"""

from __future__ import annotations

import numpy as np


class ConstantVelocity:
    """One track's Kalman filter (constant velocity, white-acceleration noise)."""

    __slots__ = ("_P", "_t", "_x", "accel_std", "meas_std", "updates")

    def __init__(self, accel_std: float = 20.0, meas_std: float = 3.0) -> None:
        self.accel_std = float(accel_std)
        self.meas_std = float(meas_std)
        self._x: np.ndarray | None = None
        self._P = np.eye(4)
        self._t = 0.0
        self.updates = 0

    @staticmethod
    def _transition(dt: float, q: float) -> tuple[np.ndarray, np.ndarray]:
        F = np.eye(4)
        F[0, 2] = F[1, 3] = dt
        # Discrete white-noise acceleration: Q = G G^T q^2 with G = [dt²/2, dt]ᵀ per axis.
        g = np.array([dt * dt / 2, dt])
        block = np.outer(g, g) * q * q
        Q = np.zeros((4, 4))
        Q[np.ix_([0, 2], [0, 2])] = block
        Q[np.ix_([1, 3], [1, 3])] = block
        return F, Q

    def update(self, t: float, point: tuple[float, float]) -> None:
        """Fold in the foot point observed at time ``t`` (seconds; non-decreasing)."""
        z = np.asarray(point, dtype=np.float64)
        if self._x is None:
            self._x = np.array([z[0], z[1], 0.0, 0.0])
            # Position known to the measurement noise; velocity unknown: a walker's speed range.
            self._P = np.diag([self.meas_std ** 2, self.meas_std ** 2, 50.0 ** 2, 50.0 ** 2])
            self._t, self.updates = t, 1
            return
        dt = max(0.0, t - self._t)
        F, Q = self._transition(dt, self.accel_std)
        x = F @ self._x
        P = F @ self._P @ F.T + Q
        H = np.zeros((2, 4))
        H[0, 0] = H[1, 1] = 1.0
        S = H @ P @ H.T + np.eye(2) * self.meas_std ** 2
        K = P @ H.T @ np.linalg.inv(S)
        self._x = x + K @ (z - H @ x)
        self._P = (np.eye(4) - K @ H) @ P
        self._t = t
        self.updates += 1

    @property
    def position(self) -> tuple[float, float]:
        assert self._x is not None, "no observation yet"
        return float(self._x[0]), float(self._x[1])

    @property
    def velocity(self) -> tuple[float, float]:
        """Estimated velocity in px/s."""
        assert self._x is not None, "no observation yet"
        return float(self._x[2]), float(self._x[3])

    @property
    def speed(self) -> float:
        vx, vy = self.velocity
        return float(np.hypot(vx, vy))

    def ahead(self, seconds: float) -> tuple[float, float]:
        """Predicted foot point ``seconds`` after the last observation (the state is unchanged)."""
        x, y = self.position
        vx, vy = self.velocity
        return x + vx * seconds, y + vy * seconds

    def path_ahead(self, horizon_s: float, step_s: float) -> np.ndarray:
        """Predicted foot points at ``step_s, 2·step_s, …, horizon_s`` as an ``(n, 2)`` array."""
        steps = np.arange(1, int(round(horizon_s / step_s)) + 1) * step_s
        x, y = self.position
        vx, vy = self.velocity
        return np.stack([x + vx * steps, y + vy * steps], axis=1)
