"""Per-credential rate limit: a token bucket per verified API key (per client address otherwise).

The bucket is chosen by a key's *id*, and only for a secret that authentication has already
accepted (:class:`VerifiedKeys`, filled in by ``api.deps.get_principal``). Any other bearer value
(made up, revoked, or not checked yet) shares its client address's bucket, so sending random
``Authorization`` headers cannot buy fresh buckets.

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


def _digest(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


class VerifiedKeys:
    """Secrets that authentication accepted recently: sha256 of the secret → key id.

    Entries expire after ``ttl_s`` and at most ``max_keys`` are kept, so a revoked key falls back
    to its address's bucket soon (it gets 401 at once anyway).

    >>> v = VerifiedKeys(ttl_s=60)
    >>> v.remember("ank_secret", 7, now=0.0)
    >>> v.key_id(b"ank_secret", now=30.0), v.key_id(b"ank_other", now=30.0), v.key_id(b"ank_secret", now=61.0)
    (7, None, None)
    """

    def __init__(self, ttl_s: float = 300.0, max_keys: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._known: OrderedDict[str, tuple[int, float]] = OrderedDict()  # digest → (key id, until)
        self._lock = threading.Lock()

    def remember(self, secret: str, key_id: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._known.pop(_digest(secret.encode()), None)
            self._known[_digest(secret.encode())] = (key_id, now + self.ttl_s)
            if len(self._known) > self.max_keys:
                self._known.popitem(last=False)

    def forget(self, secret: str) -> None:
        with self._lock:
            self._known.pop(_digest(secret.encode()), None)

    def key_id(self, secret: bytes, now: float | None = None) -> int | None:
        now = time.monotonic() if now is None else now
        digest = _digest(secret)
        with self._lock:
            found = self._known.get(digest)
            if found is None or found[1] <= now:
                self._known.pop(digest, None)
                return None
            return found[0]


def caller_key(scope: Scope, verified: VerifiedKeys | None = None) -> str:
    """Whom to limit: a verified key's id, else the client address (whatever bearer was sent).

    >>> v = VerifiedKeys()
    >>> v.remember("ank_good", 3)
    >>> scope = {"client": ("10.0.0.9", 5000), "headers": [(b"authorization", b"Bearer ank_good")]}
    >>> caller_key(scope, v), caller_key({**scope, "headers": [(b"authorization", b"Bearer made-up")]}, v)
    ('key:3', 'addr:10.0.0.9')
    """
    if verified is not None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                key_id = verified.key_id(value[7:].strip())
                if key_id is not None:
                    return f"key:{key_id}"
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate_per_s: float, burst: int, verified: VerifiedKeys | None = None) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst)
        self.verified = verified

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(caller_key(scope, self.verified))
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
