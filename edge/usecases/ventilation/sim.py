"""``anshin sim ventilation``: a day of the site's zones under DCV or fixed maximum ventilation,
driven by a recorded occupancy series, through the same physics and controller as live.

Each zone is stepped every ``dt_s`` (10 s) with the exact CO₂ solution of :mod:`.physics`; the
controller runs every ``control.interval_s`` on the CO₂ a sensor would read (±``sensor_noise_ppm``,
seeded) and the occupancy series (what F counted). The actuators follow their setpoints with a
first-order lag (``ACTUATOR_TAU_S``). Fan energy is the fan law over the fan speed.

The purge figure: from each zone's DCV state at the middle of the day, a purge is started and the
minutes until the measured outdoor air reaches 5 zone volumes are counted
(the physics bound, all at maximum from the first second, is reported beside it).

Occupancy file: CSV with a header ``time_s,<zone>,<zone>...`` (zone names of the site config),
one row per change, counts held until the next row. The people in the zone breathe; the controller
sees the same counts unless a ``<zone>:counted`` column gives what the camera counted instead (the
demo series: annotated people breathe, F's counts feed the controller).
"""

from __future__ import annotations

import csv
import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.usecases.ventilation.config import VentilationConfig
from edge.usecases.ventilation.control import MAX, PiState, Setpoints, ZoneLimits, airflow_of, dcv_step, split
from edge.usecases.ventilation.physics import ZoneSpec, ZoneState, fan_power_kw, step

ACTUATOR_TAU_S = 20.0
DT_S = 10.0


@dataclass(frozen=True, slots=True)
class OccupancySeries:
    """Occupants over time: sorted change times (s) and the count from each on."""

    times_s: tuple[float, ...]
    counts: tuple[float, ...]

    def at(self, t_s: float) -> float:
        """The count at ``t_s`` (the series repeats after its last change plus one step).

        >>> OccupancySeries((0.0, 60.0), (3.0, 5.0)).at(30), OccupancySeries((0.0, 60.0), (3.0, 5.0)).at(61)
        (3.0, 5.0)
        """
        period = self.times_s[-1] + (self.times_s[-1] - self.times_s[-2] if len(self.times_s) > 1 else 60.0)
        t = t_s % period
        return self.counts[max(0, bisect_right(self.times_s, t) - 1)]


