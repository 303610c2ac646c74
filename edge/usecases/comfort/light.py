"""Light level from a camera: linear luminance per zone → lux, and a guard against exposure changes.

**Luminance.** Pixels are sRGB-encoded; light adds up linearly, so each pixel is decoded to
linear RGB and weighted to relative luminance Y (Rec. 709: 0.2126 R + 0.7152 G + 0.0722 B),
0-1. A zone's luminance is the mean Y over its polygon.

**Lux.** For a fixed scene (floor, shelves) and fixed camera exposure, the light the camera sees
from a surface is proportional to the illuminance on it. One lux-meter reading calibrates the
camera: ``lux = reference_lux × Y_zone / Y_reference``. This holds while the exposure (shutter,
gain, iris) is the one of the calibration.

**Exposure guard.** A camera's auto-exposure rescales the whole picture, which would be read
as the light changing. The guard keeps the whole frame's brightness level it trusts (following
slow, real changes such as daylight over ``follow_s`` seconds) and marks every frame whose
brightness is more than ``max_step`` (natural log of the ratio) away from it as an exposure
change: its readings are **untrusted** and not reported as lux. They become trusted again when
the brightness returns to the trusted level (the exposure went back), or after a
re-calibration. A whole store's lights switched at once looks the same and is refused too:
the camera cannot tell them apart.

>>> round(float(srgb_to_linear(np.array([128 / 255]))[0]), 4)
0.2159
>>> g = ExposureGuard(max_step=0.15, follow_s=60)
>>> [g.check(y, float(t)) for t, y in [(0, 0.20), (1, 0.21), (2, 0.30), (3, 0.30), (4, 0.205)]]
[True, True, False, False, True]
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

_Y = np.array([0.0722, 0.7152, 0.2126])  # B, G, R weights (OpenCV frames are BGR)
_LUT = None


def srgb_to_linear(v: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """sRGB-encoded values (0-1) → linear light (0-1), the IEC 61966-2-1 curve."""
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_luminance(frame: np.ndarray) -> npt.NDArray[np.float64]:
    """Per-pixel relative luminance Y (0-1, linear) of a BGR uint8 frame."""
    global _LUT
    if _LUT is None:
        _LUT = srgb_to_linear(np.arange(256) / 255.0)
    return _LUT[frame] @ _Y  # type: ignore[no-any-return]


def zone_luminance(luminance: npt.NDArray[np.float64], polygon_px: npt.ArrayLike) -> float | None:
    """Mean of ``luminance`` inside a pixel polygon; None when the polygon covers no pixel.

    >>> y = np.zeros((10, 10)); y[:, 5:] = 0.5
    >>> zone_luminance(y, [(5, 0), (10, 0), (10, 10), (5, 10)]), zone_luminance(y, [(0, 0), (10, 0), (10, 10), (0, 10)])
    (0.5, 0.25)
    """
    mask = np.zeros(luminance.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(polygon_px, np.float64)).astype(np.int32)], 1)
    inside = mask.astype(bool)
    if not inside.any():
        return None
    return float(luminance[inside].mean())


def to_lux(luminance: float, reference_lux: float, reference_luminance: float) -> float:
    """Illuminance from a zone's luminance with a one-point calibration.

    >>> to_lux(0.10, reference_lux=500, reference_luminance=0.20)
    250.0
    """
    return round(reference_lux * luminance / reference_luminance, 1)


class ExposureGuard:
    """Whether a frame's brightness is at the level the calibration holds for; see the module docstring.

    Args:
        max_step: natural-log distance from the trusted level beyond which the exposure changed.
        follow_s: time constant (seconds) with which the trusted level follows trusted frames.
        level: the trusted whole-frame luminance to start from (None: the first frame's).
    """

    def __init__(self, max_step: float, follow_s: float, level: float | None = None) -> None:
        self.max_step, self.follow_s = max_step, follow_s
        self.level = level
        self._last_t: float | None = None
        self.trusted = True

    def check(self, frame_luminance: float, t: float) -> bool:
        """Is a frame of whole-frame luminance ``frame_luminance`` at time ``t`` (seconds) trustworthy?"""
        y = max(frame_luminance, 1e-6)
        if self.level is None:
            self.level, self._last_t = y, t
            return True
        self.trusted = abs(math.log(y / self.level)) <= self.max_step
        if self.trusted:
            # follow slow real change: an exponential moving average in log space, time constant follow_s
            dt = max(0.0, t - (self._last_t if self._last_t is not None else t))
            alpha = 1.0 - math.exp(-dt / self.follow_s)
            self.level = math.exp((1 - alpha) * math.log(self.level) + alpha * math.log(y))
            self._last_t = t
        return self.trusted
