"""Edge status reports: every few seconds the publisher tells central how this camera is doing
(outbox depth, dead letters, age of the oldest queued event, mean inference time), so central's
``/metrics`` shows every edge in one place. A report that cannot be sent is simply skipped: the
next one supersedes it, and reports never touch the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from edge.outbox import Outbox
from services.contract import EdgeStatus

log = logging.getLogger(__name__)


def edge_status(store_id: str, camera_id: str, outbox: Outbox, inference_ms: float | None) -> EdgeStatus:
    """A report of this moment."""
    return EdgeStatus(
        store_id=store_id, camera_id=camera_id, at=datetime.now(timezone.utc),
        outbox_depth=outbox.depth(), dead_letters=outbox.dead_letter_depth(),
        oldest_age_s=outbox.oldest_age_s(), inference_ms=inference_ms,
    )


def report_status_until(stop: threading.Event, publisher: Any, make: Callable[[], EdgeStatus], interval_s: float) -> None:
    """Send ``make()`` through ``publisher.send_status`` now and every ``interval_s`` seconds until ``stop``."""
    send = getattr(publisher, "send_status", None)
    if send is None:
        return
    while True:
        try:
            send(make())
        except Exception as exc:  # noqa: BLE001 - central or broker away: the next report will do
            log.debug("edge status report not sent: %s", exc)
        if stop.wait(interval_s):
            return


def start_status_reporter(publisher: Any, make: Callable[[], EdgeStatus], stop: threading.Event,
                          interval_s: float, name: str = "status") -> threading.Thread:
    thread = threading.Thread(target=report_status_until, args=(stop, publisher, make, interval_s), name=name, daemon=True)
    thread.start()
    return thread