def load_occupancy(path: str | Path) -> dict[str, OccupancySeries]:
    """Read a ``time_s,<zone>...`` CSV (see the module docstring); errors name the line."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(line for line in f if not line.startswith("#")))
    if not rows or rows[0][0] != "time_s" or len(rows[0]) < 2:
        raise ValueError(f"{path}: the header must be time_s,<zone>[,<zone>...]")
    zones = rows[0][1:]
    times: list[float] = []
    counts: dict[str, list[float]] = {z: [] for z in zones}
    for n, row in enumerate(rows[1:], start=2):
        try:
            values = [float(v) for v in row]
        except ValueError:
            raise ValueError(f"{path}: data line {n}: not numbers: {row}") from None
        if len(values) != len(zones) + 1 or any(v < 0 or not math.isfinite(v) for v in values):
            raise ValueError(f"{path}: data line {n}: want {len(zones) + 1} non-negative numbers, got {row}")
        if times and values[0] <= times[-1]:
            raise ValueError(f"{path}: data line {n}: time_s must increase")
        times.append(values[0])
        for z, v in zip(zones, values[1:], strict=True):
            counts[z].append(v)
    if not times:
        raise ValueError(f"{path}: no data rows")
    return {z: OccupancySeries(tuple(times), tuple(c)) for z, c in counts.items()}


@dataclass(frozen=True, slots=True)
class SimResult:
    co2_p95_ppm: float
    co2_max_ppm: float
    minutes_over_1000ppm: int
    zone_minutes: int
    share_over_1000ppm: float
    fan_kwh: float
    purge_minutes_to_5_ach: float
    purge_physics_bound_minutes: float
    strategy: str
    hours: float
    zones: tuple[str, ...]
    seed: int


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class _Zone:
    name: str
    spec: ZoneSpec
    limits: ZoneLimits
    fan_kw: float
    occupancy: OccupancySeries
    counted: OccupancySeries
    state: ZoneState
    pi: PiState
    setpoints: Setpoints
    damper: float  # actual positions, fractions
    fan: float


def _actuate(value: float, setpoint_pct: float, dt_s: float) -> float:
    return setpoint_pct / 100 + (value - setpoint_pct / 100) * math.exp(-dt_s / ACTUATOR_TAU_S)


def simulate(config: VentilationConfig, occupancy: Mapping[str, OccupancySeries], *, hours: float = 12.0,
             strategy: str = "dcv", seed: int = 0, sensor_noise_ppm: float = 10.0) -> SimResult:
    """Run the day; see the module docstring."""
    if strategy not in ("dcv", "fixed"):
        raise ValueError(f"strategy {strategy!r}: dcv or fixed")
    counted = {k.removesuffix(":counted"): v for k, v in occupancy.items() if k.endswith(":counted")}
    occupancy = {k: v for k, v in occupancy.items() if not k.endswith(":counted")}
    unknown = sorted((set(occupancy) | set(counted)) - set(config.zones))
    if unknown or not occupancy:
        raise ValueError(f"occupancy zones {unknown or '(none)'} are not zones of the site ({', '.join(config.zones)})")
    rng = random.Random(seed)
    control = config.control
    zones = []
    for name, series in occupancy.items():
        zc = config.zones[name]
        limits = ZoneLimits.of(zc)
        start = MAX if strategy == "fixed" else split(limits, limits.max_airflow_m3h / 2, control)
        zones.append(_Zone(name, ZoneSpec(zc.area_m2, zc.height_m, zc.activity), limits, zc.fan_design_kw, series,
                           counted.get(name, series), ZoneState(), PiState(), start, start.damper_pct / 100, start.fan_pct / 100))
    steps = round(hours * 3600 / DT_S)
    per_control = max(1, round(control.interval_s / DT_S))
    per_minute = max(1, round(60 / DT_S))
    minute_samples: list[float] = []
    energy_kwh = 0.0
    mid_states: dict[str, _Zone] = {}
    for i in range(steps):
        t = i * DT_S
        for z in zones:
            people = z.occupancy.at(t)
            if i % per_control == 0 and strategy == "dcv":
                measured = z.state.co2_ppm + rng.gauss(0.0, sensor_noise_ppm)
                flow, z.pi = dcv_step(z.limits, control, z.pi, z.counted.at(t), measured, control.interval_s)
                z.setpoints = split(z.limits, flow, control)
            z.damper = _actuate(z.damper, z.setpoints.damper_pct, DT_S)
            z.fan = _actuate(z.fan, z.setpoints.fan_pct, DT_S)
            airflow = z.limits.max_airflow_m3h * z.damper * z.fan
            z.state = step(z.state, z.spec, people, airflow, DT_S)
            energy_kwh += fan_power_kw(z.fan_kw, z.fan) * DT_S / 3600
            if i % per_minute == per_minute - 1:
                minute_samples.append(z.state.co2_ppm)
        if i == steps // 2:
            mid_states = {z.name: _Zone(**{f: getattr(z, f) for f in z.__dataclass_fields__}) for z in zones}
    purge, bound = _purge_minutes(list(mid_states.values()), 5.0)  # the figure's name says 5 (the default N)
    over = sum(1 for c in minute_samples if c > 1000.0)
    return SimResult(
        co2_p95_ppm=round(_percentile(minute_samples, 0.95), 1), co2_max_ppm=round(max(minute_samples), 1),
        minutes_over_1000ppm=over, zone_minutes=len(minute_samples),
        share_over_1000ppm=round(over / len(minute_samples), 4), fan_kwh=round(energy_kwh, 2),
        purge_minutes_to_5_ach=purge, purge_physics_bound_minutes=bound, strategy=strategy, hours=hours,
        zones=tuple(z.name for z in zones), seed=seed,
    )


def _purge_minutes(zones: list[_Zone], air_changes: float) -> tuple[float, float]:
    """Minutes until every zone has had ``air_changes`` volumes of outdoor air at maximum setpoints
    (from where its actuators were), and the bound with them at maximum from the start."""
    worst, bound = 0.0, 0.0
    for z in zones:
        delivered, t, damper, fan = 0.0, 0.0, z.damper, z.fan
        goal = air_changes * z.limits.volume_m3
        while delivered < goal:
            damper, fan = _actuate(damper, 100.0, 1.0), _actuate(fan, 100.0, 1.0)
            delivered += z.limits.max_airflow_m3h * damper * fan / 3600
            t += 1.0
        worst = max(worst, t / 60)
        bound = max(bound, goal / airflow_of(z.limits, MAX) * 60)
    return round(worst, 1), round(bound, 1)


def occupancy_from_per_frame(per_frame_csv: str | Path, zone: str, minutes: int, step_s: float = 60.0) -> str:
    """An occupancy CSV from ``anshin eval count --per-frame`` output: frame i's annotated count
    is the zone's people at minute i and its predicted count (F's calibrated count) what the
    controller sees, the frames repeating until ``minutes`` (how
    ``config/demo-store-ventilation-occupancy.csv`` was made)."""
    with Path(per_frame_csv).open(newline="", encoding="utf-8") as f:
        rows = [(float(row["true"]), float(row["pred"])) for row in csv.DictReader(f)]
    if not rows:
        raise ValueError(f"{per_frame_csv}: no frames")
    lines = [f"time_s,{zone},{zone}:counted"] + [
        f"{i * step_s:g},{rows[i % len(rows)][0]:g},{rows[i % len(rows)][1]:.1f}" for i in range(minutes)]
    return "\n".join(lines) + "\n"
