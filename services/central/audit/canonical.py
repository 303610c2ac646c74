"""Canonical JSON and timestamps, as the audit chain hashes them (and the row digests too).

>>> from datetime import timezone
>>> format_at(datetime(2026, 1, 1, 18, 0, tzinfo=timezone.utc))
'2026-01-01T18:00:00.000000+00:00'
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, compact separators, UTF-8.

    >>> canonical_json({"b": 1, "a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def format_at(at: datetime) -> str:
    """ISO 8601 UTC with microseconds, as hashed.

    >>> format_at(datetime(2026, 1, 1, 18, 0, tzinfo=timezone.utc))
    '2026-01-01T18:00:00.000000+00:00'
    """
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")
