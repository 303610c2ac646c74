"""In-memory sign-in throttling: sliding windows per client address and per account name, and
a small pool for password checks.

Throttling happens before any database access or argon2 work, so a flood of sign-in attempts
costs almost nothing and cannot hold database connections or the request thread pool. The
lockout (persistent, per account) lives in :mod:`.signin`; these limits are per process (N
replicas allow N times as much), which is enough to keep each replica healthy.

>>> w = SlidingWindow(limit=2, window_s=60.0)
>>> [w.hit("a", now=t) for t in (0.0, 1.0, 2.0)], w.hit("a", now=61.5), w.hit("b", now=2.0)
([True, True, False], True, True)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window_s`` seconds; at most ``max_keys`` keys kept."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        self._hits[key] = hits
        if len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return hits

    def full(self, key: str, now: float) -> bool:
        """True when ``key`` has used its hits in the current window (records nothing)."""
        with self._lock:
            return len(self._recent(key, now)) >= self.limit

    def hit(self, key: str, now: float) -> bool:
        """Record one hit; False (and nothing recorded) when the window is already full."""
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def seconds_left(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a free slot again (0 when it has one now)."""
        with self._lock:
            hits = self._recent(key, now)
            return 0.0 if len(hits) < self.limit else max(0.0, hits[0] + self.window_s - now)


def name_key(name: str) -> str:
    """What the per-account window is keyed on: a digest of the name as typed, case-folded.

    >>> name_key("Tanaka") == name_key("tanaka"), len(name_key("x"))
    (True, 64)
    """
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt was refused before it was checked, and when to try again."""

    reason: str  # "address" | "account" | "busy"
    retry_after_s: int


class SignInThrottle:
    """Per-process limits in front of the password check.

    * ``address_per_min`` attempts per client address (every attempt counts);
    * ``account_per_min`` *failed* attempts per account name (a success does not count);
    * ``concurrency`` argon2 checks at once on a pool of their own (not the request thread
      pool), and at most ``max_waiting`` attempts waiting for it; more are refused as busy.
    """

    def __init__(self, address_per_min: int, account_per_min: int, concurrency: int, max_waiting: int = 32) -> None:
        self.addresses = SlidingWindow(address_per_min, 60.0)
        self.accounts = SlidingWindow(account_per_min, 60.0)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="password-check")
        self.max_waiting = max_waiting
        self._in_flight = 0
        self._lock = threading.Lock()

    def admit(self, address: str, name: str, now: float) -> Refusal | None:
        """Count the attempt against its address; a :class:`Refusal` if it must not go on."""
        account = name_key(name)
        if not self.addresses.hit(address, now):
            return Refusal("address", max(1, int(self.addresses.seconds_left(address, now) + 0.999)))
        if self.accounts.full(account, now):
            return Refusal("account", max(1, int(self.accounts.seconds_left(account, now) + 0.999)))
        with self._lock:
            if self._in_flight >= self.max_waiting:
                return Refusal("busy", 1)
            self._in_flight += 1
        return None

    def done(self, name: str, failed: bool, now: float) -> None:
        """An admitted attempt finished; a failure counts against the account name."""
        with self._lock:
            self._in_flight -= 1
        if failed:
            self.accounts.hit(name_key(name), now)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
