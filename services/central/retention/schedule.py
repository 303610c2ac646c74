"""The purge schedule inside central: one retention run every ``retention_interval_s`` seconds,
then the erasure of face checkout members inactive for ``checkout_inactive_days`` (365).

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


def erase_inactive_members(db: Database, settings: Settings) -> list[str]:
    """Face checkout (use case E): crypto-shred members unseen for ``checkout_inactive_days``, as the
    consent text promises; each erasure is audited (``checkout.withdraw`` by ``retention``)."""
    from services.central.usecases.checkout.service import erase_inactive

    with db.unit_of_work() as session:
        erased = erase_inactive(session, days=settings.checkout_inactive_days, actor="retention")
    if erased:
        metrics.RETENTION_PURGED.labels("checkout_members").inc(len(erased))
    return erased


#: The schedule's jobs, run in this order each interval; one failing does not stop the next.
JOBS = (run_and_count, erase_inactive_members)


async def _loop(db: Database, settings: Settings) -> None:
    while True:
        # Sleep first: a replica that restarts often does not purge at every start, and a test's
        # short-lived app never purges unless it sets a short interval.
        await asyncio.sleep(settings.retention_interval_s)
        for job in JOBS:
            try:
                done = await asyncio.to_thread(job, db, settings)
                if isinstance(done, PurgeReport) and any(done.counts().values()):
                    log.info("retention purged %s", done.counts())
                elif isinstance(done, list) and done:
                    log.info("retention erased %d inactive face checkout member(s)", len(done))
            except Exception:  # keep the schedule alive; the next run retries
                log.exception("retention job %s failed", job.__name__)


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
