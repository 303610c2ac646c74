"""Use case C's figures for ``/metrics``, read from the database at scrape time (so every uvicorn
worker answers the same): per store, calls waiting now, calls handled and abandoned, and the
seconds customers waited before someone took their call (with how many calls were taken)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.orm import Session

from services.central.usecases.signage.calls import figures


def families(session: Session) -> Iterable[Metric]:
    rows = figures(session)
    waiting = GaugeMetricFamily("anshin_signage_waiting", "Remote-service calls waiting per store", labels=["store_id"])
    outcomes = CounterMetricFamily("anshin_signage_calls", "Remote-service calls per store and outcome", labels=["store_id", "outcome"])
    waited = CounterMetricFamily("anshin_signage_wait_seconds", "Seconds customers waited until a call was taken", labels=["store_id"])
    for f in rows:
        waiting.add_metric([f.store_id], f.waiting)
        outcomes.add_metric([f.store_id, "handled"], f.handled)
        outcomes.add_metric([f.store_id, "abandoned"], f.abandoned)
        waited.add_metric([f.store_id], f.wait_s_sum)
    return [waiting, outcomes, waited]
