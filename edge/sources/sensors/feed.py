"""The sensors a camera's analyzers listen to, read in background threads and handed over per frame.

An analyzer that takes sensor readings names the store's sensors in its config (``sensors:
[co2-east]``) and has an ``on_reading(reading, ctx) -> Iterator[Event]`` hook. The feed runs one
:class:`SensorRunner` per named sensor; readings queue up and the worker hands them to their
analyzers on its own thread, before each frame's analysis, so an analyzer is never called from
two threads at once.

>>> from types import SimpleNamespace
>>> class Co2Alarm:
...     config = SimpleNamespace(sensors=["co2-east"])
...     def on_reading(self, reading, ctx):
...         yield reading.value
>>> readers = reading_analyzers([Co2Alarm(), object()])
>>> readers
{'co2-east': [0]}
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edge.sources.sensors.base import SensorReading, SensorSource
from edge.sources.sensors.runner import SensorRunner

log = logging.getLogger(__name__)


def reading_analyzers(analyzers: Sequence[Any]) -> dict[str, list[int]]:
    """Sensor id → positions of the analyzers that named it and have an ``on_reading`` hook."""
    out: dict[str, list[int]] = {}
    for i, analyzer in enumerate(analyzers):
        if not callable(getattr(analyzer, "on_reading", None)):
            continue
        for sensor_id in getattr(getattr(analyzer, "config", None), "sensors", None) or ():
            out.setdefault(str(sensor_id), []).append(i)
    return out


class SensorFeed:
    """Runs the sensors that ``analyzers`` name; :meth:`drain` gives ``(analyzer position, reading)`` pairs.

    Args:
        sensors: the store's sensor configs by id.
        analyzers: the camera's analyzers.
        make_source: builds a source from a sensor config (default :func:`edge.sources.sensors.sensor_source`).
    """

    def __init__(self, sensors: Mapping[str, Any], analyzers: Sequence[Any],
                 make_source: Callable[[Any], SensorSource] | None = None) -> None:
        from edge.sources.sensors import sensor_source

        self.readers = reading_analyzers(analyzers)
        missing = sorted(set(self.readers) - set(sensors))
        if missing:
            raise ValueError(f"analyzers name sensors the store does not define: {missing}; defined: {sorted(sensors)}")
        self._queue: queue.SimpleQueue[SensorReading] = queue.SimpleQueue()
        build = make_source or sensor_source
        self.runners = [SensorRunner(build(sensors[sensor_id]), [self._queue.put]) for sensor_id in self.readers]

    def start(self) -> None:
        for runner in self.runners:
            runner.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        for runner in self.runners:
            runner.stop(timeout_s)
            if runner.error is not None:
                log.error("sensor %s stopped: %s", runner.source.name, runner.error)

    def drain(self) -> list[tuple[int, SensorReading]]:
        """Every reading queued since the last call, once per analyzer that listens to its sensor."""
        out: list[tuple[int, SensorReading]] = []
        while True:
            try:
                reading = self._queue.get_nowait()
            except queue.Empty:
                return out
            out += [(i, reading) for i in self.readers.get(reading.sensor_id, ())]
