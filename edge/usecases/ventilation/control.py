"""Demand-controlled ventilation of one zone, as pure functions: the required outdoor air, a
feed-forward plus PI loop on CO₂ with ramp and min/max limits, and the split of an airflow into
fan and damper setpoints.

Required outdoor air (m³/h) is the larger of
  * ASHRAE 62.1 breathing-zone rate Vbz = Rp·Pz + Ra·Az (L/s, × 3.6), and
  * Japan's 30 m³/h per person (MHLW / Building Standards guidance),
and, so that the loop starts near where it will settle, the CO₂ balance flow that holds the
setpoint with the zone's activity (people × generation / (setpoint − outdoor)). A PI term on the
measured CO₂ corrects what the feed-forward gets wrong (miscounts, other activities, doors).

>>> from edge.usecases.ventilation.config import ControlConfig
>>> zone = ZoneLimits(area_m2=200, volume_m3=600, max_airflow_m3h=3000, rp_ls=3.8, ra_ls_m2=0.3,
...                   japan_m3h=30.0, co2_m3h_per_person=0.0295, outdoor_ppm=420.0)
>>> round(required_airflow_m3h(zone, occupants=20))
600
>>> round(feed_forward_m3h(zone, occupants=20, setpoint_ppm=800))
1553
>>> split(zone, 1500, ControlConfig())
Setpoints(damper_pct=100.0, fan_pct=50.0)
>>> split(zone, 100, ControlConfig())
Setpoints(damper_pct=16.7, fan_pct=20.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.usecases.ventilation.config import ControlConfig, ZoneConfig
from edge.usecases.ventilation.physics import OUTDOOR_CO2_PPM, co2_m3h_per_person


@dataclass(frozen=True, slots=True)
class ZoneLimits:
    """What the controller knows of a zone (from its config)."""

    area_m2: float
    volume_m3: float
    max_airflow_m3h: float
    rp_ls: float
    ra_ls_m2: float
    japan_m3h: float
    co2_m3h_per_person: float
    outdoor_ppm: float = OUTDOOR_CO2_PPM

    @classmethod
    def of(cls, zone: ZoneConfig) -> ZoneLimits:
        return cls(zone.area_m2, zone.volume_m3, zone.max_airflow_m3h, zone.rp_ls_per_person, zone.ra_ls_per_m2,
                   zone.japan_m3h_per_person, co2_m3h_per_person(zone.activity))


@dataclass(frozen=True, slots=True)
class Setpoints:
    """What is written to the air handler, percent."""

    damper_pct: float
    fan_pct: float

    def differs(self, other: Setpoints | None, deadband_pct: float) -> bool:
        return other is None or max(abs(self.damper_pct - other.damper_pct), abs(self.fan_pct - other.fan_pct)) >= deadband_pct


MAX = Setpoints(100.0, 100.0)


def required_airflow_m3h(zone: ZoneLimits, occupants: float) -> float:
    """max(ASHRAE 62.1 Vbz, Japan's 30 m³/h·person), m³/h."""
    ashrae = 3.6 * (zone.rp_ls * occupants + zone.ra_ls_m2 * zone.area_m2)
    return max(ashrae, zone.japan_m3h * occupants)


def feed_forward_m3h(zone: ZoneLimits, occupants: float, setpoint_ppm: float) -> float:
    """The code rate, or the flow that holds ``setpoint_ppm`` at steady state if that is more."""
    balance = 1e6 * occupants * zone.co2_m3h_per_person / max(1.0, setpoint_ppm - zone.outdoor_ppm)
    return max(required_airflow_m3h(zone, occupants), balance)


def min_airflow_m3h(zone: ZoneLimits, control: ControlConfig) -> float:
    """The least outdoor air: the area rate (building emissions with nobody in), or what the
    minimum fan and damper positions deliver, whichever is more."""
    return max(3.6 * zone.ra_ls_m2 * zone.area_m2,
               zone.max_airflow_m3h * control.min_fan_pct / 100 * control.min_damper_pct / 100)


def split(zone: ZoneLimits, airflow_m3h: float, control: ControlConfig) -> Setpoints:
    """Fan and damper for an outdoor airflow: the slowest fan that can deliver it with the damper
    open (fan power ∝ speed³), never below the minimum fan; the damper trims the rest."""
    fraction = min(1.0, max(0.0, airflow_m3h / zone.max_airflow_m3h))
    fan = max(control.min_fan_pct / 100, fraction)
    damper = max(control.min_damper_pct / 100, min(1.0, fraction / fan))
    return Setpoints(round(damper * 100, 1), round(fan * 100, 1))


def airflow_of(zone: ZoneLimits, setpoints: Setpoints) -> float:
    """Outdoor airflow the setpoints deliver on a linear damper, m³/h."""
    return zone.max_airflow_m3h * setpoints.fan_pct / 100 * setpoints.damper_pct / 100


@dataclass(frozen=True, slots=True)
class PiState:
    """The loop's memory: the integral term and the last airflow commanded (for the ramp)."""

    integral_m3h: float = 0.0
    airflow_m3h: float | None = None


def dcv_step(zone: ZoneLimits, control: ControlConfig, state: PiState, occupants: float, co2_ppm: float,
             dt_s: float) -> tuple[float, PiState]:
    """One control period: the outdoor airflow to command now, and the loop's new state.

    Output = feed-forward + Kp·e + I, e = CO₂ − setpoint (Kp scaled by the zone's maximum airflow
    per 100 ppm), clamped to [min, max] and to the ramp; the integral stops growing while the
    output is saturated in the direction of the error (anti-windup).

    >>> from edge.usecases.ventilation.config import ControlConfig
    >>> zone = ZoneLimits(200, 600, 3000, 3.8, 0.3, 30.0, 0.0295)
    >>> flow, s = dcv_step(zone, ControlConfig(), PiState(), occupants=0, co2_ppm=420, dt_s=60)
    >>> round(flow), s.integral_m3h  # nobody in: the area rate; at the minimum, no windup
    (216, 0.0)
    >>> flow2, _ = dcv_step(zone, ControlConfig(), s, occupants=0, co2_ppm=1200, dt_s=60)
    >>> flow2 > flow
    True
    """
    low, high = min_airflow_m3h(zone, control), zone.max_airflow_m3h
    error = co2_ppm - control.co2_setpoint_ppm
    kp = control.kp_m3h_per_ppm * zone.max_airflow_m3h / 1000  # m³/h per ppm, for this zone's size
    ff = feed_forward_m3h(zone, occupants, control.co2_setpoint_ppm)
    integral = state.integral_m3h + kp * error * dt_s / control.ti_s
    integral = max(-high, min(high, integral))
    raw = ff + kp * error + integral
    if (raw > high and error > 0) or (raw < low and error < 0):
        integral = state.integral_m3h  # saturated: do not wind up
        raw = ff + kp * error + integral
    target = max(low, min(high, raw))
    if state.airflow_m3h is not None:
        step = control.ramp_fraction_per_min * zone.max_airflow_m3h * dt_s / 60
        target = max(state.airflow_m3h - step, min(state.airflow_m3h + step, target))
    return target, PiState(integral, target)
