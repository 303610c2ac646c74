"""From a thermal frame and the registered inner canthi to a corrected body-temperature reading, or a refusal.

Steps, each a pure function of its inputs (and of what a real device knows: the blackbody's set
point, the calibration file, an optional room sensor; never the scene's hidden truth):

1. **Blackbody trust**: the reference must be uniform (nothing partly in front of it), stand out
   from the wall around it by what its set point predicts (nothing wholly in front of it), and read
   steadily over the last second (:class:`BlackbodyMonitor`: no shutter transient or heater swing).
2. **Drift**: the median apparent temperature of the blackbody's inner half minus what a perfect camera
   would read for it (set point through its emissivity) is the camera's current offset error; subtract it.
3. **Resolution**: the face must be near enough (eye distance) and the canthal spot wide enough against
   the optics' blur for its peak to survive.
4. **Canthus**: the hottest 3x3-averaged spot within a small disk around each registered inner
   canthus, widened by the registration tolerance (averaging first keeps one noisy pixel from being "the hottest").
5. **Emissivity**: apparent → true skin temperature, reflecting the surroundings (the wall behind the visitor).
6. **Ambient compensation**: canthus → core with the calibrated coupling constant and the air temperature.

A frame that fails a check gives a reading with ``core_c`` None and a ``refusal`` code
(:data:`REFUSALS`) and a sentence saying why: the corrector is never silently wrong about what it checks.
"""

from __future__ import annotations

from collections import deque
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
# The canthal spot's radius must be at least this many blur sigmas for its peak to keep > 99 % of
# its contrast over the surrounding eye region (1 - exp(-r²/2σ²) at r = 3σ).
MIN_CANTHUS_RADIUS_SIGMAS = 3.0
# Blackbody checks, °C. Spread: the inner half's 10-90 % range; an uncovered reference spans a few
# NETDs. Surround: the wall ring just around the reference vs. the frame's background median (both raw,
# so the offset cancels; the room's vertical gradient and the sensor's non-uniformity stay under ~1 °C).
# Contrast: reference minus ring vs. what the set point predicts over the room sensor's air temperature
# (walls within ±1.5 °C of the air, sensor error, gain error). Change: the drift may move this much
# within the monitor's window (slow drift moves ~0.02 °C/s).
BLACKBODY_MAX_SPREAD_C = 0.4
BLACKBODY_SURROUND_TOLERANCE_C = 1.2
BLACKBODY_CONTRAST_TOLERANCE_C = 3.0
BLACKBODY_MAX_CHANGE_C = 0.15
BLACKBODY_WINDOW_S = 1.0

REFUSALS = {
    "blackbody_occluded": "the blackbody reference is (partly) covered: its face is not uniform or does not stand out as its set point predicts",
    "blackbody_unstable": "the blackbody reading moved within the last second (shutter event or heater swing)",
    "face_too_small": "the face is too far: eye distance below the calibration's min_interocular_px",
    "canthus_unresolved": "the canthal spot is narrower than 3 blur sigmas: optics blur lowers its peak",
    "canthus_outside_frame": "the inner canthus lies outside the thermal frame",
    "ambient_unknown": "no room sensor and too little background in the frame to estimate ambient",
}


@dataclass(frozen=True, slots=True)
class BlackbodyCheck:
    """Blackbody reference in this frame, all °C."""

    measured_c: float  # median apparent temperature in the ROI as the camera reports it
    expected_c: float  # what an error-free camera would report for it
    drift_c: float  # measured - expected: the offset removed from every pixel
    spread_c: float = 0.0  # 10-90 % range of the ROI's inner half
    surround_error_c: float = 0.0  # the wall ring around the reference minus the frame's background
    contrast_error_c: float = 0.0  # (reference - ring) minus what the set point predicts over the air


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """One face's temperature, every intermediate kept so a reviewer can follow it (all °C).

    A refused reading has ``refusal`` set (a key of :data:`REFUSALS`), ``why`` saying what was seen,
    and ``core_c`` None; the other values are kept where they were measured (NaN where not).

    Attributes:
        raw_c: hottest canthus-region apparent temperature as the camera reported it.
        corrected_c: the same after drift and emissivity correction (true canthus surface temperature).
        core_c: estimated core temperature after ambient compensation; compared with the threshold.
        ambient_c: ambient temperature used.
        blackbody: the drift check of this frame.
        canthus_xy: thermal pixel where the hottest spot was found.
        interocular_px: eye distance in thermal pixels (measurement resolution).
        refusal / why: why this frame gives no temperature; None when it does.
    """

    raw_c: float
    corrected_c: float
    core_c: float | None
    ambient_c: float
    blackbody: BlackbodyCheck
    canthus_xy: tuple[float, float]
    interocular_px: float
    refusal: str | None = None
    why: str = ""

    @property
    def trusted(self) -> bool:
        return self.refusal is None


