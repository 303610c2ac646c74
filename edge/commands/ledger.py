"""The device's ledger of commands it has started, so a redelivered command is never run twice.

One SQLite row per ``command_id``, written (and committed) *before* the handler runs, then
completed with the outcome. A row that was started by an earlier run of the process (another
``boot`` token) and never completed means the device stopped mid-command: it is not run again
(at most once), and is reported ``failed`` as interrupted.

>>> import tempfile, uuid
>>> from datetime import datetime, timezone
>>> at = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> ledger = CommandLedger(tempfile.mkdtemp() + "/ledger.sqlite")
>>> cid = uuid.uuid4()
>>> ledger.begin(cid, "test.echo", at) is None  # new: the caller runs it
True
>>> ledger.finish(cid, "succeeded", "echoed", at)
>>> ledger.begin(cid, "test.echo", at).status  # seen before: the caller must not run it
'succeeded'
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executed (
    command_id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    boot TEXT NOT NULL,
    started_at TEXT NOT NULL,
    status TEXT,
    detail TEXT,
    finished_at TEXT
)
"""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A command the device has seen; ``status`` None while it runs (or if it was interrupted)."""

    command_id: UUID
    action: str
    boot: str
    started_at: datetime
    status: str | None
    detail: str | None


class CommandLedger:
    """Durable set of started commands (one file per device; safe across threads of one process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        #: Identifies this process's run: an unfinished row of another boot was interrupted.
        self.boot = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a started row must survive a power cut
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _entry(self, command_id: UUID) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT command_id, action, boot, started_at, status, detail FROM executed WHERE command_id = ?",
            (str(command_id),),
        ).fetchone()
        if row is None:
            return None
        return LedgerEntry(UUID(row[0]), row[1], row[2], datetime.fromisoformat(row[3]), row[4], row[5])

    def begin(self, command_id: UUID, action: str, at: datetime) -> LedgerEntry | None:
        """Record that ``command_id`` starts now and return None; if it was seen before, return
        that entry instead and record nothing (the caller must not run it)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO executed (command_id, action, boot, started_at) VALUES (?, ?, ?, ?)",
                (str(command_id), action, self.boot, at.isoformat()),
            )
            return None if cursor.rowcount == 1 else self._entry(command_id)

    def finish(self, command_id: UUID, status: str, detail: str | None, at: datetime) -> None:
        """Record the outcome of a started command (first outcome wins)."""
        with self._lock:
            self._db.execute(
                "UPDATE executed SET status = ?, detail = ?, finished_at = ? WHERE command_id = ? AND status IS NULL",
                (status, detail, at.isoformat(), str(command_id)),
            )

    def get(self, command_id: UUID) -> LedgerEntry | None:
        with self._lock:
            return self._entry(command_id)

    def prune(self, before: datetime) -> int:
        """Forget finished commands started before ``before`` (commands expire long before; keep
        a margin of days). Returns how many were removed."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM executed WHERE status IS NOT NULL AND started_at < ?", (before.isoformat(),))
            return cursor.rowcount

    def prune_older_than(self, now: datetime, days: float = 30) -> int:
        return self.prune(now - timedelta(days=days))
