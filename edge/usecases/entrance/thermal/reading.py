"""From a thermal frame and the registered inner canthi to a corrected body-temperature reading.

Steps, each a pure function of its inputs:

1. **Drift**: the median apparent temperature of the blackbody's inner half minus what a perfect camera would read
   for it (set point through its emissivity) is the camera's current offset error; subtract it.
2. **Canthus**: the hottest 3x3-averaged spot within a small disk around each registered inner
   canthus (averaging first keeps one noisy pixel from being "the hottest").
3. **Emissivity**: apparent → true skin temperature, reflecting the ambient.
4. **Ambient compensation**: canthus → core with the calibrated coupling constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from edge.faces.faces import CANTHUS_FRACTION
from edge.usecases.entrance.thermal.calibration import ThermalCalibration
from edge.usecases.entrance.thermal.frame import ThermalFrame
from edge.usecases.entrance.thermal.physics import apparent_c, core_from_surface, true_c

# Disk radius around each inner canthus, as a share of the interocular distance (≈ 9 mm of 63 mm).
CANTHUS_RADIUS_FRACTION = 0.15
MIN_CANTHUS_RADIUS_PX = 1.5


@dataclass(frozen=True, slots=True)
class BlackbodyCheck:
    """Blackbody reference in this frame, all °C."""

    measured_c: float  # median apparent temperature in the ROI as the camera reports it
    expected_c: float  # what an error-free camera would report for it
    drift_c: float  # measured - expected: the offset removed from every pixel


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """One face's temperature, every intermediate kept so a reviewer can follow it (all °C).

    Attributes:
        raw_c: hottest canthus-region apparent temperature as the camera reported it.
        corrected_c: the same after drift and emissivity correction (true canthus surface temperature).
        core_c: estimated core temperature after ambient compensation; compared with the threshold.
        ambient_c: ambient temperature used.
        blackbody: the drift check of this frame.
        canthus_xy: thermal pixel where the hottest spot was found.
        interocular_px: eye distance in thermal pixels (measurement resolution).
    """

    raw_c: float
    corrected_c: float
    core_c: float
    ambient_c: float
    blackbody: BlackbodyCheck
    canthus_xy: tuple[float, float]
    interocular_px: float


def blackbody_check(image_c: npt.NDArray[np.float64], cal: ThermalCalibration, ambient_c: float) -> BlackbodyCheck:
    x1, y1, x2, y2 = cal.blackbody.roi
    # Use the inner half only: optics blur mixes the reference's rim with the room behind it.
    dx, dy = max(1, (x2 - x1) // 4), max(1, (y2 - y1) // 4)
    inner = image_c[y1 + dy : max(y1 + dy + 1, y2 - dy), x1 + dx : max(x1 + dx + 1, x2 - dx)]
    measured = float(np.median(inner))
    expected = float(apparent_c(cal.blackbody.set_point_c, cal.blackbody.emissivity, ambient_c))
    return BlackbodyCheck(measured, expected, measured - expected)


def background_mask(shape: tuple[int, int], cal: ThermalCalibration, face_boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """True where neither the blackbody nor a (generously grown) face box is."""
    h, w = shape
    mask = np.ones((h, w), bool)
    x1, y1, x2, y2 = cal.blackbody.roi
    mask[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2] = False
    for bx1, by1, bx2, by2 in face_boxes:
        gw, gh = 0.5 * (bx2 - bx1), 0.5 * (by2 - by1)  # heads and shoulders are wider than the face box
        mask[int(max(0, by1 - gh)) : int(min(h, by2 + 3 * gh)), int(max(0, bx1 - gw)) : int(min(w, bx2 + gw))] = False
    return mask


def estimate_ambient_c(image_c: npt.NDArray[np.float64], background: npt.NDArray[np.bool_]) -> float:
    """Median of drift-corrected background pixels, °C: walls and floor sit at room temperature."""
    values = image_c[background]
    if values.size < 50:
        raise ValueError("too little background in the thermal frame to estimate ambient; configure ambient_c")
    return float(np.median(values))


def hottest_near(image_c: npt.NDArray[np.float64], points: npt.NDArray[np.float64], radius: float) -> tuple[float, tuple[float, float]]:
    """Max of the 3x3 box-averaged image within ``radius`` pixels of any of ``points`` (k, 2)."""
    smooth = cv2.blur(image_c, (3, 3), borderType=cv2.BORDER_REPLICATE)
    h, w = image_c.shape
    yy, xx = np.mgrid[0:h, 0:w]
    near = np.zeros((h, w), bool)
    for px, py in points:
        near |= (xx - px) ** 2 + (yy - py) ** 2 <= radius**2
    if not near.any():
        raise ValueError("inner canthus lies outside the thermal frame")
    idx = int(np.argmax(np.where(near, smooth, -np.inf)))
    y, x = divmod(idx, w)
    return float(smooth[y, x]), (float(x), float(y))


def read_temperature(
    frame: ThermalFrame,
    canthi_thermal: npt.NDArray[np.float64],
    cal: ThermalCalibration,
    face_boxes_thermal: npt.NDArray[np.float64] | None = None,
    ambient_c: float | None = None,
) -> TemperatureReading:
    """Corrected temperature of one face whose two inner canthi are at ``canthi_thermal`` (2, 2) thermal px.

    ``ambient_c`` comes from a room sensor when one is configured; otherwise it is estimated from
    the drift-corrected background of the frame (excluding ``face_boxes_thermal`` (n, 4)).
    """
    raw = frame.celsius()
    # Drift first needs an ambient for the blackbody's reflection term; its effect is ~0.01 K per K,
    # so a first pass with the uncorrected background converges immediately.
    boxes = np.zeros((0, 4)) if face_boxes_thermal is None else np.asarray(face_boxes_thermal, float).reshape(-1, 4)
    bg = background_mask(raw.shape, cal, boxes)
    amb = ambient_c
    check = blackbody_check(raw, cal, amb if amb is not None else estimate_ambient_c(raw, bg))
    corrected_img = raw - check.drift_c
    if amb is None:
        amb = estimate_ambient_c(corrected_img, bg)
        check = blackbody_check(raw, cal, amb)
        corrected_img = raw - check.drift_c
    pts = np.asarray(canthi_thermal, dtype=np.float64).reshape(-1, 2)
    iod = float(np.hypot(*(pts[0] - pts[-1]))) / (1 - 2 * CANTHUS_FRACTION) if len(pts) == 2 else 0.0
    radius = max(MIN_CANTHUS_RADIUS_PX, CANTHUS_RADIUS_FRACTION * iod)
    hottest_corr, xy = hottest_near(corrected_img, pts, radius)
    raw_at = float(cv2.blur(raw, (3, 3), borderType=cv2.BORDER_REPLICATE)[int(xy[1]), int(xy[0])])
    surface = float(true_c(hottest_corr, cal.skin_emissivity, amb))
    core = float(core_from_surface(surface, amb, cal.canthus_coupling))
    return TemperatureReading(raw_at, surface, core, amb, check, xy, iod)
