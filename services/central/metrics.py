"""Prometheus metrics of central: counters kept per process, gauges read from the database.

Counted by the processes that do the work (uvicorn workers, MQTT ingest workers, the webhook
dispatcher):
``anshin_ingest_events_total{transport,result}`` (rate() of it is the ingest rate),
``anshin_ingest_lag_seconds{transport}`` (received_at - occurred_at of each stored event),
``anshin_ingest_dead_letters_total{transport,reason}``, ``anshin_ingest_batch_seconds``,
``anshin_webhook_attempts_total{result}``, ``anshin_rate_limited_total``.

From the database at scrape time (the same for every replica): review backlog per state and
overdue, per-edge outbox depth / dead letters / inference latency / report age, webhook
deliveries per state, stored ingest dead letters, remote-service calls per store (use case C:
waiting, handled, abandoned, seconds waited).

**Several processes** (``anshin serve --workers N``, ingest workers beside central): with
``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client's multiprocess mode keeps each process's
counters in a file of that folder and ``/metrics`` of any process renders the sum over all of
them (:class:`MultiProcessCollector`), so a scrape of one uvicorn worker counts every worker's
and every ingest process's events (files are named by host and pid: containers on one host
may share the folder through a volume). The variable must be set before the process starts (the
mode is chosen when prometheus-client is imported); ``anshin serve --workers N`` (N > 1) sets it
to ``{data_dir}/prometheus``, emptied at start, when the operator has not. Without the variable
each process keeps its counters in memory (the in-process registry) and ``/metrics`` shows its own.
"""

from __future__ import annotations

import atexit
import os
import re
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.central.db.tables import EdgeStatusRow, IngestDeadLetter, ReviewItem, WebhookDelivery
from services.contract import Event

#: The variable prometheus-client reads (at import) to count in files shared between processes.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The shared folder of multiprocess mode, or None (counters in this process's memory)."""
    value = os.environ.get(MULTIPROCESS_ENV)
    return Path(value) if value else None


def process_identifier() -> str:
    """Names this process's files: host and pid, so processes of several containers (each with
    its own pid 1) can share one folder without writing into each other's files."""
    return f"{re.sub(r'[^A-Za-z0-9.-]', '-', socket.gethostname())}-{os.getpid()}"


_SHARED = multiprocess_dir()
if _SHARED is not None:
    # before the first metric: each one opens its file there (a missing folder would fail obscurely)
    _SHARED.mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_identifier)  # read when each metric is created
    # live-gauge files of this process go when it exits (counters and histograms stay: they are sums)
    atexit.register(lambda: multiprocess.mark_process_dead(process_identifier(), str(_SHARED)))

