"""The site's ventilation agent: every control period it reads each zone, decides the mode and the
setpoints, writes them, and reports.

Modes, strongest first:

* ``failsafe``: the building does not answer (every zone), or a zone's CO₂ reading is lost (that
  zone). One ``ventilation.failsafe`` alert per episode; a zone that lost its CO₂ gets the
  configured action written (maximum outdoor air, or hold what it has); a building that does not
  answer cannot be written to: its own watchdog applies the same action (the simulator does),
  and the agent retries every period and reports ``ventilation.restored`` when it answers again.
* ``override``: a manager's setpoints from a ``ventilation.override`` command, until it expires
  (or ``ventilation.override_clear``); then the zone reverts.
* ``purge``: after a confirmed infection report (``ventilation.purge``, issued by central only
  with a confirmed two-person review item): maximum outdoor air until the measured airflow has
  delivered N air changes of the zone's volume; then ``ventilation.purge_completed`` and DCV.
* ``dcv``: :func:`~edge.usecases.ventilation.control.dcv_step` from F's occupancy and the CO₂.

Setpoints are written when they move by more than the deadband or the mode changes, each write
reported as ``ventilation.setpoints_changed`` with who decided and why (central's audit chain
records every stored event by id and digest); unchanged setpoints are rewritten every
``device_watchdog_s / 3`` so the device's watchdog stays quiet while we are alive.

Commands (from central, through :class:`~edge.commands.receiver.CommandReceiver`): :meth:`handle`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from edge.commands.receiver import CommandOutcome
from edge.usecases.ventilation.building import Building, BuildingUnreachable, PointRefused, ZoneReading, check_limits
from edge.usecases.ventilation.config import VentilationConfig
from edge.usecases.ventilation.control import (
    MAX,
    PiState,
    Setpoints,
    ZoneLimits,
    airflow_of,
    dcv_step,
    required_airflow_m3h,
    split,
)
from edge.usecases.ventilation.physics import wells_riley
from services.contract import Event
from services.contract.commands import Command

log = logging.getLogger(__name__)

#: Actions the agent carries out (central's policy lists the same names).
ACTIONS = ("ventilation.purge", "ventilation.override", "ventilation.override_clear")
MAX_OVERRIDE_MINUTES = 24 * 60


@dataclass
class Override:
    setpoints: Setpoints
    expires_at: datetime
    by: str
    reason: str
    command_id: str


@dataclass
class Purge:
    air_changes: float
    by: str
    reason: str
    command_id: str
    review_item_id: int | None
    delivered_m3: float = 0.0
    building_s: float = 0.0


@dataclass
class ZoneControl:
    name: str
    limits: ZoneLimits
    pi: PiState = field(default_factory=PiState)
    written: Setpoints | None = None
    written_at_s: float = -1e18
    mode: str = "dcv"
    override: Override | None = None
    purge: Purge | None = None
    sensor_lost: bool = False
    last_reading: ZoneReading | None = None
    occupants: float = 0.0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class VentilationAgent:
    """Runs one site's ventilation; thread-safe between :meth:`tick` and :meth:`handle`.

    Args:
        config: the site (zones, points, control, failsafe, purge).
        building: the air handler (:class:`~.building.ModbusBuilding` or the BACnet one).
        occupancy: zone name → people now (F's counts), or None when unknown (last value kept).
        emit: takes each event (the edge's outbox in the demo; a list in tests).
        clock: UTC now; building time advances with it × ``control.clock_scale``.
    """

    def __init__(self, config: VentilationConfig, building: Building, occupancy: Callable[[str], float | None],
                 emit: Callable[[Event], None], clock: Callable[[], datetime] = _utc_now) -> None:
        self.config = config
        self.building = building
        self.occupancy = occupancy
        self.emit = emit
        self.clock = clock
        self.zones = {name: ZoneControl(name, ZoneLimits.of(z)) for name, z in config.zones.items()}
        self.unreachable_since: datetime | None = None
        self.building_s = 0.0
        self._last_tick: datetime | None = None
        self._last_report_s: float | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ events

    def _event(self, type_: str, payload: dict[str, Any], severity: str = "info", **extra: Any) -> None:
        self.emit(Event(type=type_, use_case="G", store_id=self.config.store_id, camera_id=self.config.device_id,
                        occurred_at=self.clock(), severity=severity, payload=payload, **extra))

    def _alert(self, zones: list[str], cause: str, detail: str) -> None:
        from services.contract import Explanation

        action = self.config.failsafe.action
        self._event("ventilation.failsafe", {"zones": zones, "cause": cause, "action": action, "detail": detail[:1000]},
                    severity="critical", review_required=True,
                    explanation=Explanation(rule=f"ventilation_{cause}",
                                            summary=f"{cause.replace('_', ' ')}: {detail[:200]}; failsafe {action}"))

    # ------------------------------------------------------------------ control

    def tick(self) -> None:
        """One control period (call every ``control.interval_s / clock_scale`` real seconds)."""
        with self._lock:
            now = self.clock()
            dt_s = 0.0 if self._last_tick is None else max(0.0, (now - self._last_tick).total_seconds()) * self.config.control.clock_scale
            self._last_tick = now
            self.building_s += dt_s
            try:
                readings = {name: self.building.read_zone(name) for name in self.zones}
            except BuildingUnreachable as exc:
                self._lost(now, str(exc))
                return
            if self.unreachable_since is not None:
                down = (now - self.unreachable_since).total_seconds()
                self.unreachable_since = None
                for z in self.zones.values():
                    z.written, z.pi = None, PiState()  # the device may have moved on its own: write afresh
                self._event("ventilation.restored", {"zones": list(self.zones), "down_for_s": down}, severity="notice")
            try:
                for z in self.zones.values():
                    self._control_zone(z, readings[z.name], now, dt_s)
            except BuildingUnreachable as exc:
                self._lost(now, str(exc))
                return
            if self._last_report_s is None or self.building_s - self._last_report_s >= self.config.state_interval_s:
                self._last_report_s = self.building_s
                for z in self.zones.values():
                    self._report(z)

    def _lost(self, now: datetime, why: str) -> None:
        if self.unreachable_since is None:
            self.unreachable_since = now
            log.error("ventilation: building unreachable (%s); failsafe %s", why, self.config.failsafe.action)
            self._alert(list(self.zones), "building_unreachable",
                        f"{why}; the air handler's watchdog applies {self.config.failsafe.action} "
                        f"after {self.config.failsafe.device_watchdog_s:g} s without a write")
        for z in self.zones.values():
            z.mode = "failsafe"

    def _control_zone(self, z: ZoneControl, reading: ZoneReading, now: datetime, dt_s: float) -> None:
        control = self.config.control
        z.last_reading = reading
        people = self.occupancy(z.name)
        if people is not None:
            z.occupants = max(0.0, float(people))
        if z.purge is not None and reading.airflow_m3h is not None:
            z.purge.delivered_m3 += reading.airflow_m3h * dt_s / 3600
            z.purge.building_s += dt_s
        if z.override is not None and now >= z.override.expires_at:
            log.info("zone %s: override by %s expired", z.name, z.override.by)
            z.override = None
        if z.purge is not None and z.purge.delivered_m3 >= z.purge.air_changes * z.limits.volume_m3:
            done = z.purge
            z.purge = None
            self._event("ventilation.purge_completed", {
                "zone": z.name, "air_changes": round(done.delivered_m3 / z.limits.volume_m3, 2),
                "minutes": round(done.building_s / 60, 1), "review_item_id": done.review_item_id}, severity="notice")
        if reading.co2_ppm is None:
            if not z.sensor_lost:
                z.sensor_lost = True
                self._alert([z.name], "co2_sensor_lost", f"zone {z.name}: the CO₂ point gave no value")
        else:
            z.sensor_lost = False
        before = z.mode
        command_id = None
        if z.sensor_lost:
            z.mode, by = "failsafe", "failsafe"
            target = MAX if self.config.failsafe.action == "max_outdoor_air" else (z.written or MAX)
            reason = f"CO₂ reading lost: {self.config.failsafe.action}"
        elif z.override is not None:
            z.mode, by, target = "override", z.override.by, z.override.setpoints
            reason, command_id = f"override until {z.override.expires_at.isoformat()}: {z.override.reason}", z.override.command_id
        elif z.purge is not None:
            z.mode, by, target = "purge", z.purge.by, MAX
            reason, command_id = z.purge.reason, z.purge.command_id
        else:
            if before != "dcv":
                z.pi = PiState(0.0, airflow_of(z.limits, z.written) if z.written else None)
            z.mode, by = "dcv", "dcv"
            flow, z.pi = dcv_step(z.limits, control, z.pi, z.occupants, float(reading.co2_ppm or 0.0),
                                  dt_s or control.interval_s)
            target = split(z.limits, flow, control)
            reason = f"CO₂ {reading.co2_ppm:.0f} ppm, {z.occupants:g} people: {flow:.0f} m³/h"
        changed = target.differs(z.written, control.deadband_pct) or z.mode != before
        heartbeat = self.building_s - z.written_at_s >= self.config.failsafe.device_watchdog_s / 3
        if not (changed or heartbeat):
            return
        target = self._within_limits(z.name, target)
        try:
            self.building.write_setpoints(z.name, target.damper_pct, target.fan_pct)
        except PointRefused as exc:
            log.error("zone %s: setpoints %s refused: %s", z.name, target, exc)
            return
        previous, z.written, z.written_at_s = z.written, target, self.building_s
        if changed:
            self._event("ventilation.setpoints_changed", {
                "zone": z.name, "mode": z.mode, "damper_pct": target.damper_pct, "fan_pct": target.fan_pct,
                "previous_damper_pct": previous.damper_pct if previous else None,
                "previous_fan_pct": previous.fan_pct if previous else None,
                "target_airflow_m3h": round(airflow_of(z.limits, target), 1), "by": by[:64], "reason": reason[:1000],
                "command_id": command_id}, severity="info" if z.mode == "dcv" else "notice")

    def _within_limits(self, zone: str, target: Setpoints) -> Setpoints:
        """Clamp to the points' write limits (a purge's 100 % on a damper limited to 90 % is 90 %)."""
        points = self.config.zones[zone].points
        values = []
        for name, value in (("damper_setpoint_pct", target.damper_pct), ("fan_setpoint_pct", target.fan_pct)):
            limits = points[name].limits
            values.append(value if limits is None else max(limits[0], min(limits[1], value)))
        return Setpoints(*values)

    def _report(self, z: ZoneControl) -> None:
        r = z.last_reading
        if r is None:
            return
        airflow = r.airflow_m3h
        payload: dict[str, Any] = {
            "zone": z.name, "mode": z.mode, "co2_ppm": r.co2_ppm, "airflow_m3h": airflow, "occupants": z.occupants,
            "temperature_c": r.temperature_c, "humidity_pct": r.humidity_pct, "damper_pct": r.damper_pct,
            "fan_pct": r.fan_pct, "required_airflow_m3h": round(required_airflow_m3h(z.limits, z.occupants), 1),
            "air_changes_per_hour": round(airflow / z.limits.volume_m3, 2) if airflow is not None else None,
            "risk_index": round(wells_riley(z.occupants, airflow), 6) if airflow is not None else None,
            "purge_air_changes": round(z.purge.delivered_m3 / z.limits.volume_m3, 2) if z.purge else None,
            "purge_target_air_changes": z.purge.air_changes if z.purge else None,
            "co2_setpoint_ppm": self.config.control.co2_setpoint_ppm,
            "override_expires_at": z.override.expires_at if z.override else None,
        }
        self._event("ventilation.zone_state", {k: v for k, v in payload.items() if v is not None or k in ("co2_ppm", "airflow_m3h")})

    def run(self, stop: threading.Event) -> None:
        """Tick every control period (real seconds = interval / clock_scale) until ``stop``."""
        period = self.config.control.interval_s / self.config.control.clock_scale
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bug in one period must not stop the ventilation
                log.exception("ventilation tick failed")
            stop.wait(period)

    # ------------------------------------------------------------------ commands

    def handle(self, command: Command) -> CommandOutcome:
        """Carry out a command from central (the :data:`~edge.commands.receiver.Handler`)."""
        args = command.arguments
        with self._lock:
            if command.action == "ventilation.purge":
                zones = args.get("zones") or list(self.zones)
                unknown = [z for z in zones if z not in self.zones]
                if unknown:
                    return CommandOutcome.refused(f"unknown zones {unknown}")
                changes = float(args.get("air_changes") or self.config.purge.air_changes)
                if not 0 < changes <= 50:
                    return CommandOutcome.refused(f"air_changes {changes} is not in (0, 50]")
                item = args.get("review_item_id")
                for name in zones:
                    self.zones[name].purge = Purge(changes, command.issued_by[:64], f"purge {changes:g} air changes after "
                                                   f"review item {item}", str(command.command_id),
                                                   int(item) if item is not None else None)
                return CommandOutcome.succeeded(f"purge of {changes:g} air changes started in {', '.join(zones)}")
            if command.action == "ventilation.override":
                zone = args.get("zone")
                if zone not in self.zones:
                    return CommandOutcome.refused(f"unknown zone {zone!r}")
                try:
                    minutes = float(args["minutes"])
                    damper, fan = float(args["damper_pct"]), float(args["fan_pct"])
                    points = self.config.zones[zone].points
                    for name, value in (("damper_setpoint_pct", damper), ("fan_setpoint_pct", fan)):
                        check_limits(name, value, points[name].limits)
                except (KeyError, TypeError, ValueError) as exc:
                    return CommandOutcome.refused(f"override needs zone, damper_pct, fan_pct, minutes within limits: {exc}")
                if not 0 < minutes <= MAX_OVERRIDE_MINUTES:
                    return CommandOutcome.refused(f"minutes {minutes} is not in (0, {MAX_OVERRIDE_MINUTES}]")
                expires = self.clock() + timedelta(minutes=minutes)
                self.zones[zone].override = Override(Setpoints(damper, fan), expires, command.issued_by[:64],
                                                     str(args.get("reason") or "manual override")[:500], str(command.command_id))
                return CommandOutcome.succeeded(f"override of {zone} until {expires.isoformat()}")
            if command.action == "ventilation.override_clear":
                zone = args.get("zone")
                if zone not in self.zones:
                    return CommandOutcome.refused(f"unknown zone {zone!r}")
                self.zones[zone].override = None
                return CommandOutcome.succeeded(f"override of {zone} cleared")
            return CommandOutcome.refused(f"unknown action {command.action!r}; this device does {', '.join(ACTIONS)}")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Each zone's mode and last setpoints (for logs and tests)."""
        with self._lock:
            return {n: {"mode": z.mode, "setpoints": z.written, "purge": z.purge, "override": z.override}
                    for n, z in self.zones.items()}
