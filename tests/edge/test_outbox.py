"""Durable outbox: order, exact acks, bookkeeping, dead letters, restarts and threads."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from edge_builders import make_events

from edge.outbox import Outbox, decode
from edge.paths import PROJECT_ROOT


@pytest.fixture
def box(tmp_path):
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        yield outbox


def ids(events) -> list[str]:
    return [str(e.event_id) for e in events]


def test_peek_returns_oldest_first_and_leaves_events_queued(box):
    events = make_events(5)
    box.append(events[:2])
    box.append(events[2:])
    assert [i.event_id for i in box.peek(3)] == ids(events[:3])
    assert box.depth() == 5
    assert decode(box.peek(1)[0]) == events[0]  # the exact event comes back


def test_append_is_idempotent_by_event_id(box):
    events = make_events(3)
    assert box.append(events) == 3
    assert box.append(events[1:]) == 0
    assert box.depth() == 3


def test_ack_deletes_exactly_the_acknowledged_ids(box):
    events = make_events(4)
    box.append(events)
    assert box.ack([ids(events)[1], ids(events)[3], "00000000-0000-0000-0000-000000000000"]) == 2
    assert [i.event_id for i in box.peek(10)] == [ids(events)[0], ids(events)[2]]


def test_failures_are_counted_with_the_last_error(box):
    events = make_events(2)
    box.append(events)
    box.record_failure(ids(events)[:1], "ConnectError: refused")
    box.record_failure(ids(events)[:1], "HTTP 503")
    first, second = box.peek(2)
    assert (first.attempts, first.last_error) == (2, "HTTP 503")
    assert (second.attempts, second.last_error) == (0, None)


def test_dead_letter_moves_one_event_with_its_reason_and_can_be_requeued(box):
    events = make_events(3)
    box.append(events)
    assert box.dead_letter(ids(events)[1], "HTTP 422: bad use_case", 422)
    assert [i.event_id for i in box.peek(10)] == [ids(events)[0], ids(events)[2]]
    [dead] = box.dead_letters()
    assert (dead.event_id, dead.reason, dead.status_code, dead.attempts) == (ids(events)[1], "HTTP 422: bad use_case", 422, 1)
    assert json.loads(dead.body)["event_id"] == ids(events)[1]
    assert box.requeue_dead_letters() == 1
    assert (box.depth(), box.dead_letter_depth()) == (3, 0)


def test_events_survive_close_and_reopen(tmp_path):
    path = tmp_path / "outbox.sqlite"
    events = make_events(3)
    with Outbox(path) as box:
        box.append(events)
        box.ack(ids(events)[:1])
    with Outbox(path) as reopened:
        assert [i.event_id for i in reopened.peek(10)] == ids(events)[1:]


def test_events_survive_a_process_that_dies_without_closing(tmp_path):
    path = tmp_path / "outbox.sqlite"
    script = f"""
import os
from edge.outbox import Outbox
from services.contract import Event
from datetime import datetime, timezone
box = Outbox({str(path)!r})
for k in range(3):
    e = Event(type="zone.occupancy", use_case="F", store_id="s", camera_id="c",
              occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc), payload={{"k": k}})
    box.append([e])
    print(e.event_id, flush=True)
os._exit(9)  # no close, no cleanup: a crash
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert run.returncode == 9, run.stderr
    written = run.stdout.split()
    with Outbox(path) as box:
        assert [i.event_id for i in box.peek(10)] == written


def test_one_thread_appends_while_another_publishes(box):
    events = make_events(400)
    acked: list[str] = []
    done = threading.Event()

    def writer() -> None:
        for k in range(0, len(events), 7):
            box.append(events[k:k + 7])
        done.set()

    def reader() -> None:
        while not (done.is_set() and box.depth() == 0):
            batch = [i.event_id for i in box.peek(25)]
            box.ack(batch)
            acked.extend(batch)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(acked) == sorted(ids(events)) and len(acked) == len(events)
    assert box.depth() == 0


def test_wal_and_full_sync_are_on(box):
    assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL



def test_cameras_opening_one_new_store_outbox_at_once_all_get_it(tmp_path):
    """Each camera thread of a store opens the same outbox file at start-up; creating the file
    and switching it to WAL races (before the fix, about 1 round in 10 failed "database is locked")."""
    for round_ in range(30):
        path, opened, errors = tmp_path / f"store-{round_}.sqlite", [], []
        start, events = threading.Barrier(4), make_events(3)

        def open_and_append() -> None:
            try:
                start.wait()
                box = Outbox(path)  # noqa: B023 - each round's threads use that round's file
                box.append(events)  # noqa: B023
                opened.append(box)  # noqa: B023
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)  # noqa: B023

        threads = [threading.Thread(target=open_and_append) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [], f"round {round_}: {errors[0]!r}"
        assert len(opened) == 4 and opened[0].depth() == 3  # the same 3 ids from every camera: stored once
        for box in opened:
            box.close()


def test_in_flight_events_stay_queued_and_come_back_after_their_deadline_or_a_release(box):
    import time

    events = make_events(4)
    box.append(events)
    box.mark_in_flight(ids(events[:2]), timeout_s=0.3)  # PUBACKed, central has not acknowledged yet
    assert [i.event_id for i in box.peek(10)] == ids(events[2:])
    assert (box.depth(), box.in_flight()) == (4, 2)
    time.sleep(0.35)
    assert [i.event_id for i in box.peek(10)] == ids(events)  # no acknowledgement in time: send again
    box.mark_in_flight(ids(events), timeout_s=60)
    assert box.peek(10) == [] and box.release_in_flight() == 4  # a reconnect: the broker may have lost them
    assert [i.event_id for i in box.peek(10)] == ids(events)
    assert box.ack(ids(events[:3])) == 3 and box.depth() == 1


def test_each_resend_of_an_in_flight_event_waits_twice_as_long_up_to_sixteen_times(box):
    import sqlite3
    import time

    [event] = make_events(1)
    box.append([event])
    waits = []
    for _ in range(6):
        before = time.time()
        box.mark_in_flight([str(event.event_id)], timeout_s=10)
        with sqlite3.connect(box.path) as db:
            waits.append(round(db.execute("SELECT in_flight_until FROM outbox").fetchone()[0] - before))
    assert waits == [10, 20, 40, 80, 160, 160]


def test_an_outbox_of_an_older_build_gains_the_in_flight_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, "
                   "body TEXT NOT NULL, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                   "last_error TEXT, last_attempt_at REAL)")
        [event] = make_events(1)
        db.execute("INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, 0)",
                   (str(event.event_id), event.model_dump_json()))
    with Outbox(path) as box:
        assert [i.event_id for i in box.peek(5)] == [str(event.event_id)]
        box.mark_in_flight([str(event.event_id)], timeout_s=60)
        assert box.peek(5) == [] and box.in_flight() == 1
