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

Effects the corrector cannot know, off by default (the demo stays simple) and drawn per scene by
:func:`random_scene` from :class:`SceneRanges` for the evaluation (``anshin eval thermal``):

* each visitor's own canthus and skin coupling and skin emissivity (:class:`SimulatedFace`);
* walls that are not at air temperature, and a reflected (radiant) temperature different from both;
* a non-uniform sensor offset (a plane across the sensor) and a shutter (FFC) event: an offset jump
  and a transient, partly non-uniform, that decays over about a second;
* a gain error, optics blur that smears the small warm canthus at distance, and a blackbody
  partly or wholly covered by something in front of it;
* (in :func:`random_scene`) a registration error: the canthi the corrector is given are a few
  pixels off the rendered ones.

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
    reflected_c: float | None = Field(
        default=None, description="radiant temperature of what skin reflects (behind the camera), °C; default: ambient_c")
    wall_minus_air_c: float = Field(default=0.0, description="walls in view are this much warmer than the air, °C")
    offset_gradient_c: tuple[float, float] = Field(
        default=(0.0, 0.0), description="sensor offset non-uniformity: change from left to right and top to bottom edge, °C")
    ffc_at_s: float | None = Field(default=None, description="time of a shutter (flat-field) event, seconds; None: none")
    ffc_jump_c: float = Field(default=0.0, description="lasting offset step at the shutter event, °C")
    ffc_transient_c: float = Field(default=0.0, description="offset transient right after the shutter event, °C")
    ffc_tau_s: float = Field(default=1.0, gt=0.0, description="time constant of the shutter transient, seconds")
    ffc_nonuniform_share: float = Field(
        default=0.3, ge=0.0, le=1.0, description="share of the transient that is radial (centre vs corners), not uniform")
    blackbody_cover: float = Field(
        default=0.0, ge=0.0, le=1.0, description="share of the blackbody's width covered by something reaching in from the left")
    blackbody_cover_c: float = Field(default=30.0, description="temperature of what covers the blackbody, °C (emissivity 0.95)")
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SimulatedFace:
    """One visitor in thermal pixel coordinates.

    Attributes:
        box: x1, y1, x2, y2 of the face, thermal pixels.
        eyes: (2, 2) right and left eye centres, thermal pixels.
        core_c: the visitor's core body temperature, °C (the ground truth).
        skin_emissivity / canthus_coupling / skin_coupling: this visitor's own values; None: the
            simulator's configured ones.
    """

    box: tuple[float, float, float, float]
    eyes: npt.NDArray[np.float64]
    core_c: float
    skin_emissivity: float | None = None
    canthus_coupling: float | None = None
    skin_coupling: float | None = None


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
        """The uniform part of the sensor's offset error at ``at`` seconds, °C (what the blackbody must reveal)."""
        c = self.config
        drift = c.drift_offset_c + c.drift_rate_c_per_min * at / 60.0 + c.drift_wobble_c * np.sin(2 * np.pi * at / c.drift_period_s)
        if c.ffc_at_s is not None and at >= c.ffc_at_s:
            drift += c.ffc_jump_c + (1.0 - c.ffc_nonuniform_share) * self._transient(at)
        return float(drift)

    def _transient(self, at: float) -> float:
        c = self.config
        if c.ffc_at_s is None or at < c.ffc_at_s:
            return 0.0
        return float(c.ffc_transient_c * np.exp(-(at - c.ffc_at_s) / c.ffc_tau_s))

    def offset_map_c(self, at: float) -> npt.NDArray[np.float64]:
        """(H, W) the sensor's whole offset error at ``at`` seconds, °C: uniform drift plus non-uniformity."""
        c = self.config
        w, h = c.size
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        u, v = xx / max(1, w - 1) - 0.5, yy / max(1, h - 1) - 0.5
        gx, gy = c.offset_gradient_c
        radial = 1.0 - 2.0 * (u**2 + v**2)  # 1 at the centre, 0 at the corners: the shutter warms the middle
        return self.drift_c(at) + gx * u + gy * v + c.ffc_nonuniform_share * self._transient(at) * radial

    def true_scene_c(self, faces: list[SimulatedFace]) -> npt.NDArray[np.float64]:
        """(H, W) true surface temperatures °C, before emissivity, optics and sensor."""
        return self._scene(faces)[0]

    def _scene(self, faces: list[SimulatedFace]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        c = self.config
        w, h = c.size
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        temp = c.ambient_c + c.wall_minus_air_c + c.background_gradient_c * (0.5 - yy / max(1, h - 1))
        emis = np.ones((h, w))  # walls at room temperature look the same whatever their emissivity
        for f in faces:
            x1, y1, x2, y2 = f.box
            cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, max(1.0, (x2 - x1) / 2), max(1.0, (y2 - y1) / 2)
            rho = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
            skin = float(surface_from_core(f.core_c, c.ambient_c, f.skin_coupling or c.skin_coupling))
            face = rho <= 1.0
            temp[face] = skin - 1.0 * rho[face] ** 4  # outline cooler: oblique surfaces
            emis[face] = f.skin_emissivity or c.skin_emissivity
            hair = face & (yy < y1 + 0.18 * (y2 - y1))
            temp[hair] = c.ambient_c + 0.5 * (skin - c.ambient_c)
            canthus_t = float(surface_from_core(f.core_c, c.ambient_c, f.canthus_coupling or c.canthus_coupling))
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
        if c.blackbody_cover > 0:
            # A hand, a bag or a sleeve in front of the reference: bigger than it, reaching in from the room side.
            cover = slice(max(0, bx1 - 8), bx1 + max(1, round(c.blackbody_cover * (bx2 - bx1))))
            temp[max(0, by1 - 6) : by2 + 6, cover] = c.blackbody_cover_c
            emis[max(0, by1 - 6) : by2 + 6, cover] = 0.95
        return temp, emis

    def render(self, faces: list[SimulatedFace], at: float) -> ThermalFrame:
        """One frame at time ``at`` seconds, as the camera would report it (uint16 centi-Kelvin)."""
        c = self.config
        temp, emis = self._scene(faces)
        seen = temp.copy()
        grey = emis < 1.0
        seen[grey] = _apparent_map(temp[grey], emis[grey], c.ambient_c if c.reflected_c is None else c.reflected_c)
        if c.blur_sigma_px > 0:
            seen = cv2.GaussianBlur(seen, (0, 0), c.blur_sigma_px, borderType=cv2.BORDER_REPLICATE)
        reported = seen + c.gain_error * (seen - 30.0) + self.offset_map_c(at)
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


# ---------------------------------------------------------------------------------------- random scenes

Range = tuple[float, float]


class SceneRanges(Strict):
    """Where :func:`random_scene` draws what the corrector must not know (uniform unless said otherwise).

    The ranges are our reading of the literature and of Lepton-class datasheets, not measurements:
    skin emissivity 0.97-0.99 (Steketee 1973 and later work); the inner canthus sits a share 0.93-0.97
    of the way from air to core (screening studies report person-to-person canthus-to-core scatter of
    a few tenths of a degree); uncooled microbolometer offsets of several degrees that drift with the
    housing temperature, a non-uniformity of a few tenths between shutter events, gain errors of
    1-2 %; ISO/TR 13154 registration and distance advice.
    """

    ambient_c: Range = (16.0, 30.0)
    wall_minus_air_c: Range = Field(default=(-1.5, 1.5), description="walls in view vs. the air")
    reflected_minus_air_c: Range = Field(default=(-5.0, 5.0), description="radiant surroundings (cold glass, warm lamps) vs. the air")
    ambient_sensor_error_c: Range = Field(default=(-0.5, 0.5), description="the room sensor's own error")
    afebrile_core_c: Range = Field(default=(36.0, 37.4), description="core temperature of the afebrile visitors")
    febrile_core_c: Range = Field(default=(37.5, 40.0), description="core temperature of the febrile visitors")
    febrile_share: float = Field(default=0.3, ge=0.0, le=1.0, description="share of febrile visitors")
    canthus_coupling: Range = (0.93, 0.97)
    skin_coupling: Range = (0.70, 0.85)
    skin_emissivity: Range = (0.97, 0.99)
    interocular_px: Range = Field(default=(8.0, 40.0), description="eye distance in thermal pixels: the visitor's distance")
    registration_error_px: Range = Field(default=(0.0, 3.0), description="how far the given canthi are off the rendered ones")
    blur_sigma_px: Range = Field(default=(0.5, 1.2), description="optics blur (focus varies with distance)")
    drift_offset_c: Range = (-5.0, 5.0)
    drift_rate_c_per_min: Range = (-1.0, 1.0)
    gain_error: Range = (-0.02, 0.02)
    noise_c: Range = (0.03, 0.08)
    offset_gradient_c: Range = Field(default=(0.0, 0.4), description="size of the offset non-uniformity edge to edge, random direction")
    ffc_share: float = Field(default=0.15, ge=0.0, le=1.0, description="share of scenes with a shutter event in the last 3 s")
    ffc_jump_c: Range = (-1.0, 1.0)
    ffc_transient_c: Range = Field(default=(0.5, 2.0), description="size of the decaying transient (sign drawn too)")
    covered_share: float = Field(default=0.05, ge=0.0, le=1.0, description="share of scenes with the blackbody covered")
    cover: Range = Field(default=(0.3, 1.0), description="share of the blackbody's width covered")
    cover_minus_air_c: Range = Field(default=(-2.0, 12.0), description="what covers it (sleeve, bag, hand) vs. the air")


@dataclass(frozen=True, slots=True)
class Scene:
    """One drawn visitor and camera state, with what the corrector is given and the hidden truth.

    Attributes:
        simulator: renders the frames (its config holds the hidden camera and room state).
        face: the visitor as rendered (true position, core temperature, own coupling and emissivity).
        canthi: (2, 2) inner canthi the corrector is given, thermal px (registration error included).
        box: face box the corrector is given, thermal px.
        times: capture times of the frames leading up to and including the measured one, seconds.
        ambient_sensor_c: what the room sensor reports.
        effects: the hidden values drawn, by name (for reports and tests).
    """

    simulator: ThermalSimulator
    face: SimulatedFace
    canthi: npt.NDArray[np.float64]
    box: npt.NDArray[np.float64]
    times: tuple[float, ...]
    ambient_sensor_c: float
    effects: dict[str, float]


def inner_canthi(eyes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(2, 2) inner canthi from (2, 2) right and left eye centres (as the face landmarks place them)."""
    right, left = eyes
    return np.array([right + CANTHUS_FRACTION * (left - right), left + CANTHUS_FRACTION * (right - left)])


def random_scene(
    rng: np.random.Generator,
    calibration: ThermalCalibration,
    ranges: SceneRanges | None = None,
    frames: int = 4,
    frame_interval_s: float = 1 / 8.7,
    **fixed: float,
) -> Scene:
    """Draw one scene; ``fixed`` pins any drawn effect by name (e.g. ``cover=1.0`` for tests).

    >>> from edge.usecases.entrance.thermal.calibration import ThermalCalibration
    >>> cal = ThermalCalibration(rgb_size=(1280, 960), homography=((0.125, 0, 0), (0, 0.125, 0), (0, 0, 1)),
    ...                          blackbody={"roi": (144, 4, 156, 16), "set_point_c": 35.0})
    >>> s = random_scene(np.random.default_rng(1), cal, cover=0.0)
    >>> len(s.times), s.effects["cover"], 0.93 <= s.face.canthus_coupling <= 0.97
    (4, 0.0, True)
    """
    r = ranges or SceneRanges()
    e: dict[str, float] = {}

    def draw(name: str, bounds: Range) -> float:
        e[name] = float(fixed[name]) if name in fixed else float(rng.uniform(*bounds))
        return e[name]

    def chance(name: str, share: float) -> bool:
        e[name] = float(fixed[name]) if name in fixed else float(rng.random() < share)
        return bool(e[name])

    w, h = calibration.thermal_size
    air = draw("ambient_c", r.ambient_c)
    febrile = chance("febrile", r.febrile_share)
    core = draw("core_c", r.febrile_core_c if febrile else r.afebrile_core_c)
    iod = draw("interocular_px", r.interocular_px)
    # The face sits anywhere it fits, clear of the blackbody's column.
    bx1 = calibration.blackbody.roi[0]
    cx = draw("face_x", (1.2 * iod + 2, max(1.2 * iod + 3, bx1 - 6 - 1.2 * iod)))
    cy = draw("face_y", (0.9 * iod + 2, max(0.9 * iod + 3, h - 2 - 1.6 * iod)))
    eyes = np.array([[cx - iod / 2, cy], [cx + iod / 2, cy]])
    face = SimulatedFace(
        (cx - 1.1 * iod, cy - 0.9 * iod, cx + 1.1 * iod, cy + 1.6 * iod), eyes, core,
        skin_emissivity=draw("skin_emissivity", r.skin_emissivity),
        canthus_coupling=draw("canthus_coupling", r.canthus_coupling),
        skin_coupling=draw("skin_coupling", r.skin_coupling),
    )
    error = draw("registration_error_px", r.registration_error_px)
    angle = draw("registration_angle", (0.0, 2 * np.pi))
    shift = error * np.array([np.cos(angle), np.sin(angle)])
    gradient = draw("offset_gradient_c", r.offset_gradient_c)
    direction = draw("offset_gradient_angle", (0.0, 2 * np.pi))
    at = draw("at_s", (5.0, 600.0))
    times = tuple(at - (frames - 1 - k) * frame_interval_s for k in range(frames))
    ffc = chance("ffc", r.ffc_share)
    covered = chance("covered", r.covered_share)
    config = SimulatorConfig(
        size=(w, h), ambient_c=air, blackbody=calibration.blackbody,
        wall_minus_air_c=draw("wall_minus_air_c", r.wall_minus_air_c),
        reflected_c=air + draw("reflected_minus_air_c", r.reflected_minus_air_c),
        drift_offset_c=draw("drift_offset_c", r.drift_offset_c),
        drift_rate_c_per_min=draw("drift_rate_c_per_min", r.drift_rate_c_per_min),
        gain_error=draw("gain_error", r.gain_error),
        noise_c=draw("noise_c", r.noise_c),
        blur_sigma_px=draw("blur_sigma_px", r.blur_sigma_px),
        offset_gradient_c=(gradient * np.cos(direction), gradient * np.sin(direction)),
        ffc_at_s=at - draw("ffc_age_s", (0.0, 3.0)) if ffc else None,
        ffc_jump_c=draw("ffc_jump_c", r.ffc_jump_c) if ffc else 0.0,
        ffc_transient_c=draw("ffc_transient_c", r.ffc_transient_c) * (1 if rng.random() < 0.5 else -1) if ffc else 0.0,
        blackbody_cover=draw("cover", r.cover) if covered else float(fixed.get("cover", 0.0)),
        blackbody_cover_c=air + draw("cover_minus_air_c", r.cover_minus_air_c),
        seed=int(rng.integers(2**31)),
    )
    e.setdefault("cover", config.blackbody_cover)
    sim = ThermalSimulator(config, calibration)
    return Scene(sim, face, inner_canthi(eyes) + shift, np.asarray(face.box) + np.tile(shift, 2), times,
                 air + draw("ambient_sensor_error_c", r.ambient_sensor_error_c), e)
