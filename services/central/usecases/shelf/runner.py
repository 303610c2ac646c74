"""The restock process: polls central's database for shelf events, drains the fleet's VDA 5050
messages and ticks timeouts, one transaction per round (``anshin shelf run``, and the demo)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from services.central.db.session import Database
from services.central.usecases.shelf.controller import RestockController, new_shelf_events

log = logging.getLogger(__name__)


class RestockLoop:
    """Rounds of: new shelf events -> controller, vehicle messages -> controller, tick."""

    def __init__(self, db: Database, controller: RestockController, fleet=None, poll_s: float = 0.5,  # noqa: ANN001
                 lookback_s: float = 3600.0) -> None:
        self.db, self.controller, self.fleet, self.poll_s = db, controller, fleet, poll_s
        self.cursor = datetime.now(timezone.utc) - timedelta(seconds=lookback_s)
        self.rounds = 0
        self.errors = 0

    def round(self, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        received = self.fleet.drain() if self.fleet is not None else []
        cursor = self.cursor
        with self.db.unit_of_work() as session:
            for event in new_shelf_events(session, self.controller.config.store_id, self.cursor):
                self.controller.handle(session, event, now)
                cursor = max(cursor, event.received_at)
            for message in received:
                self.controller.on_received(session, message, now)
            self.controller.tick(session, now)
        self.cursor = cursor  # only after the commit: a failed round is retried from the same place
        self.rounds += 1

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll_s):
            try:
                self.round()
            except Exception:  # noqa: BLE001 - one bad round must not end the loop; logged, retried
                self.errors += 1
                log.exception("restock round failed")
