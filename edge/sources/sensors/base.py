"""What every sensor source delivers (:class:`SensorReading`) and who consumes it.

A reading is one finite value of one quantity at one UTC time. Sources check values with
:func:`checked_value` and skip (with a log line) what fails, so one garbled message or a
register read mid-update never stops the stream.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from edge.sources.video import Backoff, SourceError
from services.contract import Event

log = logging.getLogger(__name__)


class SensorError(SourceError):
    """A sensor source that cannot deliver readings (after the configured retries)."""


class InvalidReading(ValueError):
    """A value that is not a believable measurement (skipped by sources, never raised to callers)."""


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One measurement.

    Attributes:
        sensor_id: the configured sensor id.
        quantity: what is measured, e.g. ``co2_ppm``, ``temperature_c``, ``humidity_pct``, ``lux``.
        value: finite float, in ``unit``.
        unit: display unit, e.g. ``ppm``.
        at: UTC time of the measurement (the device's own time when it sends one, else time received).
        source: where it came from: ``mqtt://host:port/<topic>`` or ``modbus://host:port/<unit>/<table>/<address>``.

    >>> r = SensorReading("co2-aisle", "co2_ppm", 812.0, "ppm", datetime(2026, 1, 1, tzinfo=timezone.utc), "mqtt://b:1883/s/co2")
    >>> r.value, r.at.isoformat()
    (812.0, '2026-01-01T00:00:00+00:00')
    >>> SensorReading("x", "lux", float("nan"), "lx", r.at, "m")
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: sensor 'x': lux value nan is not a finite number
    """

    sensor_id: str
    quantity: str
    value: float
    unit: str
    at: datetime
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
            raise InvalidReading(f"sensor {self.sensor_id!r}: {self.quantity} value {self.value!r} is not a finite number")
        object.__setattr__(self, "value", float(self.value))
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidReading(f"sensor {self.sensor_id!r}: reading time {self.at.isoformat()} has no UTC offset")
        object.__setattr__(self, "at", self.at.astimezone(timezone.utc))


def checked_value(value: float, quantity: str, plausible: tuple[float, float] | None) -> float:
    """``value`` as a float when it is finite and within ``plausible`` (inclusive); else :class:`InvalidReading`.

    >>> checked_value(415, "co2_ppm", (0.0, 40_000.0))
    415.0
    >>> checked_value(-3276.8, "temperature_c", (-50.0, 100.0))
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: temperature_c value -3276.8 is outside the plausible range [-50.0, 100.0]
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidReading(f"{quantity} value {value!r} is not a finite number")
    if plausible is not None and not (plausible[0] <= value <= plausible[1]):
        raise InvalidReading(f"{quantity} value {value!r} is outside the plausible range [{plausible[0]}, {plausible[1]}]")
    return float(value)


class SensorSource(Protocol):
    """A source of readings: iterate until ``stop`` is set; ``close()`` releases the connection."""

    name: str

    def readings(self, stop: threading.Event, max_readings: int | None = None) -> Iterator[SensorReading]: ...

    def close(self) -> None: ...


class ReadingAnalyzer(Protocol):
    """An analyzer of sensor readings (a CO2 threshold, a temperature alarm): events out, or none.

    ``ctx`` is the worker's frame context of the moment the reading is handed over (store,
    camera, time), so events carry the same envelope fields as the camera's own.
    """

    def on_reading(self, reading: SensorReading, ctx: Any) -> Iterator[Event]: ...


def reconnect(name: str, kind: str, endpoint: str, backoff: Backoff, stop: threading.Event, why: str,
               try_connect: Callable[[], str | None], detail: str = "") -> bool:
    """Try ``try_connect`` (None: connected, else why not) with ``backoff`` between attempts.

    Returns True once connected, False when ``stop`` is set while waiting. Every attempt and the
    recovery are logged with the ``endpoint`` (and ``detail``, e.g. the MQTT topic).

    Raises:
        SensorError: still not connected after ``backoff.max_retries`` attempts (naming ``where``).
    """
    first_failure = time.monotonic()
    for attempt in range(backoff.max_retries):
        delay = backoff.delay(attempt)
        log.warning("sensor %r: %s (%s%s); reconnecting in %.1f s (attempt %d/%d)",
                    name, why, endpoint, detail, delay, attempt + 1, backoff.max_retries)
        if stop.wait(delay):
            return False
        failure = try_connect()
        if stop.is_set():
            return False
        if failure is None:
            log.warning("sensor %r: reconnected to %s after %d attempt(s), %.1f s", name, endpoint, attempt + 1, time.monotonic() - first_failure)
            return True
        why = failure
    raise SensorError(f"sensor {name!r}: gave up on {kind} {endpoint}{detail} after {backoff.max_retries} reconnect attempts (last error: {why})")
