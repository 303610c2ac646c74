"""The purge schedule inside central: one retention run every ``retention_interval_s`` seconds.

Started with the app's lifespan (``api/app.py``); 0 turns it off (tests, or a deployment that
runs ``anshin retention run`` from cron instead). Runs in a worker thread, so a long purge never
blocks requests; a failed run is logged and the next one tries again. Several replicas may each
run it: a second run finds nothing left, and the audit appends serialize.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from services.central import metrics
from services.central.db.session import Database
from services.central.retention.purge import PurgeReport, run
from services.central.settings import Settings
from services.central.snapshots.service import blob_store

log = logging.getLogger(__name__)


def count(report: PurgeReport) -> None:
    """Add a run's purges to the ``anshin_retention_purged_total{kind}`` counter."""
    for kind, n in report.counts().items():
        if n:
            metrics.RETENTION_PURGED.labels(kind).inc(n)


def run_and_count(db: Database, settings: Settings) -> PurgeReport:
    report = run(db, blob_store(settings.data_dir), settings)
    count(report)
    return report


async def _loop(db: Database, settings: Settings) -> None:
    while True:
        # Sleep first: a replica that restarts often does not purge at every start, and a test's
        # short-lived app never purges unless it sets a short interval.
        await asyncio.sleep(settings.retention_interval_s)
        try:
            report = await asyncio.to_thread(run_and_count, db, settings)
            if any(report.counts().values()):
                log.info("retention purged %s", report.counts())
        except Exception:  # keep the schedule alive; the next run retries
            log.exception("retention run failed")


@asynccontextmanager
async def scheduled(db: Database, settings: Settings) -> AsyncIterator[None]:
    """``async with scheduled(db, settings):`` runs the purge loop for the block's lifetime."""
    if settings.retention_interval_s <= 0:
        yield
        return
    task = asyncio.create_task(_loop(db, settings), name="retention")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
