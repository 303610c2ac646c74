"""Webhook signatures: HMAC-SHA256 over ``"{timestamp}.{body}"``, sent as
``X-Anshin-Signature: t=<unix seconds>,v1=<hex digest>``.

How a receiver checks a delivery (the documented check; :func:`verify` does exactly this):

1. Split the header on ``,`` into ``t`` and one or more ``v1`` values.
2. Compute ``HMAC_SHA256(secret, f"{t}.".encode() + raw_body)`` in hex.
3. Accept only if it equals one of the ``v1`` values (constant-time comparison) **and**
   ``|now - t| <= 300`` seconds, so a captured delivery cannot be replayed later.

The secret (``whsec_...``) is shown once when the webhook is created. Central does not store
it: it derives it from ``ANSHIN_WEBHOOK_SECRET_KEY`` and the webhook's random salt, so a
database dump alone cannot forge deliveries, and rotating the webhook (new salt) replaces it.

>>> secret = derive_secret("k" * 32, "salt-1")
>>> header = sign(secret, b'{"event_id": "e1"}', timestamp=1767225600)
>>> verify(secret, header, b'{"event_id": "e1"}', now=1767225630)
True
>>> verify(secret, header, b'{"event_id": "e2"}', now=1767225630)
False
>>> verify(secret, header, b'{"event_id": "e1"}', now=1767226000)  # 400 s later: replay
False
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Anshin-Signature"
TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"
MIN_MASTER_KEY_CHARS = 32


def derive_secret(master_key: str, salt: str) -> str:
    """The signing secret of one webhook: HMAC of its salt under the master key."""
    if len(master_key) < MIN_MASTER_KEY_CHARS:
        raise ValueError(f"ANSHIN_WEBHOOK_SECRET_KEY must be at least {MIN_MASTER_KEY_CHARS} characters")
    digest = hmac.new(master_key.encode(), f"anshin-webhook:{salt}".encode(), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + digest


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Anshin-Signature`` header value for ``body``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={signature(secret, t, body)}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance_s: int = TOLERANCE_S) -> bool:
    """True only for an authentic, fresh delivery (see the module docstring)."""
    t: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            t = int(value)
        elif key == "v1":
            candidates.append(value)
    if t is None or not candidates:
        return False
    now = time.time() if now is None else now
    if abs(now - t) > tolerance_s:
        return False
    expected = signature(secret, t, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
