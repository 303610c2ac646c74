"""Config of use case F (people per zone against capacity), free of model imports.

The camera defines its zones (polygons, :class:`edge.config.ZoneConfig`); this section picks
the zones F watches and gives each its capacity::

    analyzers:
      - type: occupancy
        interval_s: 2.0
        zones:
          plaza: {capacity: 3}
          crossing: {capacity: 2}

>>> from types import SimpleNamespace as NS
>>> cfg = OccupancyAnalyzerConfig(zones={"door": {"capacity": 2}}, hysteresis=3)
>>> camera = NS(zones={"door": object()}, analyzers=[cfg])
>>> [p.render() for p in check_hysteresis_fits_capacity(NS(cameras={"c1": camera}))]
["cameras.c1.analyzers[0].hysteresis: larger than the capacity of zone 'door' (2); the alert could never re-arm (got 3)"]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from edge.config_errors import ConfigProblem
from services.contract.events import Identifier
from services.shared.strict import Strict


class OccupancyZone(Strict):
    """F's settings for one zone of the camera."""

    capacity: int = Field(gt=0, description="people allowed in the zone at once")


class CountCalibrationConfig(Strict):
    """How raw person detections become a people count on this camera (see ``counting.py``).

    The calibration file (``anshin eval fit-count``) maps whole-frame detections to people; it holds
    only for the detector settings it was fitted with (checked against the camera's ``detector``)
    and for the range of whole-frame detection counts it was fitted on (``valid_detected``, from
    the fit's frames). Outside that range the count is published raw with ``calibrated: false``.
    Zones get the whole frame's correction as a per-detection weight (calibrated / raw total).
    """

    calibration: Path = Field(description="count calibration JSON, relative to the store YAML")
    valid_detected: tuple[int, int] = Field(
        description="[lowest, highest] whole-frame person detections the calibration was fitted on")

    @field_validator("calibration")
    @classmethod
    def _load(cls, value: Path, info: ValidationInfo) -> Path:
        from edge.eval.calibration import CountCalibration  # pydantic + numpy only; no model is loaded

        base = (info.context or {}).get("base_dir")
        value = value.expanduser()
        if base is not None and not value.is_absolute():
            value = Path(base) / value
        path = Path(os.path.normpath(value))
        try:
            CountCalibration.load(path)  # a missing or invalid file fails at config load, naming it
        except FileNotFoundError as exc:
            raise ValueError(str(exc)) from None
        return path

    @model_validator(mode="after")
    def _ordered(self) -> CountCalibrationConfig:
        low, high = self.valid_detected
        if not 0 <= low <= high:
            raise ValueError(f"valid_detected must be [low, high] with 0 <= low <= high, got {list(self.valid_detected)}")
        return self


class OccupancyAnalyzerConfig(Strict):
    """Use case F: people per zone vs. capacity."""

    type: Literal["occupancy"] = "occupancy"
    zones: dict[Identifier, OccupancyZone] = Field(
        min_length=1, description="the camera's zones to watch, each with its capacity"
    )
    interval_s: float = Field(default=2.0, gt=0, le=3600, description="seconds between zone.occupancy reports")
    hysteresis: int = Field(default=1, ge=0, description="people below capacity before an alert re-arms")
    min_frames: int = Field(default=3, ge=1, le=10_000, description="consecutive frames over capacity before alerting")
    count: CountCalibrationConfig | None = Field(
        default=None, description="count calibration for crowded views; None: count tracked people as they are")


def check_hysteresis_fits_capacity(store: Any) -> Iterator[ConfigProblem]:
    """An alert re-arms at count <= capacity - hysteresis; that must be reachable (>= 0)."""
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, OccupancyAnalyzerConfig):
                continue
            for name, zone in analyzer.zones.items():
                if name in cam.zones and analyzer.hysteresis > zone.capacity:
                    yield ConfigProblem(
                        ("cameras", cam_id, "analyzers", i, "hysteresis"),
                        f"larger than the capacity of zone {name!r} ({zone.capacity}); the alert could never re-arm",
                        analyzer.hysteresis,
                    )


#: Detector settings that change the speed, not the boxes (a pydantic ``exclude`` spec).
SPEED_ONLY_SETTINGS: dict[str, Any] = {"threads": True, "tiles": {"workers": True}}


def check_calibration_fits_detector(store: Any) -> Iterator[ConfigProblem]:
    """A count calibration holds only for the detector settings it was fitted with (threads and tile
    workers aside: they change the speed, not the boxes)."""
    from edge.eval.calibration import CountCalibration

    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, OccupancyAnalyzerConfig) or analyzer.count is None:
                continue
            fitted = CountCalibration.load(analyzer.count.calibration).detector
            fitted_settings = fitted.model_dump(exclude=SPEED_ONLY_SETTINGS)
            camera_settings = cam.detector.model_dump(exclude=SPEED_ONLY_SETTINGS)
            differ = sorted(k for k in fitted_settings if fitted_settings[k] != camera_settings.get(k))
            if differ:
                yield ConfigProblem(
                    ("cameras", cam_id, "analyzers", i, "count", "calibration"),
                    f"fitted with other detector settings than this camera's ({', '.join(differ)}: "
                    f"{', '.join(f'{k}={fitted_settings[k]!r}' for k in differ)})",
                    str(analyzer.count.calibration),
                )
