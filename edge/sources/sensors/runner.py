"""Run one sensor source in a thread and hand every reading to its subscribers.

A subscriber is any callable taking a :class:`SensorReading`; one that returns events (an
analyzer's ``on_reading``, see :class:`~edge.sources.sensors.base.ReadingAnalyzer`) has them
passed to ``on_event`` (e.g. the outbox). A subscriber that raises is logged with its traceback
and counted, and the others still get the reading: one broken analyzer must not silence a sensor.

>>> from datetime import datetime, timezone
>>> class Fixed:  # a source of two readings
...     name = "demo"
...     def readings(self, stop, max_readings=None):
...         at = datetime(2026, 1, 1, tzinfo=timezone.utc)
...         yield from (SensorReading("demo", "co2_ppm", v, "ppm", at, "test") for v in (600.0, 1400.0))
...     def close(self): pass
>>> seen, events = [], []
>>> def over_1000(r):  # an analyzer's hook: events out
...     return iter(["co2.high"] if r.value > 1000 else [])
>>> runner = SensorRunner(Fixed(), [seen.append, over_1000], on_event=events.append).start()
>>> runner.join(5.0)
>>> [r.value for r in seen], events, runner.delivered, runner.error
([600.0, 1400.0], ['co2.high'], 2, None)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from edge.sources.sensors.base import SensorReading, SensorSource

log = logging.getLogger(__name__)

Subscriber = Callable[[SensorReading], "Iterable[Any] | None"]


class SensorRunner:
    """``SensorRunner(source, [analyzer.on_reading, ...], on_event=outbox_append).start()``; ``stop()`` ends it.

    Attributes:
        delivered: readings handed to the subscribers.
        subscriber_errors: subscriber calls that raised.
        error: why the source ended by itself (e.g. a :class:`SensorError` after the retries), else None.
    """

    def __init__(
        self,
        source: SensorSource,
        subscribers: Sequence[Subscriber],
        *,
        on_event: Callable[[Any], Any] | None = None,
        max_readings: int | None = None,
    ) -> None:
        self.source = source
        self.subscribers = list(subscribers)
        self.on_event = on_event
        self.max_readings = max_readings
        self.delivered = 0
        self.subscriber_errors = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = self._new_thread()

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name=f"sensor-{self.source.name}", daemon=True)

    def start(self) -> SensorRunner:
        """Start reading; after :meth:`stop`, start again (a worker's ``run`` may be called twice)."""
        if self._thread.is_alive():
            return self
        if self._thread.ident is not None:  # a thread can only be started once: a fresh one reads on
            self._stop = threading.Event()
            self._thread = self._new_thread()
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the source to stop and wait for the thread (a source checks the flag at least every poll)."""
        self._stop.set()
        self.join(timeout_s)

    def join(self, timeout_s: float | None = None) -> None:
        self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            for reading in self.source.readings(self._stop, self.max_readings):
                self.delivered += 1
                for subscriber in self.subscribers:
                    self._deliver(subscriber, reading)
        except Exception as exc:  # the source is dead: keep the reason for health reports, and say it
            self.error = exc
            log.error("sensor %r: source stopped: %s", self.source.name, exc)
        finally:
            self.source.close()

    def _deliver(self, subscriber: Subscriber, reading: SensorReading) -> None:
        try:
            events = subscriber(reading)
            for event in events if events is not None else ():
                if self.on_event is None:
                    raise RuntimeError("a subscriber returned an event but this runner has no on_event to hand it to")
                self.on_event(event)
        except Exception:
            self.subscriber_errors += 1
            log.exception("sensor %r: subscriber %r failed on a %s reading", self.source.name, subscriber, reading.quantity)
