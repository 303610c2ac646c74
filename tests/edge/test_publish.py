"""HTTP publisher against the real central app: acks, duplicates, rejected events, wrong keys."""

from __future__ import annotations

import logging
import random
import sqlite3
import time

import pytest
from edge_builders import CentralServer, free_port, make_events

from edge.outbox import Outbox
from edge.publish import HttpPublisher, TransientError

STORE = "store-1"


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    server = CentralServer(tmp_path_factory.mktemp("central")).start()
    server.writer = server.create_key("edge-store-1", ["events:write"], STORE)
    server.reader = server.create_key("reader", ["events:read"])
    yield server
    server.stop()


@pytest.fixture
def outbox(tmp_path):
    with Outbox(tmp_path / "outbox.sqlite") as box:
        yield box


def publisher(outbox, url, key, **kwargs) -> HttpPublisher:
    kwargs.setdefault("retry_initial_s", 0.01)
    kwargs.setdefault("retry_max_s", 0.05)
    return HttpPublisher(outbox, url, key, connect_timeout_s=1.0, read_timeout_s=10.0, rng=random.Random(1), **kwargs)


def camera_ids(central, camera: str) -> list[str]:
    return central.stored_event_ids(central.reader, camera_id=camera)


def test_batches_are_delivered_and_only_acknowledged_ids_leave_the_outbox(central, outbox):
    events = make_events(23, camera_id="batches")
    outbox.append(events)
    pub = publisher(outbox, central.url, central.writer, batch_size=10)
    assert pub.flush(timeout_s=20)
    assert sorted(camera_ids(central, "batches")) == sorted(str(e.event_id) for e in events)
    assert (pub.stats.delivered, pub.stats.duplicates, pub.stats.requests) == (23, 0, 3)
    assert outbox.depth() == 0


def test_a_redelivered_event_is_acknowledged_as_duplicate_and_stored_once(central, outbox):
    events = make_events(5, camera_id="redelivery")
    outbox.append(events)
    pub = publisher(outbox, central.url, central.writer)
    assert pub.flush(timeout_s=20)
    outbox.append(events[:3])  # as if the first answer had been lost before the outbox was updated
    assert pub.flush(timeout_s=20)
    assert pub.stats.duplicates == 3 and outbox.depth() == 0
    assert len(camera_ids(central, "redelivery")) == 5


def test_an_invalid_event_is_dead_lettered_and_the_rest_still_arrive(central, outbox):
    events = make_events(6, camera_id="poison")
    outbox.append(events[:3])
    # An event written by a (hypothetical) older edge build: central's contract refuses its use case.
    bad = events[3].model_dump(mode="json") | {"use_case": "Z"}
    with sqlite3.connect(outbox.path) as db:
        db.execute("INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, 0)",
                   (bad["event_id"], __import__("json").dumps(bad)))
    outbox.append(events[4:])
    pub = publisher(outbox, central.url, central.writer)
    assert pub.flush(timeout_s=20)
    good = [str(e.event_id) for e in events if str(e.event_id) != bad["event_id"]]
    assert sorted(camera_ids(central, "poison")) == sorted(good)
    [dead] = outbox.dead_letters()
    assert dead.event_id == bad["event_id"] and dead.status_code == 422 and "use_case" in dead.reason
    assert outbox.depth() == 0 and pub.stats.dead_lettered == 1


def test_a_body_over_centrals_limit_is_split_until_it_fits(tmp_path, outbox):
    small = CentralServer(tmp_path / "central-small", max_body_bytes=4000).start()
    try:
        key = small.create_key("edge", ["events:write"])
        reader = small.create_key("reader", ["events:read"])
        events = make_events(20, camera_id="split")  # ~450 bytes each: 20 do not fit in 4000
        huge = make_events(1, camera_id="split", start=100)[0].model_copy(update={"payload": {"zone": "x" * 5000}})
        outbox.append(events[:10] + [huge] + events[10:])
        pub = publisher(outbox, small.url, key, batch_size=20)
        assert pub.flush(timeout_s=30)
        assert sorted(small.stored_event_ids(reader)) == sorted(str(e.event_id) for e in events)
        [dead] = outbox.dead_letters()
        assert dead.event_id == str(huge.event_id) and dead.status_code == 413
        assert pub.stats.requests > 4  # halved, not sent in one go
    finally:
        small.stop()


def test_a_rejected_key_keeps_every_event_queued_and_says_why_once(central, outbox, caplog):
    outbox.append(make_events(4, camera_id="badkey"))
    pub = publisher(outbox, central.url, "ank_not-a-key")
    with caplog.at_level(logging.INFO, logger="edge.publish.http"):
        assert not pub.flush(timeout_s=0.5)
    assert outbox.depth() == 4 and outbox.dead_letter_depth() == 0
    assert pub.stats.failures >= 3 and pub.stats.online is False
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "HTTP 401" in errors[0] and "4 events queued" in errors[0]
    assert outbox.peek(1)[0].attempts >= 3 and "401" in outbox.peek(1)[0].last_error


def test_a_key_bound_to_another_store_is_a_config_error_not_a_bad_event(central, outbox):
    outbox.append(make_events(2, store_id="store-2", camera_id="otherstore"))
    pub = publisher(outbox, central.url, central.writer)
    with pytest.raises(TransientError, match="HTTP 403"):
        pub.publish_once()
    assert outbox.depth() == 2 and outbox.dead_letter_depth() == 0


def test_unreachable_central_is_transient_and_logged_once_per_outage(outbox, caplog):
    outbox.append(make_events(3))
    pub = publisher(outbox, f"http://127.0.0.1:{free_port()}", "k")
    with caplog.at_level(logging.DEBUG, logger="edge.publish.http"):
        started = time.monotonic()
        assert not pub.flush(timeout_s=0.6)
    assert time.monotonic() - started < 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "unavailable: ConnectError" in warnings[0]
    assert pub.stats.failures >= 3 and outbox.depth() == 3


def test_backoff_doubles_with_jitter_up_to_the_cap(outbox):
    pub = HttpPublisher(outbox, "http://127.0.0.1:9", "k", retry_initial_s=0.5, retry_max_s=4.0, rng=random.Random(0))
    delays = [pub._delay(n, None) for n in range(1, 7)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps))
    assert pub._delay(1, retry_after_s=3.0) == 3.0  # Retry-After wins when longer
