"""What every outbox publisher shares: the drain loop, flush, backoff with jitter, stats and the
once-per-outage log. :class:`~edge.publish.http.HttpPublisher` and
:class:`~edge.publish.mqtt.MqttPublisher` differ only in how one batch is sent
(:meth:`OutboxPublisher.publish_once`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from edge.outbox import Outbox, OutboxItem


class TransientError(Exception):
    """Delivery failed in a way that retrying later can fix."""

    def __init__(self, reason: str, *, category: str = "unreachable", retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.category = category
        self.retry_after_s = retry_after_s


@dataclass
class PublisherStats:
    """Counters for health and benchmarks (monotonic totals since start)."""

    delivered: int = 0  # acknowledged as newly stored
    duplicates: int = 0  # acknowledged as already stored (a retry after a lost response)
    dead_lettered: int = 0
    requests: int = 0
    failures: int = 0  # transient failures
    post_seconds: float = 0.0  # time spent in POSTs
    online: bool | None = None  # None until the first attempt
    last_error: str | None = None
    outages: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class OutboxPublisher:
    """Base of the publishers: drains ``outbox`` in batches of ``batch_size`` until stopped.

    Args:
        outbox: the durable queue to drain.
        batch_size: events per send.
        retry_initial_s, retry_max_s: backoff bounds, seconds (doubling, "equal jitter": 50-100 %).
        idle_poll_s: how often an idle publisher looks at the outbox without being notified, seconds.
        rng: randomness for jitter (seed it in tests).

    Subclasses implement :meth:`publish_once`, :meth:`_log_back_up` and :meth:`_log_first_contact`,
    and set ``_log`` to their module's logger (so log lines keep naming the transport's module).
    """

    _log: logging.Logger = logging.getLogger(__name__)

    def __init__(
        self,
        outbox: Outbox,
        *,
        batch_size: int,
        retry_initial_s: float,
        retry_max_s: float,
        idle_poll_s: float,
        rng: random.Random | None,
    ) -> None:
        self.outbox = outbox
        self.batch_size = batch_size
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.idle_poll_s = idle_poll_s
        self.stats = PublisherStats()
        self._rng = rng or random.Random()
        self._send_lock = threading.Lock()  # run() and flush() never send the same batch twice at once
        self._wake = threading.Event()
        # Set by a transport when its connection is (re)established: ends a backoff wait at once, so
        # a publisher does not sit out the rest of a long backoff while the peer is already back.
        # Separate from _wake, which every append sets and which must not cut a backoff short.
        self._reconnected = threading.Event()
        self._down_since: float | None = None  # monotonic seconds when the current outage began

    def publish_once(self) -> int:
        """Send the oldest batch; returns how many events left the queue. Raises TransientError."""
        raise NotImplementedError

    def notify(self) -> None:
        """Wake an idle :meth:`run` loop (the worker calls this after appending)."""
        self._wake.set()

    def _signal_reconnected(self) -> None:
        """The peer is reachable again: end any backoff wait now and look at the outbox."""
        self._reconnected.set()
        self._wake.set()

    def _backoff(self, delay_s: float, stop: threading.Event | None) -> None:
        """Wait ``delay_s`` seconds, or less: until ``stop`` is set or the transport reconnects.

        Waits in slices on the reconnect event, as one wait cannot watch two events.
        """
        deadline = time.monotonic() + delay_s
        while not (stop is not None and stop.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._reconnected.wait(min(remaining, 0.05)):
                return

    # ------------------------------------------------------------------ loops

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set: drain, wait for new events, back off while the peer is away."""
        failures = 0
        while not stop.is_set():
            self._reconnected.clear()  # a reconnect from now on ends the backoff below
            try:
                sent = self.publish_once()
            except TransientError as exc:
                failures += 1
                self._backoff(self._delay(failures, exc.retry_after_s), stop)
                continue
            failures = 0
            if sent == 0:
                self._on_idle()
                self._wake.wait(self.idle_poll_s)
                self._wake.clear()

    def _on_idle(self) -> None:
        """Called when the queue is empty, before waiting (a place for low-priority sends)."""

    def flush(self, timeout_s: float) -> bool:
        """Publish until the outbox is empty or ``timeout_s`` passed; True when empty."""
        deadline = time.monotonic() + timeout_s
        failures = 0
        while self.outbox.depth() > 0:
            if time.monotonic() >= deadline:
                return False
            self._reconnected.clear()
            try:
                sent = self.publish_once()
                failures = 0
            except TransientError as exc:
                failures += 1
                self._backoff(max(0.0, min(self._delay(failures, exc.retry_after_s), deadline - time.monotonic())), None)
                continue
            if sent == 0:  # everything left is in flight: wait for central's acknowledgements
                self._wake.wait(max(0.0, min(self.idle_poll_s, deadline - time.monotonic())))
                self._wake.clear()
        return True

    def _delay(self, failures: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after ``failures`` failures in a row; a longer ``retry_after_s`` wins (capped)."""
        base = min(self.retry_max_s, self.retry_initial_s * 2 ** min(failures - 1, 30))
        delay = base * (0.5 + 0.5 * self._rng.random())  # jitter: stores reconnecting together spread out
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.retry_max_s))
        return delay

    # ------------------------------------------------------------------ connectivity

    def _count_failure(self, items: list[OutboxItem], reason: str) -> None:
        """Record a failed send in the stats and on the queued events (they stay queued)."""
        self.stats.failures += 1
        self.stats.last_error = reason
        self.outbox.record_failure([i.event_id for i in items], reason)

    def _went_offline(self) -> bool:
        """Mark the peer unavailable; True when this starts a new outage (log it once then)."""
        self.stats.online = False
        if self._down_since is not None:
            return False
        self._down_since = time.monotonic()
        self.stats.outages += 1
        return True

    def _log_outage(self, level: int, peer: str, reason: str) -> None:
        self._log.log(level, "%s: %s; %d events queued in the outbox, retrying with backoff (up to %.0f s)",
                      peer, reason, self.outbox.depth(), self.retry_max_s)

    def _came_up(self) -> None:
        """Mark the peer available; log the end of an outage, or the first contact."""
        if self._down_since is not None:
            self._log_back_up(time.monotonic() - self._down_since)
        elif self.stats.online is None:
            self._log_first_contact()
        self._down_since = None
        self.stats.online = True

    def _log_back_up(self, outage_s: float) -> None:
        """Log that the peer is back after ``outage_s`` seconds (each transport says it its way)."""
        raise NotImplementedError

    def _log_first_contact(self) -> None:
        """Log the first successful send."""
        raise NotImplementedError
