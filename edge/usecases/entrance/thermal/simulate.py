"""A physically grounded generator of radiometric frames, for tests and the demo.

No real thermal recordings exist for this project, so this renders what a Lepton-class camera
would see at a shop entrance:

* background at room temperature with a gentle vertical gradient (floor cooler, ceiling warmer);
* each visitor's face: skin at ``ambient + k_skin (core - ambient)`` (33-35 °C in a normal room),
  cooler towards the face outline (oblique view lowers apparent emissivity) and a cooler hair cap;
  the eyes a little warmer than skin, and the inner canthi warmest at ``ambient + k_canthus (core - ambient)``;
* a blackbody reference held at its set point;
* every surface seen through its emissivity with the room reflected (:mod:`edge.usecases.entrance.thermal.physics`);
* the optics' blur, then the sensor: an offset drift of several degrees that wanders over time,
  a small gain error, and per-pixel Gaussian noise (Lepton NETD ≈ 50 mK).

The ground truth (each visitor's core temperature) is what the reading must recover.

>>> sim = ThermalSimulator(SimulatorConfig(seed=1), calibration=None)
>>> f = sim.render([], at=0.0)
>>> f.size, bool(20 < float(np.median(f.celsius())) - sim.drift_c(0.0) < 24)
((160, 120), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from edge.faces.faces import CANTHUS_FRACTION
from edge.usecases.entrance.thermal.calibration import BlackbodyConfig, ThermalCalibration
from edge.usecases.entrance.thermal.frame import ThermalFrame, celsius_to_ck
from edge.usecases.entrance.thermal.physics import apparent_c, surface_from_core
from services.shared.strict import Strict


class SimulatorConfig(Strict):
    """Scene and sensor parameters (°C, seconds, thermal pixels)."""


    size: tuple[int, int] = Field(default=(160, 120), description="width, height, pixels (Lepton 3.5)")
    ambient_c: float = Field(default=22.0, ge=0.0, le=40.0, description="room temperature, °C")
    background_gradient_c: float = Field(default=1.0, ge=0.0, description="top-to-bottom background spread, °C")
    blackbody: BlackbodyConfig = BlackbodyConfig(roi=(144, 4, 156, 16), set_point_c=35.0, emissivity=0.98)
    skin_emissivity: float = Field(default=0.98, gt=0.5, le=1.0)
    skin_coupling: float = Field(default=0.78, gt=0.0, le=1.0, description="k of cheek/forehead skin")
    canthus_coupling: float = Field(default=0.95, gt=0.0, le=1.0, description="k of the inner canthus")
    canthus_radius: float = Field(
        default=0.15, gt=0.0, le=0.3, description="radius of the warm canthal area as a share of the eye distance"
    )
    drift_offset_c: float = Field(default=3.0, description="sensor offset error at t = 0, °C")
    drift_rate_c_per_min: float = Field(default=0.5, description="linear drift of the offset, °C per minute")
    drift_wobble_c: float = Field(default=0.5, ge=0.0, description="amplitude of a slow periodic offset wander, °C")
    drift_period_s: float = Field(default=300.0, gt=0.0)
    gain_error: float = Field(default=0.005, description="relative gain error about 30 °C (0.005 = 0.5 %)")
    noise_c: float = Field(default=0.05, ge=0.0, description="per-pixel noise standard deviation, °C (NETD)")
    blur_sigma_px: float = Field(default=0.6, ge=0.0, description="optical blur, pixels")
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SimulatedFace:
    """One visitor in thermal pixel coordinates.

    Attributes:
        box: x1, y1, x2, y2 of the face, thermal pixels.
        eyes: (2, 2) right and left eye centres, thermal pixels.
        core_c: the visitor's core body temperature, °C (the ground truth).
    """

    box: tuple[float, float, float, float]
    eyes: npt.NDArray[np.float64]
    core_c: float


def _disk(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2


class ThermalSimulator:
    """Renders :class:`ThermalFrame` s of visitors; use :meth:`faces_from_rgb` to place RGB detections."""

    def __init__(self, config: SimulatorConfig | None = None, calibration: ThermalCalibration | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.calibration = calibration
        self._rng = np.random.default_rng(self.config.seed)
        if calibration is not None and tuple(calibration.thermal_size) != tuple(self.config.size):
            raise ValueError(f"simulator size {self.config.size} differs from calibration thermal_size {calibration.thermal_size}")

    def drift_c(self, at: float) -> float:
        """The sensor's offset error at time ``at`` seconds, °C (the ground truth the blackbody must reveal)."""
        c = self.config
        return c.drift_offset_c + c.drift_rate_c_per_min * at / 60.0 + c.drift_wobble_c * np.sin(2 * np.pi * at / c.drift_period_s)

    def true_scene_c(self, faces: list[SimulatedFace]) -> npt.NDArray[np.float64]:
        """(H, W) true surface temperatures °C, before emissivity, optics and sensor."""
        return self._scene(faces)[0]

    def _scene(self, faces: list[SimulatedFace]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        c = self.config
        w, h = c.size
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        temp = c.ambient_c + c.background_gradient_c * (0.5 - yy / max(1, h - 1))
        emis = np.ones((h, w))  # walls at room temperature look the same whatever their emissivity
        for f in faces:
            x1, y1, x2, y2 = f.box
            cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, max(1.0, (x2 - x1) / 2), max(1.0, (y2 - y1) / 2)
            rho = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
            skin = float(surface_from_core(f.core_c, c.ambient_c, c.skin_coupling))
            face = rho <= 1.0
            temp[face] = skin - 1.0 * rho[face] ** 4  # outline cooler: oblique surfaces
            emis[face] = c.skin_emissivity
            hair = face & (yy < y1 + 0.18 * (y2 - y1))
            temp[hair] = c.ambient_c + 0.5 * (skin - c.ambient_c)
            canthus_t = float(surface_from_core(f.core_c, c.ambient_c, c.canthus_coupling))
            right, left = f.eyes
            iod = float(np.hypot(*(left - right)))
            for eye in (right, left):
                temp[_disk(xx, yy, eye[0], eye[1], max(1.0, 0.18 * iod))] = (skin + canthus_t) / 2
            r = max(1.0, c.canthus_radius * iod)
            for a, b in ((right, left), (left, right)):
                p = a + CANTHUS_FRACTION * (b - a)
                temp[_disk(xx, yy, p[0], p[1], r)] = canthus_t
        bx1, by1, bx2, by2 = c.blackbody.roi
        temp[by1:by2, bx1:bx2] = c.blackbody.set_point_c
        emis[by1:by2, bx1:bx2] = c.blackbody.emissivity
        return temp, emis

    def render(self, faces: list[SimulatedFace], at: float) -> ThermalFrame:
        """One frame at time ``at`` seconds, as the camera would report it (uint16 centi-Kelvin)."""
        c = self.config
        temp, emis = self._scene(faces)
        seen = temp.copy()
        grey = emis < 1.0
        seen[grey] = _apparent_map(temp[grey], emis[grey], c.ambient_c)
        if c.blur_sigma_px > 0:
            seen = cv2.GaussianBlur(seen, (0, 0), c.blur_sigma_px, borderType=cv2.BORDER_REPLICATE)
        reported = seen + c.gain_error * (seen - 30.0) + self.drift_c(at)
        reported = reported + self._rng.normal(0.0, c.noise_c, reported.shape)
        return ThermalFrame(celsius_to_ck(reported), float(at))

    def faces_from_rgb(
        self,
        boxes_rgb: npt.NDArray[np.float64],
        eyes_rgb: npt.NDArray[np.float64],
        core_c: list[float],
        frame_size: tuple[int, int],
    ) -> list[SimulatedFace]:
        """Place RGB detections (boxes (n, 4), eye centres (n, 2, 2)) in the thermal image via the calibration."""
        from edge.usecases.entrance.thermal.registration import rgb_to_thermal, scale_to_calibration

        if self.calibration is None:
            raise ValueError("faces_from_rgb needs a calibration (homography)")
        cal = self.calibration
        out = []
        for box, eyes, core in zip(boxes_rgb, eyes_rgb, core_c, strict=True):
            corners = scale_to_calibration(np.asarray(box, float).reshape(2, 2), frame_size, cal.rgb_size)
            tb = rgb_to_thermal(corners, cal.h).reshape(-1)
            te = rgb_to_thermal(scale_to_calibration(eyes, frame_size, cal.rgb_size), cal.h)
            out.append(SimulatedFace((tb[0], tb[1], tb[2], tb[3]), te, float(core)))
        return out


def _apparent_map(temp: np.ndarray, emis: np.ndarray, reflected_c: float) -> np.ndarray:
    out = np.empty_like(temp)
    for e in np.unique(emis):
        sel = emis == e
        out[sel] = apparent_c(temp[sel], float(e), reflected_c)
    return out
