"""Config of F comfort (light and air against their targets), free of model imports.

Targets default to Japanese guidance:

* CO₂ ≤ 1000 ppm, temperature 17-28 °C, relative humidity 40-70 %: the environmental health
  management standards of the Act on Maintenance of Sanitation in Buildings
  (建築物における衛生的環境の確保に関する法律, 建築物環境衛生管理基準; the temperature range was
  widened from 17 °C upward in the 2022 revision of its order). The Ministry of Health, Labour and
  Welfare's ventilation guidance for shops during COVID-19 uses the same 1000 ppm.
* Illuminance per the zone's task, recommended maintained illuminance of JIS Z 9110:2010
  (照明基準総則): sales floor 500 lx, office work 750 lx, corridors and stock rooms 100 lx
  (:data:`JIS_Z9110_LUX`). Check the standard's table for your kind of shop; a zone may set its
  own ``min_lux``.

A section::

    analyzers:
      - type: comfort
        interval_s: 30
        sensors: [air-1]                 # the store's sensors (sensors: section) giving CO2, °C, %RH
        air_zone: sales-floor            # where that air is measured
        light:
          zones: {plaza: {task: sales_floor}}
          calibration: {zone: plaza, lux: 620, luminance: 0.21}   # one lux-meter reading
        targets: {co2_ppm: {high: 900}}  # override a default

>>> cfg = ComfortAnalyzerConfig(sensors=["air-1"])
>>> t = cfg.target("co2_ppm"); (t.low, t.high, t.hysteresis)
(None, 1000.0, 50.0)
>>> cfg.target("temperature_c").low, cfg.target("humidity_pct").high
(17.0, 70.0)
>>> LightZone(task="sales_floor").target().low
500.0
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, model_validator

from edge.config_errors import ConfigProblem
from services.contract.events import Identifier
from services.shared.strict import Strict

#: Recommended maintained illuminance (lx) by task, JIS Z 9110:2010.
JIS_Z9110_LUX: dict[str, float] = {
    "sales_floor": 500.0,   # 売場（一般）
    "office": 750.0,        # 事務所
    "corridor": 100.0,      # 廊下・通路
    "storeroom": 100.0,     # 倉庫
}

Task = Literal["sales_floor", "office", "corridor", "storeroom"]

#: Units of the quantities comfort knows.
UNITS: dict[str, str] = {"co2_ppm": "ppm", "temperature_c": "°C", "humidity_pct": "%", "lux": "lx"}


class Target(Strict):
    """The comfortable range of one quantity and how far inside it a value must come back.

    ``hysteresis``: a value that left the range counts as back only once it is this far inside
    (so a reading hovering at the limit does not raise and clear notices in turn).
    """

    low: float | None = Field(default=None, description="lowest comfortable value (None: no lower limit)")
    high: float | None = Field(default=None, description="highest comfortable value (None: no upper limit)")
    hysteresis: float = Field(default=0.0, ge=0.0, description="margin inside the range before a value counts as back")

    @model_validator(mode="after")
    def _range(self) -> Target:
        if self.low is None and self.high is None:
            raise ValueError("a target needs low, high or both")
        if self.low is not None and self.high is not None and self.high - self.low <= 2 * self.hysteresis:
            raise ValueError(f"high - low ({self.high} - {self.low}) must exceed twice the hysteresis ({self.hysteresis})")
        return self


#: Default targets (see the module docstring for their sources).
DEFAULT_TARGETS: dict[str, Target] = {
    "co2_ppm": Target(high=1000.0, hysteresis=50.0),
    "temperature_c": Target(low=17.0, high=28.0, hysteresis=0.5),
    "humidity_pct": Target(low=40.0, high=70.0, hysteresis=2.0),
}


class LightZone(Strict):
    """A camera zone whose light level is watched."""

    task: Task = Field(default="sales_floor", description="what the zone is for; its JIS Z 9110 illuminance is the target")
    min_lux: float | None = Field(default=None, gt=0, description="own lowest illuminance (lx) instead of the task's")

    def target(self) -> Target:
        low = self.min_lux if self.min_lux is not None else JIS_Z9110_LUX[self.task]
        return Target(low=low, hysteresis=round(0.05 * low, 3))  # back at 5 % above the minimum


class LightCalibration(Strict):
    """One reference reading: a lux meter in ``zone`` read ``lux`` while the camera's linear mean
    luminance of that zone (:func:`edge.usecases.comfort.light.zone_luminance`, 0-1) was ``luminance``."""

    zone: Identifier = Field(description="the zone the lux meter was in")
    lux: float = Field(gt=0, le=200_000, description="lux meter reading (lx)")
    luminance: float = Field(gt=0, le=1, description="the camera's linear mean luminance of the zone at that moment (0-1)")
    frame_luminance: float | None = Field(
        default=None, gt=0, le=1,
        description="the whole frame's linear mean luminance at that moment: the exposure guard starts from it "
                    "(None: from the first frame)")


class LightConfig(Strict):
    """Light level per zone from the camera, with its calibration and the exposure guard."""

    zones: dict[Identifier, LightZone] = Field(min_length=1, description="zones of the camera to watch")
    calibration: LightCalibration
    every_s: float = Field(default=1.0, gt=0, le=3600, description="seconds of frame time between light measurements")
    max_step: float = Field(
        default=0.15, gt=0, le=2,
        description="a change of the whole frame's brightness beyond this (natural log of the ratio) against its recent "
                    "level is an exposure change: readings are untrusted until it is undone")
    follow_s: float = Field(default=300.0, gt=0, le=86_400,
                            description="seconds over which the trusted brightness level follows slow, real changes (daylight)")


class ComfortAnalyzerConfig(Strict):
    """F comfort: light per zone from the camera, air from sensors, each against its target."""

    type: Literal["comfort"] = "comfort"
    sensors: list[str] = Field(default_factory=list, description="ids of the store's sensors giving air readings")
    air_zone: Identifier = Field(default="store", description="the zone the air sensors stand in")
    light: LightConfig | None = Field(default=None, description="light from the camera; None: air only")
    targets: dict[str, Target] = Field(default_factory=dict, description="targets overriding the defaults, by quantity")
    min_out_s: float = Field(default=60.0, ge=0, le=86_400, description="seconds out of range before a notice")
    interval_s: float = Field(default=30.0, gt=0, le=3600, description="seconds between comfort.reading reports per value")

    @model_validator(mode="after")
    def _something_to_watch(self) -> ComfortAnalyzerConfig:
        if not self.sensors and self.light is None:
            raise ValueError("comfort needs sensors (air), light (camera) or both")
        return self

    def target(self, quantity: str) -> Target | None:
        """The target of an air quantity (configured, else the default); None: not watched."""
        return self.targets.get(quantity) or DEFAULT_TARGETS.get(quantity)


def check_light_zones(store: Any) -> Iterator[ConfigProblem]:
    """Light zones and the calibration zone must be zones of the camera."""
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not isinstance(analyzer, ComfortAnalyzerConfig) or analyzer.light is None:
                continue
            for name in analyzer.light.zones:
                if name not in cam.zones:
                    yield ConfigProblem(("cameras", cam_id, "analyzers", i, "light", "zones", name),
                                        f"not a zone of this camera; defined: {sorted(cam.zones)}", name)
            ref = analyzer.light.calibration.zone
            if ref not in cam.zones:
                yield ConfigProblem(("cameras", cam_id, "analyzers", i, "light", "calibration", "zone"),
                                    f"not a zone of this camera; defined: {sorted(cam.zones)}", ref)