class BlackbodyMonitor:
    """The blackbody's drift over the last :data:`BLACKBODY_WINDOW_S` seconds: is it steady?

    One per thermal camera. Observing the same frame time twice (several faces in one frame) counts once.

    >>> m = BlackbodyMonitor()
    >>> m.observe(0.0, 2.0), m.observe(0.1, 2.01), m.observe(0.2, 2.5)
    (True, True, False)
    >>> m.observe(1.5, 2.5)
    True
    """

    def __init__(self, window_s: float = BLACKBODY_WINDOW_S, max_change_c: float = BLACKBODY_MAX_CHANGE_C) -> None:
        self.window_s = window_s
        self.max_change_c = max_change_c
        self._seen: deque[tuple[float, float]] = deque()

    def observe(self, at: float, drift_c: float) -> bool:
        """Record this frame's drift; True when every drift within the window lies within ``max_change_c``."""
        if self._seen and self._seen[-1][0] == at:
            self._seen.pop()
        self._seen.append((at, drift_c))
        while self._seen and self._seen[0][0] < at - self.window_s:
            self._seen.popleft()
        drifts = [d for _, d in self._seen]
        return max(drifts) - min(drifts) <= self.max_change_c


def _inner(image_c: npt.NDArray[np.float64], roi: tuple[int, int, int, int]) -> npt.NDArray[np.float64]:
    x1, y1, x2, y2 = roi
    # The inner half only: optics blur mixes the reference's rim with the room behind it.
    dx, dy = max(1, (x2 - x1) // 4), max(1, (y2 - y1) // 4)
    return image_c[y1 + dy : max(y1 + dy + 1, y2 - dy), x1 + dx : max(x1 + dx + 1, x2 - dx)]


def _surround(image_c: npt.NDArray[np.float64], roi: tuple[int, int, int, int]) -> npt.NDArray[np.float64]:
    """A 2-pixel ring 2 pixels outside the reference (clear of its blurred rim), clipped to the frame."""
    h, w = image_c.shape
    x1, y1, x2, y2 = roi
    ring = np.zeros((h, w), bool)
    ring[max(0, y1 - 4) : y2 + 4, max(0, x1 - 4) : x2 + 4] = True
    ring[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2] = False
    return image_c[ring]


def blackbody_check(image_c: npt.NDArray[np.float64], cal: ThermalCalibration, reflected_c: float,
                    background_c: float | None = None, air_c: float | None = None) -> BlackbodyCheck:
    """Drift from the reference, and the checks that it is uncovered.

    ``background_c`` is the frame's raw background median (for the surround check), ``air_c`` a room
    sensor's reading (for the contrast check); a check without its input is skipped (0).
    """
    roi = cal.blackbody.roi
    inner = _inner(image_c, roi)
    measured = float(np.median(inner))
    expected = float(apparent_c(cal.blackbody.set_point_c, cal.blackbody.emissivity, reflected_c))
    spread = float(np.percentile(inner, 90) - np.percentile(inner, 10))
    ring = _surround(image_c, roi)
    surround_error = contrast_error = 0.0
    if ring.size:
        wall = float(np.median(ring))
        if background_c is not None:
            surround_error = wall - background_c
        if air_c is not None:
            contrast_error = (measured - wall) - (expected - air_c)
    return BlackbodyCheck(measured, expected, measured - expected, spread, surround_error, contrast_error)


def background_mask(shape: tuple[int, int], cal: ThermalCalibration, face_boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """True where neither the blackbody nor a (generously grown) face box is."""
    h, w = shape
    mask = np.ones((h, w), bool)
    x1, y1, x2, y2 = cal.blackbody.roi
    mask[max(0, y1 - 4) : y2 + 4, max(0, x1 - 4) : x2 + 4] = False
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
    monitor: BlackbodyMonitor | None = None,
) -> TemperatureReading:
    """Corrected temperature of one face whose two inner canthi are at ``canthi_thermal`` (2, 2) thermal px, or a refusal.

    ``ambient_c`` (air) comes from a room sensor when one is configured; otherwise it is estimated
    from the drift-corrected background of the frame (excluding ``face_boxes_thermal`` (n, 4)). The
    reflected temperature is always the background's: skin reflects the room, not the air.
    ``monitor`` (one per camera) checks the blackbody's steadiness over time; without it only this frame is checked.
    """
    raw = frame.celsius()
    nan = float("nan")
    boxes = np.zeros((0, 4)) if face_boxes_thermal is None else np.asarray(face_boxes_thermal, float).reshape(-1, 4)
    pts = np.asarray(canthi_thermal, dtype=np.float64).reshape(-1, 2)
    iod = float(np.hypot(*(pts[0] - pts[-1]))) / (1 - 2 * CANTHUS_FRACTION) if len(pts) == 2 else 0.0

    def refuse(code: str, why: str, amb: float = nan, check: BlackbodyCheck | None = None) -> TemperatureReading:
        return TemperatureReading(nan, nan, None, amb if ambient_c is None else ambient_c,
                                  check or BlackbodyCheck(nan, nan, nan), (nan, nan), iod, code, why)

    bg = background_mask(raw.shape, cal, boxes)
    if bg.sum() < 50 and ambient_c is None:
        return refuse("ambient_unknown", REFUSALS["ambient_unknown"])
    background_raw = float(np.median(raw[bg])) if bg.sum() >= 50 else None
    # Drift needs the reflected temperature for the blackbody's reflection term; its effect is ~0.02 K
    # per K, so a first pass with the uncorrected background converges at once.
    first = blackbody_check(raw, cal, background_raw if background_raw is not None else float(ambient_c or 0.0))
    reflected = float(ambient_c or 0.0) if background_raw is None else background_raw - first.drift_c
    check = blackbody_check(raw, cal, reflected, background_raw, ambient_c)
    steady = monitor.observe(frame.at, check.drift_c) if monitor is not None else True
    if (check.spread_c > BLACKBODY_MAX_SPREAD_C or abs(check.surround_error_c) > BLACKBODY_SURROUND_TOLERANCE_C
            or abs(check.contrast_error_c) > BLACKBODY_CONTRAST_TOLERANCE_C):
        return refuse("blackbody_occluded", f"blackbody spread {check.spread_c:.2f} °C (max {BLACKBODY_MAX_SPREAD_C}), "
                      f"surround off the background by {check.surround_error_c:+.2f} °C (max ±{BLACKBODY_SURROUND_TOLERANCE_C}), "
                      f"contrast off by {check.contrast_error_c:+.2f} °C (max ±{BLACKBODY_CONTRAST_TOLERANCE_C})", reflected, check)
    if not steady:
        return refuse("blackbody_unstable", f"{REFUSALS['blackbody_unstable']} by more than {BLACKBODY_MAX_CHANGE_C} °C",
                      reflected, check)
    air = reflected if ambient_c is None else ambient_c
    if iod < cal.min_interocular_px:
        return refuse("face_too_small", f"eye distance {iod:.1f} px < {cal.min_interocular_px} px", air, check)
    spot = CANTHUS_RADIUS_FRACTION * iod
    if spot < MIN_CANTHUS_RADIUS_SIGMAS * cal.blur_sigma_px:
        return refuse("canthus_unresolved", f"canthal spot radius {spot:.1f} px < {MIN_CANTHUS_RADIUS_SIGMAS:g} x blur "
                      f"{cal.blur_sigma_px} px", air, check)
    corrected_img = raw - check.drift_c
    radius = max(MIN_CANTHUS_RADIUS_PX, spot) + cal.registration_tolerance_px
    try:
        hottest_corr, xy = hottest_near(corrected_img, pts, radius)
    except ValueError as exc:
        return refuse("canthus_outside_frame", str(exc), air, check)
    raw_at = float(cv2.blur(raw, (3, 3), borderType=cv2.BORDER_REPLICATE)[int(xy[1]), int(xy[0])])
    surface = float(true_c(hottest_corr, cal.skin_emissivity, reflected))
    core = float(core_from_surface(surface, air, cal.canthus_coupling))
    return TemperatureReading(raw_at, surface, core, air, check, xy, iod)
