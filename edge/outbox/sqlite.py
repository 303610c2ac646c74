"""Durable outbox: every event is written here before anything tries to publish it.

One SQLite file on the edge box. The worker thread appends; the publisher thread peeks the oldest
events, sends them, and acks (deletes) exactly the ids central acknowledged. A transport whose
acknowledgement comes later and separately (MQTT: central's ``_ack`` message after its database
commit, see ``services/contract/acks.py``) marks sent events *in flight*
(:meth:`Outbox.mark_in_flight`): they stay queued, :meth:`Outbox.peek` skips them until their
deadline passes or the publisher releases them (:meth:`Outbox.release_in_flight`, on reconnect),
and then they are sent again; central deduplicates by event id. An event central
rejects as invalid moves to the ``dead_letters`` table with the reason: kept for an operator,
out of the way of the events behind it. An alert's evidence picture waits in ``blobs`` next to
its event (written in the same transaction); the publisher uploads it, puts the returned reference
into the event's body (:meth:`Outbox.attach_snapshot`) and only then sends the event.

Durability choices:

* ``journal_mode=WAL``: the publisher reads while the worker writes, without blocking each other.
* ``synchronous=FULL``: each commit fsyncs the WAL, so an appended event survives a power cut,
  not just a process crash (``NORMAL`` in WAL mode may lose the last commits on power loss).
  The price is one fsync per append batch; the edge appends a few batches per second at most,
  so the cost is negligible next to the promise "the edge never loses an event".

>>> from datetime import datetime, timezone
>>> from services.contract import Event
>>> box = Outbox(":memory:")
>>> e = Event(type="zone.occupancy", use_case="F", store_id="s1", camera_id="c1",
...           occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> box.append([e]), box.append([e]), box.depth()
(1, 0, 1)
>>> [item.event_id == str(e.event_id) for item in box.peek(10)]
[True]
>>> box.mark_in_flight([str(e.event_id)], timeout_s=60)
>>> box.peek(10), box.depth(), box.in_flight()
([], 1, 1)
>>> box.release_in_flight(), len(box.peek(10))
(1, 1)
>>> box.ack([str(e.event_id)]), box.depth()
(1, 0)
>>> e2 = Event(type="zone.occupancy", use_case="F", store_id="s1", camera_id="c1",
...            occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> box.append([e2], state={"c1/0:occupancy": '{"open": ["door"]}'}), box.saved_state("c1/0:occupancy")
(1, '{"open": ["door"]}')
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.contract import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- append order: publish oldest first
    event_id        TEXT NOT NULL UNIQUE,               -- idempotent append
    body            TEXT NOT NULL,                      -- the event's contract JSON, sent as is
    created_at      REAL NOT NULL,                      -- unix seconds
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_attempt_at REAL,
    in_flight_until REAL,                               -- unix seconds; set: sent, awaiting central's ack
    sends           INTEGER NOT NULL DEFAULT 0          -- times marked in flight (backs off re-sends)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    event_id    TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    status_code INTEGER,
    attempts    INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    failed_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS analyzer_state (
    key      TEXT PRIMARY KEY,                         -- camera/position:type of the analyzer
    state    TEXT NOT NULL,                            -- its JSON state (e.g. which alerts are open)
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    event_id   TEXT PRIMARY KEY,                       -- the queued event this picture is evidence for
    jpeg       BLOB NOT NULL,
    anonymised INTEGER NOT NULL                        -- 1: heads and faces blurred on the edge
);
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A queued event: its id, the exact JSON to send, and its delivery history."""

    seq: int
    event_id: str
    body: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: str
    body: str
    reason: str
    status_code: int | None
    attempts: int
    failed_at: float  # unix seconds


