"""The audit chain: each entry stores the previous entry's hash and its own.

``hash = sha256(canonical_json({seq, at, actor, action, subject, details, prev_hash}))`` where
canonical JSON has sorted keys, no spaces and UTF-8, and ``at`` is ISO 8601 UTC with
microseconds. Entry 1 links to :data:`GENESIS_HASH`. Details hold ids and digests only, never
personal data, so erasing personal data elsewhere never breaks the chain.

Appends serialize: on PostgreSQL through a transaction-scoped advisory lock, on SQLite through
the database write lock (write units begin IMMEDIATE). ``seq`` is the primary key, so even a
writer that skipped the lock could not fork the chain, only fail.

The chain detects edits, deletions inside the chain and reordering. Removing entries from the
*end* leaves a shorter valid chain; to detect that, record ``head_seq``/``head_hash`` from
:func:`verify` somewhere else (a ticket, a report) and compare later.

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
>>> h = entry_hash(1, at, "cli", "key.create", "api_key:1", {"scopes": ["admin"]}, GENESIS_HASH)
>>> len(h), h == entry_hash(1, at, "cli", "key.create", "api_key:1", {"scopes": ["admin"]}, GENESIS_HASH)
(64, True)
>>> h == entry_hash(1, at, "cli", "key.create", "api_key:1", {"scopes": ["events:read"]}, GENESIS_HASH)
False
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.central.audit.canonical import canonical_json, format_at
from services.central.audit.rows import RowClaim, claim_of, first_mismatch, purged_of
from services.central.db.tables import AuditEntry

GENESIS_HASH = "0" * 64
#: Arbitrary constant naming the PostgreSQL advisory lock that serializes appends.
AUDIT_LOCK_KEY = 7_146_020_002


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any], prev_hash: str
) -> str:
    """Hex sha256 of one entry's canonical JSON (see the module docstring)."""
    body = {
        "seq": seq,
        "at": format_at(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def lock(session: Session) -> None:
    """Take the append lock for the rest of this transaction (no-op on SQLite, see module doc)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})


def append(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> AuditEntry:
    """Add the next entry to the chain inside the caller's transaction (the caller commits).

    Call it last in a unit of work: the PostgreSQL lock is held until commit.
    """
    lock(session)
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    # Round-trip the details through JSON now, so what we hash is exactly what the row reads back.
    details = json.loads(canonical_json(details))
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=prev_hash,
        hash=entry_hash(seq, at, actor, action, subject, details, prev_hash),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify`; ``first_bad_seq``/``reason`` are None when ``ok``."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    bad_row: str | None = None  # "review_decisions:42" when a row an entry vouches for changed


def verify(session: Session, batch: int = 1000) -> VerifyResult:
    """Walk the chain from seq 1 and report the first entry that breaks it; then check the rows
    the entries vouch for (:mod:`.rows`).

    Reasons: ``missing`` (a seq gap: an entry was deleted), ``prev_hash mismatch`` (deleted or
    reordered before this entry, or an edit whose hash was recomputed), ``hash mismatch`` (this
    entry was edited), ``row mismatch`` (the entry is intact but a row it vouches for, named in
    ``bad_row``, was edited or deleted). A row deleted by retention is not a mismatch when a later
    ``retention.purge`` entry lists it with the digest its entry recorded (:func:`.rows.purged_of`).
    """
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    claims: list[RowClaim] = []
    purged: dict[tuple[str, int], tuple[int, str]] = {}
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)).scalars()
    for row in rows:
        if row.seq != expected_seq:
            return VerifyResult(
                False, checked, expected_seq,
                f"missing: entry {expected_seq} is absent (next present entry is {row.seq}); "
                "entries were deleted or renumbered",
            )
        if row.prev_hash != prev_hash:
            return VerifyResult(
                False, checked, row.seq,
                f"prev_hash mismatch: entry {row.seq} does not link to entry {row.seq - 1} "
                "(history before it was deleted, reordered or rewritten)",
            )
        if entry_hash(row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash) != row.hash:
            return VerifyResult(
                False, checked, row.seq, f"hash mismatch: entry {row.seq} was edited after it was written"
            )
        if (claim := claim_of(row.seq, row.action, row.details)) is not None:
            claims.append(claim)
        purged.update(purged_of(row.seq, row.action, row.details))
        checked += 1
        expected_seq, prev_hash = row.seq + 1, row.hash
    head = expected_seq - 1
    if (bad := first_mismatch(session, claims, purged=purged)) is not None:
        claim, what = bad
        name = f"{claim.kind.table}:{claim.row_id}"
        return VerifyResult(
            False, checked, claim.seq,
            f"row mismatch: {claim.kind.table} row {claim.row_id} was {what} after entry {claim.seq} recorded it",
            bad_row=name,
        )
    return VerifyResult(True, checked, head_seq=head or None, head_hash=prev_hash if head else None)
