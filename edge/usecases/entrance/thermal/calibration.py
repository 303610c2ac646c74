"""The per-installation thermal calibration file: registration, blackbody, physics constants.

Example (YAML)::

    thermal_size: [160, 120]          # width, height of the thermal frames, pixels
    rgb_size: [1280, 720]             # RGB resolution the homography was fitted at, pixels
    homography: [[0.125, 0, 0], [0, 0.125, 15], [0, 0, 1]]   # RGB pixels -> thermal pixels
    blackbody: {roi: [144, 4, 156, 16], set_point_c: 35.0, emissivity: 0.98}
    skin_emissivity: 0.98
    canthus_coupling: 0.95
    blur_sigma_px: 0.8                # optics blur, thermal pixels
    registration_tolerance_px: 2.0    # homography residual, thermal pixels

Fit ``homography`` with :func:`edge.usecases.entrance.thermal.registration.fit_homography` from at least four
points seen by both cameras (e.g. the corners of a heated plate at the usual visitor distance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from services.shared.strict import Strict


class BlackbodyConfig(Strict):
    roi: tuple[int, int, int, int] = Field(description="x1, y1, x2, y2 of the reference's face in thermal pixels")
    set_point_c: float = Field(ge=20.0, le=50.0, description="temperature the blackbody holds, °C")
    emissivity: float = Field(default=0.98, gt=0.5, le=1.0, description="emissivity of the reference surface")

    @field_validator("roi")
    @classmethod
    def _ordered(cls, roi: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x1, y1, x2, y2 = roi
        if x2 <= x1 or y2 <= y1 or x1 < 0 or y1 < 0:
            raise ValueError(f"must be x1 < x2 and y1 < y2, non-negative (got {list(roi)})")
        return roi


class ThermalCalibration(Strict):
    thermal_size: tuple[int, int] = Field(default=(160, 120), description="width, height of thermal frames, pixels")
    rgb_size: tuple[int, int] = Field(description="width, height of RGB frames the homography was fitted at, pixels")
    homography: tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]] = Field(
        description="3x3 matrix mapping RGB pixel coordinates to thermal pixel coordinates"
    )
    blackbody: BlackbodyConfig
    skin_emissivity: float = Field(default=0.98, gt=0.5, le=1.0, description="emissivity of human skin (≈0.98)")
    canthus_coupling: float = Field(
        default=0.95,
        gt=0.5,
        le=1.0,
        description="k in T_canthus = T_ambient + k (T_core - T_ambient): the steady-state share of the "
        "core-to-ambient temperature difference still present at the inner canthus",
    )
    min_interocular_px: float = Field(
        default=16.0,
        gt=0.0,
        description="faces whose eyes are closer than this in thermal pixels are too far to measure: the warm "
        "canthal spot then covers too few pixels (Lepton 3.5: a visitor within about 0.6 m)",
    )
    blur_sigma_px: float = Field(
        default=0.8,
        ge=0.0,
        description="the optics' blur (Gaussian sigma) at the visitor distance, thermal pixels, from the lens "
        "calibration; a canthal spot narrower than 3 sigma is not read (blur lowers its peak)",
    )
    registration_tolerance_px: float = Field(
        default=2.0,
        ge=0.0,
        description="how far the homography may place a point off, thermal pixels (its fit residual at the usual "
        "distance): the canthus search reaches this much further",
    )

    @model_validator(mode="after")
    def _checks(self) -> ThermalCalibration:
        if abs(np.linalg.det(np.asarray(self.homography))) < 1e-12:
            raise ValueError("homography: matrix is singular")
        w, h = self.thermal_size
        x1, y1, x2, y2 = self.blackbody.roi
        if x2 > w or y2 > h:
            raise ValueError(f"blackbody.roi {list(self.blackbody.roi)} lies outside the thermal frame {w}x{h}")
        return self

    @property
    def h(self) -> np.ndarray:
        """(3, 3) float64 homography, RGB → thermal pixels."""
        return np.asarray(self.homography, dtype=np.float64)


def load_calibration(path: Path) -> ThermalCalibration:
    """Read and validate a calibration YAML/JSON file; errors name the file and the field."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"thermal calibration file {path} not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return ThermalCalibration.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()]
        raise ValueError("invalid thermal calibration:\n" + "\n".join(lines)) from None
