"""Per-credential rate limit: a token bucket per API key (per client address without one).

An ASGI middleware in front of every route but the health checks. A caller over the limit gets
``429`` with ``Retry-After`` (seconds); the edge publisher already treats that as "retry later",
so a limit never loses an event. Buckets live in this process: with N replicas behind a load
balancer a key gets at most N times the rate, which is what a per-replica limit is for
(protecting each replica and the database behind it).

>>> b = TokenBuckets(rate_per_s=2.0, burst=2)
>>> [b.take("k", now=0.0) for _ in range(3)]
[0.0, 0.0, 0.5]
>>> b.take("k", now=0.5)
0.0
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from services.central.metrics import RATE_LIMITED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths a load balancer or orchestrator polls; never limited, never authenticated.
EXEMPT = frozenset({"/healthz", "/readyz"})


class TokenBuckets:
    """Token buckets by key, at most ``max_keys`` remembered (least recently used dropped)."""

    def __init__(self, rate_per_s: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token: 0.0 if allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


def caller_key(scope: Scope) -> str:
    """Whom to limit: the bearer secret's digest, else the client address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return "key:" + hashlib.sha256(value[7:].strip()).hexdigest()[:32]
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate_per_s: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(caller_key(scope))
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        RATE_LIMITED.inc()
        retry_after = max(1, int(wait + 0.999))
        body = json.dumps({"detail": f"rate limit: {self.buckets.rate:g} requests/s per API key "
                                     f"(burst {int(self.buckets.burst)}); retry after {retry_after} s"}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode()),
            (b"content-length", str(len(body)).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})
