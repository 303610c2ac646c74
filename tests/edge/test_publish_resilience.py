"""The key guarantee: central stops mid-stream and comes back; every event arrives exactly once.

A producer thread appends events to the outbox while the publisher thread drains it to a real
central app (uvicorn + SQLite). Central is stopped part-way, the producer keeps going, central is
started again on the same port and database, and at the end the ids central holds are exactly
the ids the edge produced, each once, and the outbox is empty.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from edge_builders import CentralServer, make_events

from edge.outbox import Outbox
from edge.publish import HttpPublisher

TOTAL = 150
STORE = "store-1"


def test_every_event_arrives_exactly_once_across_a_central_restart(tmp_path, caplog):
    central = CentralServer(tmp_path / "central").start()
    writer = central.create_key("edge-store-1", ["events:write"], STORE)
    reader = central.create_key("reader", ["events:read"])
    outbox = Outbox(tmp_path / "edge" / "outbox.sqlite")
    publisher = HttpPublisher(outbox, central.url, writer, batch_size=8, connect_timeout_s=0.5, read_timeout_s=5,
                              retry_initial_s=0.05, retry_max_s=0.4, idle_poll_s=0.05, rng=random.Random(3))
    events = make_events(TOTAL, store_id=STORE)
    produced: list[str] = []
    stop = threading.Event()
    publishing = threading.Thread(target=publisher.run, args=(stop,), name="publisher")

    def produce(chunk) -> None:
        for k in range(0, len(chunk), 3):
            outbox.append(chunk[k:k + 3])
            produced.extend(str(e.event_id) for e in chunk[k:k + 3])
            publisher.notify()
            time.sleep(0.005)

    try:
        with caplog.at_level(logging.INFO, logger="edge.publish.http"):
            publishing.start()
            produce(events[:50])
            _wait(lambda: outbox.depth() == 0, 20)  # the first part is through: central is live
            central.stop()
            produce(events[50:110])  # central is down: these can only queue
            _wait(lambda: publisher.stats.failures >= 3, 20)
            assert outbox.depth() == 60, "nothing may leave the outbox while central is down"
            central.start()  # same port, same database
            produce(events[110:])
            _wait(lambda: outbox.depth() == 0, 30)
    finally:
        stop.set()
        publisher.notify()
        publishing.join(timeout=10)
        publisher.close()
    try:
        stored = central.stored_event_ids(reader, store_id=STORE)
    finally:
        central.stop()

    assert len(produced) == TOTAL
    assert len(stored) == TOTAL and sorted(stored) == sorted(produced)  # all there, none twice
    assert outbox.depth() == 0 and outbox.dead_letter_depth() == 0
    assert publisher.stats.outages == 1 and publisher.stats.online is True
    assert publisher.stats.delivered + publisher.stats.duplicates >= TOTAL
    # One line when central went away and one when it came back, not one per retry.
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2, lines
    assert "unavailable" in lines[0] and "reachable again" in lines[1]
    outbox.close()


def _wait(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
