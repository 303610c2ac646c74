"""Edge status report v1: how one edge worker (one camera) is doing, sent next to its events.

Central keeps the latest report per (store, camera) and exports it as Prometheus gauges
(outbox depth, dead letters, inference latency), so an operator sees every edge from one place.
Over HTTP it is ``POST /api/v1/edges/status``; over MQTT the topic is
``anshin/v1/{store}/{camera}/_status`` (``_status`` can never be an event type, which are dotted
lower-case words starting with a letter).

>>> from datetime import datetime, timezone
>>> s = EdgeStatus(store_id="s1", camera_id="c1", at=datetime(2026, 1, 1, tzinfo=timezone.utc),
...                outbox_depth=12, dead_letters=0, inference_ms=41.5)
>>> status_topic(s)
'anshin/v1/s1/c1/_status'
"""

from __future__ import annotations

from pydantic import Field

from services.contract.events import Identifier, Strict, UtcDatetime

STATUS_TOPIC_LEVEL = "_status"


class EdgeStatus(Strict):
    """One report; every figure is a reading at ``at``."""

    store_id: Identifier
    camera_id: Identifier
    at: UtcDatetime
    outbox_depth: int = Field(ge=0, le=2**31 - 1, description="events waiting in the edge outbox")
    dead_letters: int = Field(ge=0, le=2**31 - 1, description="events the edge set aside as rejected")
    oldest_age_s: float | None = Field(default=None, ge=0, le=1e9, description="seconds the oldest queued event has waited")
    inference_ms: float | None = Field(default=None, ge=0, le=1e7, description="mean detector time per run, milliseconds")


def status_topic(status: EdgeStatus) -> str:
    return f"anshin/v1/{status.store_id}/{status.camera_id}/{STATUS_TOPIC_LEVEL}"
