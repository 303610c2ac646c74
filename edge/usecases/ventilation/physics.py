"""The physics of a ventilated store zone: CO₂ mass balance, thermal drift, fan laws, Wells–Riley.

Pure functions over small value objects, shared by the building simulator (a stand-in for the air
handler in tests and the demo), by ``anshin sim ventilation`` and by the controller's feed-forward
(which needs the same CO₂ generation rates).

Well-mixed zone of volume V (m³) with outdoor-air supply Q (m³/h), N occupants each exhaling G
(m³/h of CO₂) and outdoor air at C_out (ppm)::

    V dC/dt = Q (C_out − C) + 1e6 · N · G

With Q and N constant over a step this integrates exactly: C relaxes towards the steady state
C_ss = C_out + 1e6 · N · G / Q with time constant V / Q.

>>> zone = ZoneSpec(area_m2=100, height_m=3, activity="walking")
>>> round(steady_state_ppm(zone, occupants=10, airflow_m3h=600))
912
>>> s = step(ZoneState(co2_ppm=420), zone, occupants=10, airflow_m3h=600, dt_s=3600 * 5)
>>> round(s.co2_ppm)
912
>>> fan_power_kw(design_kw=2.0, airflow_fraction=0.5)
0.25
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

#: Outdoor CO₂, ppm (global background is ~420 ppm in 2024–2026; urban air is often 10–40 higher).
OUTDOOR_CO2_PPM = 420.0

Activity = Literal["seated", "standing", "walking", "working"]

#: Metabolic rate (met) per activity, after ASHRAE 55 / Persily & de Jonge (2017), Table 5.
MET: dict[str, float] = {"seated": 1.0, "standing": 1.3, "walking": 2.0, "working": 2.5}

#: CO₂ exhaled per person and met, m³/h: 0.0041 L/s·met for adults of mixed age and sex at 1 met
#: (Persily & de Jonge 2017, "Carbon dioxide generation rates for building occupants", Indoor Air 27).
CO2_M3H_PER_MET = 0.0041 * 3.6

#: Air: density × heat capacity, kJ/(m³·K).
RHO_CP_KJ_M3K = 1.2 * 1.005
#: Sensible heat per person, W (ASHRAE Fundamentals, light work in a store).
SENSIBLE_W_PER_PERSON = 75.0


def co2_m3h_per_person(activity: str) -> float:
    """CO₂ generation per person at ``activity``, m³/h.

    >>> round(co2_m3h_per_person("walking") * 1000, 1)  # litres per hour
    29.5
    """
    return MET[activity] * CO2_M3H_PER_MET


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """What the physics needs to know about one zone."""

    area_m2: float
    height_m: float
    activity: str = "walking"
    outdoor_co2_ppm: float = OUTDOOR_CO2_PPM
    outdoor_c: float = 28.0  # outdoor air temperature, °C
    supply_c: float = 16.0  # temperature of the conditioned supply air, °C
    envelope_w_per_k: float = 150.0  # conduction through walls and glazing, W/K
    thermal_mass_factor: float = 8.0  # furniture and stock slow temperature changes this many times

    @property
    def volume_m3(self) -> float:
        return self.area_m2 * self.height_m


@dataclass(frozen=True, slots=True)
class ZoneState:
    """The zone's air now."""

    co2_ppm: float = OUTDOOR_CO2_PPM
    temperature_c: float = 24.0
    humidity_pct: float = 50.0


def steady_state_ppm(zone: ZoneSpec, occupants: float, airflow_m3h: float) -> float:
    """CO₂ the zone settles at with this occupancy and outdoor airflow (inf with no air and people)."""
    generation = occupants * co2_m3h_per_person(zone.activity)
    if airflow_m3h <= 0:
        return math.inf if generation > 0 else zone.outdoor_co2_ppm
    return zone.outdoor_co2_ppm + 1e6 * generation / airflow_m3h


def step(state: ZoneState, zone: ZoneSpec, occupants: float, airflow_m3h: float, dt_s: float) -> ZoneState:
    """The zone after ``dt_s`` seconds at constant occupancy and outdoor airflow (exact for CO₂)."""
    hours = dt_s / 3600.0
    volume = zone.volume_m3
    generation = 1e6 * occupants * co2_m3h_per_person(zone.activity)  # ppm·m³/h
    if airflow_m3h > 0:
        target = zone.outdoor_co2_ppm + generation / airflow_m3h
        co2 = target + (state.co2_ppm - target) * math.exp(-airflow_m3h * hours / volume)
    else:
        co2 = state.co2_ppm + generation * hours / volume
    # Thermal drift (explicit Euler; slow): people and the envelope heat, conditioned supply air cools.
    watts = (occupants * SENSIBLE_W_PER_PERSON + zone.envelope_w_per_k * (zone.outdoor_c - state.temperature_c)
             + RHO_CP_KJ_M3K * 1000 / 3600 * airflow_m3h * (zone.supply_c - state.temperature_c))
    heat_capacity_j_k = RHO_CP_KJ_M3K * 1000 * volume * zone.thermal_mass_factor
    temperature = state.temperature_c + watts * dt_s / heat_capacity_j_k
    # Humidity: relaxes towards 50 % with the air changes, plus a little per person (breath).
    changes = airflow_m3h * hours / volume
    humidity = 50.0 + (state.humidity_pct - 50.0) * math.exp(-changes) + 0.02 * occupants * hours * 60 / max(1.0, volume / 100)
    return replace(state, co2_ppm=co2, temperature_c=temperature, humidity_pct=min(100.0, max(0.0, humidity)))


def fan_power_kw(design_kw: float, airflow_fraction: float) -> float:
    """Fan power at a fraction of design airflow (fan affinity laws: power ∝ speed³ ∝ airflow³)."""
    return design_kw * max(0.0, airflow_fraction) ** 3


#: Quanta of SARS-CoV-2 an infector emits per hour while standing and speaking lightly (Buonanno,
#: Stabile & Morawska 2020, Environment International 141: ~10–100 quanta/h for light activity;
#: we use 25 quanta/h for an infector in a shop, talking little).
QUANTA_PER_HOUR = 25.0
#: Breathing rate of a person in light activity, m³/h (Buonanno et al. 2020: 0.54 standing, 1.38 light exercise).
BREATHING_M3H = 0.75
#: Share of the population infectious at any time: the prevalence the index assumes (1 in 500).
PREVALENCE = 0.002


def wells_riley(occupants: float, airflow_m3h: float, hours: float = 1.0, *, infectors: float | None = None,
                quanta_per_hour: float = QUANTA_PER_HOUR, breathing_m3h: float = BREATHING_M3H) -> float:
    """Probability that a susceptible person in the zone is infected over ``hours`` (Wells–Riley).

    ``P = 1 − exp(−I · q · p · t / Q)`` with I infectors (default: ``occupants × PREVALENCE``, the
    expected number present), q quanta/h, p breathing m³/h, t hours, Q outdoor airflow m³/h. An
    index for comparing ventilation, not a clinical risk: it assumes well-mixed air and steady state.

    >>> round(wells_riley(occupants=40, airflow_m3h=1200), 5)
    0.00125
    >>> wells_riley(occupants=40, airflow_m3h=2400) < wells_riley(occupants=40, airflow_m3h=1200)
    True
    """
    infectious = occupants * PREVALENCE if infectors is None else infectors
    if airflow_m3h <= 0:
        return 1.0 if infectious > 0 else 0.0
    return 1.0 - math.exp(-infectious * quanta_per_hour * breathing_m3h * hours / airflow_m3h)