INGEST_EVENTS = Counter("anshin_ingest_events", "Events received by ingest", ["transport", "result"])
INGEST_LAG = Histogram(
    "anshin_ingest_lag_seconds", "Seconds from occurred_at to storage, per stored event", ["transport"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600),
)
INGEST_BATCH = Histogram(
    "anshin_ingest_batch_seconds", "Seconds to store one batch (validate excluded)", ["transport"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEAD_LETTERS = Counter("anshin_ingest_dead_letters", "Messages set aside as malformed", ["transport", "reason"])
WEBHOOK_ATTEMPTS = Counter("anshin_webhook_attempts", "Webhook POST attempts", ["result"])
RATE_LIMITED = Counter("anshin_rate_limited", "Requests refused with 429")
RETENTION_PURGED = Counter("anshin_retention_purged", "Rows, pictures, files and partitions purged by retention", ["kind"])

OPEN_REVIEW_STATES = ("pending", "claimed", "escalated")


def observe_ingest(transport: str, events: Sequence[Event], stored: Iterable[object], now: datetime) -> None:
    """Count a committed batch and the lag of each newly stored event; every copy of an id
    after the first (a repeat inside the batch) counts as a duplicate."""
    stored_ids = set(stored)
    first: dict[object, Event] = {}
    for e in events:
        first.setdefault(e.event_id, e)
    new = [e for i, e in first.items() if i in stored_ids]
    INGEST_EVENTS.labels(transport, "stored").inc(len(new))
    INGEST_EVENTS.labels(transport, "duplicate").inc(len(events) - len(new))
    lag = INGEST_LAG.labels(transport)
    for e in new:
        lag.observe(max(0.0, (now - e.occurred_at).total_seconds()))


class DatabaseGauges(Collector):
    """Gauges read with one short session per scrape."""

    def __init__(self, session: Session, now: datetime | None = None) -> None:
        self.session = session
        self.now = now or datetime.now(timezone.utc)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        s = self.session
        backlog = GaugeMetricFamily("anshin_review_backlog", "Open review items per state", labels=["state"])
        counts = dict(s.execute(
            select(ReviewItem.state, func.count()).where(ReviewItem.state.in_(OPEN_REVIEW_STATES)).group_by(ReviewItem.state)
        ).all())
        for state in OPEN_REVIEW_STATES:
            backlog.add_metric([state], counts.get(state, 0))
        yield backlog
        overdue = s.scalar(select(func.count()).select_from(ReviewItem).where(
            ReviewItem.state.in_(OPEN_REVIEW_STATES), ReviewItem.deadline < self.now)) or 0
        yield GaugeMetricFamily("anshin_review_overdue", "Open review items past their deadline", value=overdue)

        labels = ["store_id", "camera_id"]
        depth = GaugeMetricFamily("anshin_edge_outbox_depth", "Events waiting in each edge's outbox", labels=labels)
        dead = GaugeMetricFamily("anshin_edge_dead_letters", "Events each edge set aside as rejected", labels=labels)
        oldest = GaugeMetricFamily("anshin_edge_outbox_oldest_seconds", "Age of each edge's oldest queued event", labels=labels)
        infer = GaugeMetricFamily("anshin_edge_inference_ms", "Mean detector time per run on each edge, ms", labels=labels)
        age = GaugeMetricFamily("anshin_edge_report_age_seconds", "Seconds since each edge last reported", labels=labels)
        for row in s.scalars(select(EdgeStatusRow)):
            key = [row.store_id, row.camera_id]
            depth.add_metric(key, row.outbox_depth)
            dead.add_metric(key, row.dead_letters)
            if row.oldest_age_s is not None:
                oldest.add_metric(key, row.oldest_age_s)
            if row.inference_ms is not None:
                infer.add_metric(key, row.inference_ms)
            age.add_metric(key, max(0.0, (self.now - row.received_at).total_seconds()))
        yield from (depth, dead, oldest, infer, age)

        deliveries = GaugeMetricFamily("anshin_webhook_deliveries", "Webhook deliveries per state", labels=["state"])
        by_state = dict(s.execute(select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all())
        for state in ("pending", "delivered", "dead"):
            deliveries.add_metric([state], by_state.get(state, 0))
        yield deliveries
        stored_dead = s.scalar(select(func.count()).select_from(IngestDeadLetter)) or 0
        yield GaugeMetricFamily("anshin_ingest_dead_letters_stored", "Dead letters kept for operators", value=stored_dead)
        try:  # use case C's call figures (per store), when it is installed
            from services.central.usecases.signage.metrics import families as signage_families
        except ImportError:
            return
        yield from signage_families(s)


def counters_registry() -> CollectorRegistry:
    """Where the counters are read: every process's files in multiprocess mode, else this process."""
    if _SHARED is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(_SHARED))
    return registry


def render(session: Session | None) -> bytes:
    """The text exposition: counters (of every process sharing the folder in multiprocess mode),
    then database gauges (skipped when ``session`` is None)."""
    text = generate_latest(counters_registry())
    if session is not None:
        registry = CollectorRegistry()
        registry.register(DatabaseGauges(session))
        text += generate_latest(registry)
    return text
