"""Config of the entrance analyzer (use case A), kept free of model imports so store configs load fast.

Example store YAML (camera section)::

    analyzers:
      - type: entrance
        fever_threshold_c: 37.5
        thermal:
          calibration: calibration/entrance-thermal.yaml
          source: {kind: simulated, visitors_core_c: [36.6, 38.4]}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from edge.usecases.entrance.thermal.provider import RecordedThermalConfig, SimulatedThermalConfig, UvcThermalConfig
from services.shared.strict import Strict


def _relative_to_yaml(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if base is not None and not value.is_absolute():
        value = Path(base) / value
    return Path(os.path.normpath(value))


class EntranceThermalConfig(Strict):
    calibration: Path = Field(description="thermal calibration YAML (homography, blackbody), relative to the store YAML")
    source: Annotated[
        SimulatedThermalConfig | RecordedThermalConfig | UvcThermalConfig, Field(discriminator="kind")
    ] = SimulatedThermalConfig()
    ambient_c: float | None = Field(
        default=None, ge=-10.0, le=50.0, description="room temperature from a sensor, °C; default: estimated from the thermal background"
    )

    @field_validator("calibration")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        from edge.usecases.entrance.thermal.calibration import load_calibration

        path = _relative_to_yaml(value, info)
        try:
            load_calibration(path)  # a missing or invalid calibration fails at config load, naming the file and field
        except FileNotFoundError as exc:
            raise ValueError(str(exc)) from None
        return path

    @field_validator("source")
    @classmethod
    def _resolve_recording(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, RecordedThermalConfig):
            path = _relative_to_yaml(value.path, info)
            if not path.is_file():
                raise ValueError(f"thermal recording {path} does not exist")
            return value.model_copy(update={"path": path})
        return value


class EntranceAnalyzerConfig(Strict):
    """Use case A: mask wearing (notice) and suspected fever (review by staff) at the entrance."""

    type: Literal["entrance"] = "entrance"
    mask_classifier: Literal["linear", "mobilenetv2", "aizoo"] = Field(
        default="linear", description="linear: the project's trained head (best measured); see models/cards/anshin_mask_head.md"
    )
    mask_threshold: float = Field(default=0.5, gt=0.0, lt=1.0, description="P(mask) at or above which a face counts as masked")
    face_score: float = Field(default=0.6, ge=0.0, le=1.0, description="YuNet minimum face score")
    min_face_px: float = Field(default=32.0, ge=8.0, description="faces whose shorter side is smaller are not screened, pixels")
    min_frames: int = Field(default=3, ge=1, le=1000, description="frames a face must be seen before a decision")
    track_iou: float = Field(default=0.3, gt=0.0, lt=1.0, description="box overlap that continues an anonymous face track")
    track_max_age_s: float = Field(default=2.0, gt=0.0, description="a face unseen this long is forgotten, seconds")
    fever_threshold_c: float = Field(default=37.5, ge=35.0, le=42.0, description="estimated core temperature that needs review, °C")
    thermal: EntranceThermalConfig | None = Field(default=None, description="no thermal section: masks only")
