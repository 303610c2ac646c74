"""Typed config of one site's ventilation (``config/<store>-ventilation.yaml``): the building's point
map, each zone's geometry and ventilation rates, the controller's settings and the failsafe.

pydantic and the standard library only: the config loads without pymodbus or BAC0.

>>> cfg = VentilationConfig.model_validate({
...     "store_id": "s1", "device_id": "ahu-1",
...     "building": {"protocol": "modbus", "host": "127.0.0.1", "port": 5020},
...     "zones": {"floor": {"area_m2": 200, "height_m": 3, "max_airflow_m3h": 3000, "fan_design_kw": 1.5,
...                         "points": {"co2_ppm": {"address": 0}, "airflow_m3h": {"address": 5},
...                                    "damper_setpoint_pct": {"address": 0, "table": "holding", "scale": 0.1},
...                                    "fan_setpoint_pct": {"address": 1, "table": "holding", "scale": 0.1}}}}})
>>> cfg.zones["floor"].volume_m3, cfg.control.co2_setpoint_ppm, cfg.failsafe.action
(600.0, 800.0, 'max_outdoor_air')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from edge.usecases.ventilation.physics import MET
from services.shared.strict import Strict
from services.shared.yaml_files import load_yaml_model

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

#: Points a zone reads (``*_setpoint_pct`` are written). co2_ppm and airflow_m3h are required.
READ_POINTS = ("co2_ppm", "temperature_c", "humidity_pct", "damper_pct", "fan_pct", "airflow_m3h")
WRITE_POINTS = ("damper_setpoint_pct", "fan_setpoint_pct")
REQUIRED_POINTS = ("co2_ppm", "airflow_m3h", *WRITE_POINTS)


class ModbusPoint(Strict):
    """One value in a Modbus device: register, table, type and scaling (value = raw × scale + offset)."""

    address: int = Field(ge=0, le=65535, description="register address (0-based)")
    table: Literal["input", "holding"] = Field(default="input", description="input (read-only) or holding (read/write)")
    data_type: Literal["uint16", "int16"] = "uint16"
    scale: float = Field(default=1.0, gt=0, description="engineering value per raw count")
    offset: float = 0.0
    unit: str = Field(default="", max_length=16)
    limits: tuple[float, float] | None = Field(default=None, description="[min, max] a write may set (setpoints)")

    def to_raw(self, value: float) -> int:
        """The register word for ``value`` (rounded; two's complement for int16).

        >>> ModbusPoint(address=0, scale=0.1).to_raw(55.56), ModbusPoint(address=0, data_type="int16").to_raw(-2)
        (556, 65534)
        """
        raw = round((value - self.offset) / self.scale)
        low, high = (-32768, 32767) if self.data_type == "int16" else (0, 65535)
        if not low <= raw <= high:
            raise ValueError(f"{value} does not fit a {self.data_type} register at scale {self.scale}")
        return raw & 0xFFFF

    def from_raw(self, word: int) -> float:
        if self.data_type == "int16" and word >= 0x8000:
            word -= 0x10000
        return round(word * self.scale + self.offset, 6)  # 573 × 0.1 is 57.3, not 57.300000000000004


class BacnetPoint(Strict):
    """One BACnet object's present value (e.g. ``analogInput`` 1), with its unit and write limits."""

    object_type: Literal["analogInput", "analogValue", "analogOutput"]
    instance: int = Field(ge=0, le=4_194_302)
    unit: str = Field(default="", max_length=16)
    limits: tuple[float, float] | None = None


class ModbusBuilding(Strict):
    """An air handler reached over Modbus TCP."""

    protocol: Literal["modbus"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=247)
    timeout_s: float = Field(default=1.0, gt=0, le=30)


class BacnetBuilding(Strict):
    """An air handler reached over BACnet/IP (BAC0): the device's address and instance."""

    protocol: Literal["bacnet"]
    address: str = Field(min_length=1, max_length=64, description="device IP[:port], e.g. 192.168.1.40 or 127.0.0.1:47809")
    device_instance: int = Field(ge=0, le=4_194_302)
    local_ip: str = Field(default="", description="our BACnet interface as IP/prefix[:port]; empty: BAC0 picks")
    timeout_s: float = Field(default=3.0, gt=0, le=60)


Building = Annotated[Union[ModbusBuilding, BacnetBuilding], Field(discriminator="protocol")]


class OccupancySource(Strict):
    """Where a zone's occupant count comes from: F's zones on one camera (summed)."""

    camera: str = Field(min_length=1, max_length=64)
    zones: list[str] = Field(min_length=1, max_length=32)


class ZoneConfig(Strict):
    """One ventilated zone: geometry, design rates, fan, points."""

    area_m2: float = Field(gt=0, le=100_000)
    height_m: float = Field(gt=0, le=50)
    activity: str = Field(default="walking", description=f"one of {', '.join(MET)} (sets CO₂ generation per person)")
    #: ASHRAE 62.1 Table 6.2.2.1, "Sales (except as below)": Rp 3.8 L/s·person, Ra 0.3 L/s·m².
    rp_ls_per_person: float = Field(default=3.8, ge=0, le=50, description="ASHRAE 62.1 Rp, L/s per person")
    ra_ls_per_m2: float = Field(default=0.3, ge=0, le=10, description="ASHRAE 62.1 Ra, L/s per m²")
    japan_m3h_per_person: float = Field(default=30.0, ge=0, le=200, description="Japan's guideline, m³/h per person")
    max_airflow_m3h: float = Field(gt=0, le=1_000_000, description="outdoor air at damper 100 % and fan 100 %")
    fan_design_kw: float = Field(gt=0, le=1000, description="fan power at fan 100 %")
    occupancy: OccupancySource | None = None
    points: dict[str, Union[ModbusPoint, BacnetPoint]] = Field(description=f"point map: {', '.join(READ_POINTS + WRITE_POINTS)}")

    @property
    def volume_m3(self) -> float:
        return self.area_m2 * self.height_m

    @model_validator(mode="after")
    def _points(self) -> ZoneConfig:
        if self.activity not in MET:
            raise ValueError(f"activity {self.activity!r} is not one of {', '.join(MET)}")
        unknown = sorted(set(self.points) - set(READ_POINTS + WRITE_POINTS))
        if unknown:
            raise ValueError(f"unknown points {unknown}; a zone has {', '.join(READ_POINTS + WRITE_POINTS)}")
        missing = [p for p in REQUIRED_POINTS if p not in self.points]
        if missing:
            raise ValueError(f"points missing: {missing} (needed to measure and to act)")
        for name in WRITE_POINTS:
            point = self.points[name]
            if isinstance(point, ModbusPoint) and point.table != "holding":
                raise ValueError(f"{name} must be a holding register (it is written)")
        return self


class ControlConfig(Strict):
    """Demand-controlled ventilation: feed-forward from occupancy plus PI on CO₂."""

    interval_s: float = Field(default=60.0, gt=0, le=3600, description="control period, seconds of building time")
    co2_setpoint_ppm: float = Field(default=800.0, ge=450, le=5000, description="the PI loop holds CO₂ here")
    kp_m3h_per_ppm: float = Field(default=4.0, ge=0, le=1000, description="proportional gain per zone m³ ... per ppm")
    ti_s: float = Field(default=600.0, gt=0, le=86_400, description="integral time, seconds")
    ramp_fraction_per_min: float = Field(default=0.25, gt=0, le=1, description="largest airflow change per minute, fraction of max")
    min_fan_pct: float = Field(default=20.0, ge=0, le=100)
    min_damper_pct: float = Field(default=10.0, ge=0, le=100)
    deadband_pct: float = Field(default=1.0, ge=0, le=20, description="setpoint changes below this are not written")
    clock_scale: float = Field(default=1.0, gt=0, le=3600,
                               description="building seconds per real second (1 live; the demo's simulator runs faster)")


class FailsafeConfig(Strict):
    """What happens when the building stops answering or a zone's CO₂ reading is lost."""

    action: Literal["max_outdoor_air", "hold"] = "max_outdoor_air"
    device_watchdog_s: float = Field(default=300.0, gt=0, le=86_400,
                                     description="the device applies `action` itself after this long without a setpoint write")


class PurgeConfig(Strict):
    air_changes: float = Field(default=5.0, gt=0, le=50, description="air changes a purge delivers before DCV resumes")


class VentilationConfig(Strict):
    """One site's ventilation."""

    store_id: str = Field(pattern=_NAME.pattern)
    device_id: str = Field(pattern=_NAME.pattern, description="the command channel's device id of this air handler")
    building: Building
    zones: dict[str, ZoneConfig] = Field(min_length=1, max_length=64)
    control: ControlConfig = ControlConfig()
    failsafe: FailsafeConfig = FailsafeConfig()
    purge: PurgeConfig = PurgeConfig()
    state_interval_s: float = Field(default=60.0, gt=0, le=3600, description="building seconds between zone reports")

    @model_validator(mode="after")
    def _points_fit_protocol(self) -> VentilationConfig:
        kind = ModbusPoint if self.building.protocol == "modbus" else BacnetPoint
        for name, zone in self.zones.items():
            if not _NAME.fullmatch(name):
                raise ValueError(f"zone name {name!r}: letters, digits and _.:- only, up to 64")
            wrong = [p for p, v in zone.points.items() if not isinstance(v, kind)]
            if wrong:
                raise ValueError(f"zone {name}: points {wrong} are not {self.building.protocol} points")
        return self


class VentilationConfigError(ValueError):
    """The file is missing, not YAML, or does not fit :class:`VentilationConfig` (each problem named)."""


def load(path: str | Path) -> VentilationConfig:
    """Read and check a site's ventilation config."""
    return load_yaml_model(path, VentilationConfig, VentilationConfigError, what="a ventilation config")
