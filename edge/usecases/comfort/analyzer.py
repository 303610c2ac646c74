"""F comfort: light per zone from the camera and air from sensors, against their targets.

Every ``light.every_s`` seconds of frame time the analyzer measures each light zone's linear
luminance and turns it into lux with the camera's one-point calibration
(:mod:`edge.usecases.comfort.light`); a frame whose overall brightness jumped away from the
trusted level (an auto-exposure change) gives ``untrusted`` readings with no value. Sensor
readings (``on_reading``) of CO₂, temperature and humidity are checked the same way. Each value
has a :class:`~edge.usecases.comfort.monitor.ComfortMonitor`: a ``comfort.notice`` once it stayed
out of range ``min_out_s`` seconds, ``comfort.restored`` once back inside by the hysteresis,
and a ``comfort.reading`` on the first value and then every ``interval_s``.

>>> from datetime import datetime, timedelta, timezone
>>> from edge.sources.sensors import SensorReading
>>> a = ComfortAnalyzer(ComfortAnalyzerConfig(sensors=["air-1"], air_zone="floor", min_out_s=60), {})
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> def read(s, ppm):
...     at = t0 + timedelta(seconds=s)
...     return [(e.type, e.payload["status"], e.payload["out_of_range_s"]) for e in
...             a.on_reading(SensorReading("air-1", "co2_ppm", ppm, "ppm", at, "mqtt://b/co2"), FrameContext("s", "c", at, (1, 1)))]
>>> read(0, 1100), read(30, 1150), read(61, 1200), read(90, 940)
([('comfort.reading', 'high', 0.0)], [('comfort.reading', 'high', 30.0)], [('comfort.reading', 'high', 61.0), ('comfort.notice', 'high', 61.0)], [('comfort.restored', 'ok', 0.0)])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from edge.detections import Detections
from edge.geometry import to_pixels
from edge.sources.sensors.base import SensorReading
from edge.usecases.base import FrameContext
from edge.usecases.comfort.config import UNITS, ComfortAnalyzerConfig, Target
from edge.usecases.comfort.light import ExposureGuard, linear_luminance, to_lux, zone_luminance
from edge.usecases.comfort.monitor import ComfortMonitor
from services.contract import Event, Explanation, Severity, UseCase

UNTRUSTED_EXPOSURE = "the camera's exposure changed since the light calibration; the light level cannot be read"


class _Value:
    """One watched value: its monitor, where it comes from, when it was last reported."""

    def __init__(self, zone: str, quantity: str, unit: str, target: Target, min_out_s: float, source: str) -> None:
        self.zone, self.quantity, self.unit, self.source = zone, quantity, unit, source
        self.monitor = ComfortMonitor(target, min_out_s)
        self.last_report: datetime | None = None
        self.sensor_id: str | None = None


class ComfortAnalyzer:
    """Light and air against their targets; see the module docstring for the events.

    Args:
        config: the comfort section (sensors, light zones and calibration, targets).
        zones: the camera's zones by name (normalised polygons), for the light zones.
    """

    use_case: ClassVar[UseCase] = UseCase.F
    type: ClassVar[str] = "comfort"

    def __init__(self, config: ComfortAnalyzerConfig, zones: Mapping[str, Any]) -> None:
        self.config = config
        self._values: dict[tuple[str, str], _Value] = {}
        self._light_at: datetime | None = None
        self._guard: ExposureGuard | None = None
        light = config.light
        if light is not None:
            missing = [z for z in [*light.zones, light.calibration.zone] if z not in zones]
            if missing:
                raise ValueError(f"comfort analyzer: unknown zone(s) {missing}; defined: {sorted(zones)}")
            self._polygons = {name: list(zones[name].polygon) for name in light.zones}
            self._calibration_polygon = list(zones[light.calibration.zone].polygon)
            self._guard = ExposureGuard(light.max_step, light.follow_s, light.calibration.frame_luminance)
            for name, zone in light.zones.items():
                self._values[(name, "lux")] = _Value(name, "lux", "lx", zone.target(), config.min_out_s, "camera")

    # ------------------------------------------------------------------ camera: light

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        light = self.config.light
        if light is None or self._guard is None or ctx.frame is None:
            return
        if self._light_at is not None and (ctx.at - self._light_at).total_seconds() < light.every_s:
            return
        self._light_at = ctx.at
        luminance = linear_luminance(ctx.frame)
        trusted = self._guard.check(float(luminance.mean()), ctx.at.timestamp())
        for name in light.zones:
            y = zone_luminance(luminance, to_pixels(self._polygons[name], ctx.frame_size))
            lux = to_lux(y, light.calibration.lux, light.calibration.luminance) if trusted and y is not None else None
            yield from self._observe(self._values[(name, "lux")], lux, ctx.at, ctx)

    # ------------------------------------------------------------------ sensors: air

    def on_reading(self, reading: SensorReading, ctx: FrameContext) -> Iterator[Event]:
        target = self.config.target(reading.quantity)
        if target is None:
            return  # a quantity comfort has no target for (e.g. a sensor's battery level)
        key = (self.config.air_zone, reading.quantity)
        if key not in self._values:
            unit = UNITS.get(reading.quantity, reading.unit)
            self._values[key] = _Value(*key, unit, target, self.config.min_out_s, "sensor")
        value = self._values[key]
        value.sensor_id = reading.sensor_id
        yield from self._observe(value, reading.value, reading.at, ctx)

    # ------------------------------------------------------------------ both

    def _observe(self, value: _Value, reading: float | None, at: datetime, ctx: FrameContext) -> Iterator[Event]:
        step = value.monitor.update(reading, at)
        due = value.last_report is None or (at - value.last_report).total_seconds() >= self.config.interval_s
        if due:
            value.last_report = at
            yield self._event("comfort.reading", Severity.INFO, value, at, ctx)
        if step.action == "notice":
            yield self._event("comfort.notice", Severity.NOTICE, value, at, ctx)
        elif step.action == "restored":
            yield self._event("comfort.restored", Severity.NOTICE, value, at, ctx, out_for_s=step.out_for_s)

    def _event(self, type_: str, severity: Severity, value: _Value, at: datetime, ctx: FrameContext, **extra: Any) -> Event:
        m, t = value.monitor, value.monitor.target
        payload: dict[str, Any] = {
            "zone": value.zone, "quantity": value.quantity, "unit": value.unit,
            "value": None if m.value is None else round(m.value, 2),
            "target_low": t.low, "target_high": t.high, "status": m.shown_status,
            "out_of_range_s": m.out_of_range_s(at), "source": value.source,
        }
        if value.sensor_id:
            payload["sensor_id"] = value.sensor_id
        if m.shown_status == "untrusted":
            payload["reason"] = UNTRUSTED_EXPOSURE
        payload.update({k: v for k, v in extra.items() if v is not None})
        explanation = None
        if type_ != "comfort.reading":
            limit = t.high if m.status == "high" else t.low
            explanation = Explanation(
                rule="comfort_out_of_range" if type_ == "comfort.notice" else "comfort_back_in_range",
                summary=(f"{value.quantity} in zone '{value.zone}' is {payload['value']} {value.unit}; "
                         f"target {t.low if t.low is not None else '-'}..{t.high if t.high is not None else '-'} {value.unit}"
                         + (f", out of range for {payload['out_of_range_s']:.0f} s." if type_ == "comfort.notice" else ".")),
                thresholds={k: float(v) for k, v in (("target_low", t.low), ("target_high", t.high),
                                                     ("hysteresis", t.hysteresis), ("min_out_s", self.config.min_out_s),
                                                     ("limit", limit)) if v is not None},
                measured={"value": float(m.value or 0.0), "out_of_range_s": float(payload["out_of_range_s"])},
            )
        return Event(use_case=self.use_case, store_id=ctx.store_id, camera_id=ctx.camera_id, occurred_at=ctx.at,
                     type=type_, severity=severity, payload=payload, explanation=explanation)

    # ------------------------------------------------------------------ surviving a restart

    def durable_state(self) -> dict[str, Any]:
        """The values with a notice out for their current spell out of range, and since when.

        >>> from datetime import datetime, timezone
        >>> a = ComfortAnalyzer(ComfortAnalyzerConfig(sensors=["air-1"], air_zone="floor"), {})
        >>> a.restore_state({"noticed": {"floor/co2_ppm": ["2026-01-01T09:00:00+00:00", "high", "air-1"]}})
        >>> a.durable_state()
        {'noticed': {'floor/co2_ppm': ['2026-01-01T09:00:00+00:00', 'high', 'air-1']}}
        """
        return {"noticed": {f"{v.zone}/{v.quantity}": [v.monitor.out_since.isoformat(), v.monitor.status, v.sensor_id]
                            for v in self._values.values() if v.monitor.noticed and v.monitor.out_since is not None}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take back the notices of a crashed run: the value is not noticed a second time for the same
        spell, and gets its ``comfort.restored`` once back in range."""
        for key, (since, status, sensor_id) in dict(state.get("noticed", {})).items():
            zone, _, quantity = key.partition("/")
            value = self._values.get((zone, quantity))
            if value is None:
                target = self.config.target(quantity)
                if target is None or zone != self.config.air_zone:
                    continue  # no longer watched here
                value = self._values[(zone, quantity)] = _Value(zone, quantity, UNITS.get(quantity, ""), target,
                                                                 self.config.min_out_s, "sensor")
            value.sensor_id = sensor_id
            m = value.monitor
            m.out_since, m.status, m.noticed = datetime.fromisoformat(since), status, True

    # ------------------------------------------------------------------ live view

    def live_state(self) -> dict[str, Any]:
        """Each watched value with its status (untrusted values without a number)."""
        return {"comfort": {f"{v.zone}/{v.quantity}": [None if v.monitor.value is None else round(v.monitor.value, 1),
                                                      v.monitor.shown_status] for v in self._values.values()}}