def _setup(db: sqlite3.Connection, attempts: int = 50, wait_s: float = 0.1) -> None:
    """WAL, full sync and the schema. Several cameras of a store open one outbox file at once, and
    switching to WAL can report "database is locked" without waiting on the busy timeout, so the
    setup is retried for a few seconds."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
            if "in_flight_until" not in columns:  # an outbox written by an older edge build
                db.execute("ALTER TABLE outbox ADD COLUMN in_flight_until REAL")
            if "sends" not in columns:
                db.execute("ALTER TABLE outbox ADD COLUMN sends INTEGER NOT NULL DEFAULT 0")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == attempts - 1:
                raise
            time.sleep(wait_s)


class Outbox:
    """Thread-safe durable queue of events (one SQLite connection behind a lock).

    Args:
        path: SQLite file (its folder is created), or ``":memory:"`` for doctests.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection shared under a lock: simpler than one per thread, and SQLite serialises writers anyway.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        with self._lock:
            _setup(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def append(self, events: Iterable[Event], blobs: Mapping[str, tuple[bytes, bool]] | None = None,
               state: Mapping[str, str] | None = None) -> int:
        """Store events durably (one transaction); returns how many were new (ids already queued are skipped).

        ``blobs`` maps an event id to its evidence picture ``(jpeg, anonymised)``, stored in the same
        transaction, so an alert and its picture are queued together or not at all. ``state`` maps
        an analyzer's key to its JSON state after these events (which alerts are open), also in the
        same transaction, so a restarted worker knows exactly the alerts it has sent.
        """
        now = time.time()
        rows = [(str(e.event_id), e.model_dump_json(), now) for e in events]
        if not rows:
            return 0
        pictures = [(str(i), sqlite3.Binary(jpeg), int(anon)) for i, (jpeg, anon) in (blobs or {}).items()]
        states = [(key, text, now) for key, text in (state or {}).items()]
        with self._lock:
            before = self._db.total_changes
            with _transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO outbox (event_id, body, created_at) VALUES (?, ?, ?)", rows)
                added = self._db.total_changes - before
                if pictures:
                    self._db.executemany("INSERT OR IGNORE INTO blobs (event_id, jpeg, anonymised) VALUES (?, ?, ?)", pictures)
                if states:
                    self._db.executemany("INSERT OR REPLACE INTO analyzer_state (key, state, saved_at) VALUES (?, ?, ?)", states)
            return added

    def saved_state(self, key: str) -> str | None:
        """The JSON state last saved for an analyzer with :meth:`append`, or None."""
        with self._lock:
            row = self._db.execute("SELECT state FROM analyzer_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def ack(self, event_ids: Iterable[str]) -> int:
        """Delete exactly these ids (central acknowledged them); returns how many were deleted."""
        ids = [(str(i),) for i in event_ids]
        if not ids:
            return 0
        with self._lock:
            before = self._db.total_changes
            with _transaction(self._db):
                self._db.executemany("DELETE FROM outbox WHERE event_id = ?", ids)
                deleted = self._db.total_changes - before
                self._db.executemany("DELETE FROM blobs WHERE event_id = ?", ids)
            return deleted

    def blobs_for(self, event_ids: Iterable[str]) -> dict[str, tuple[bytes, bool]]:
        """Evidence pictures still waiting for upload, by event id: ``(jpeg, anonymised)``."""
        ids = [str(i) for i in event_ids]
        if not ids:
            return {}
        with self._lock:
            rows = self._db.execute(
                f"SELECT event_id, jpeg, anonymised FROM blobs WHERE event_id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
        return {event_id: (bytes(jpeg), bool(anon)) for event_id, jpeg, anon in rows}

    def attach_snapshot(self, event_id: str, body: str | None) -> None:
        """The picture was uploaded (or given up on): store the event's new body, if any, and drop the
        picture, in one transaction, so a restart neither uploads it twice nor loses the reference."""
        with self._lock, _transaction(self._db):
            if body is not None:
                self._db.execute("UPDATE outbox SET body = ? WHERE event_id = ?", (body, str(event_id)))
            self._db.execute("DELETE FROM blobs WHERE event_id = ?", (str(event_id),))

    def mark_in_flight(self, event_ids: Iterable[str], timeout_s: float) -> None:
        """These ids were sent and accepted by the transport (e.g. a broker's PUBACK), not yet
        stored by central: skip them in :meth:`peek` for ``timeout_s`` seconds, then send again.

        The wait doubles with each send of the same event, up to 16 x ``timeout_s``: while central's
        ingest is down and the broker queues for it, re-sending the whole backlog every
        ``timeout_s`` would multiply that queue.
        """
        now = time.time()
        rows = [(now, float(timeout_s), str(i)) for i in event_ids]
        if not rows:
            return
        with self._lock, _transaction(self._db):
            self._db.executemany(
                "UPDATE outbox SET in_flight_until = ? + ? * (1 << MIN(sends, 4)), sends = sends + 1 WHERE event_id = ?",
                rows)

    def release_in_flight(self) -> int:
        """Make every in-flight event ready to send again (a reconnect: the broker may have lost them)."""
        with self._lock, _transaction(self._db):
            before = self._db.total_changes
            self._db.execute("UPDATE outbox SET in_flight_until = NULL WHERE in_flight_until IS NOT NULL")
            return self._db.total_changes - before

    def record_failure(self, event_ids: Iterable[str], error: str) -> None:
        """Count a failed delivery attempt for these ids and remember why."""
        now = time.time()
        rows = [(error[:1000], now, str(i)) for i in event_ids]
        with self._lock, _transaction(self._db):
            self._db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt_at = ? WHERE event_id = ?", rows
            )

    def dead_letter(self, event_id: str, reason: str, status_code: int | None = None) -> bool:
        """Move one event out of the queue into ``dead_letters`` with the reason (atomically)."""
        with self._lock, _transaction(self._db):
            row = self._db.execute(
                "SELECT body, attempts, created_at FROM outbox WHERE event_id = ?", (str(event_id),)
            ).fetchone()
            if row is None:
                return False
            body, attempts, created_at = row
            self._db.execute(
                "INSERT OR REPLACE INTO dead_letters (event_id, body, reason, status_code, attempts, created_at, failed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (str(event_id), body, reason[:4000], status_code, attempts + 1, created_at, time.time()),
            )
            self._db.execute("DELETE FROM outbox WHERE event_id = ?", (str(event_id),))
            return True

    def requeue_dead_letters(self, event_ids: Sequence[str] | None = None) -> int:
        """Put dead letters back in the queue (after central or the event was fixed); returns how many."""
        with self._lock, _transaction(self._db):
            where, args = ("", ()) if event_ids is None else (
                f"WHERE event_id IN ({','.join('?' * len(event_ids))})", tuple(event_ids))
            rows = self._db.execute(f"SELECT event_id, body, created_at FROM dead_letters {where}", args).fetchall()
            self._db.executemany("INSERT OR IGNORE INTO outbox (event_id, body, created_at) VALUES (?, ?, ?)", rows)
            self._db.execute(f"DELETE FROM dead_letters {where}", args)
            return len(rows)

    # ------------------------------------------------------------------ reading

    def peek(self, limit: int) -> list[OutboxItem]:
        """Up to ``limit`` queued events ready to send, oldest first (they stay queued until acked).

        Events in flight (sent, awaiting central's acknowledgement) are skipped until their deadline.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, body, attempts, last_error FROM outbox "
                "WHERE in_flight_until IS NULL OR in_flight_until <= ? ORDER BY seq LIMIT ?", (time.time(), int(limit)),
            ).fetchall()
        return [OutboxItem(*row) for row in rows]

    def in_flight(self) -> int:
        """Events sent and not yet acknowledged by central whose re-send deadline has not passed."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE in_flight_until > ?",
                                        (time.time(),)).fetchone()[0])

    def depth(self) -> int:
        """Events waiting to be published."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def dead_letter_depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, body, reason, status_code, attempts, failed_at FROM dead_letters ORDER BY failed_at LIMIT ?",
                (int(limit),),
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def oldest_age_s(self) -> float | None:
        """Seconds the oldest queued event has waited (None when empty): a health signal."""
        with self._lock:
            row = self._db.execute("SELECT MIN(created_at) FROM outbox").fetchone()
        return None if row[0] is None else max(0.0, time.time() - float(row[0]))


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK on an autocommit connection (writers take the lock up front)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def decode(item: OutboxItem) -> Event:
    """The queued JSON back as an :class:`Event` (for tools; the publisher sends ``body`` as is)."""
    return Event.model_validate(json.loads(item.body))
