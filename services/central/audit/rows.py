"""Digests of the rows an audit entry vouches for, so editing such a row is detected.

The chain proves its own entries were not changed; it says nothing about the rows they describe.
An entry that records a row therefore also records that row's canonical digest
(``details["row_sha256"]`` next to the row's id), and :func:`services.central.audit.verify` reads
the rows back and recomputes it. Today that covers review decisions, the rows that carry a
human's judgement (``review.decision`` entries, key ``decision_id``).

>>> from datetime import datetime, timezone
>>> row = ReviewDecision(id=1, review_item_id=2, round=1, actor="user:7", decision="confirm",
...                      at=datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc), reason=None, note="ok")
>>> d = decision_digest(row)
>>> row.note = "edited"
>>> len(d), d == decision_digest(row)
(64, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.audit.canonical import canonical_json, format_at
from services.central.db.tables import ReviewDecision

#: The details key holding the digest of the row an entry vouches for.
ROW_DIGEST = "row_sha256"


def decision_digest(row: ReviewDecision) -> str:
    """sha256 of a review decision's canonical JSON (every column)."""
    body = {
        "table": "review_decisions", "id": row.id, "review_item_id": row.review_item_id, "round": row.round,
        "actor": row.actor, "at": format_at(row.at), "decision": row.decision, "reason": row.reason, "note": row.note,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class RowKind:
    """Which rows an audit action vouches for: the table, its mapped class, the id key in details."""

    table: str
    model: Any
    id_key: str
    digest: Callable[[Any], str]


#: Audit action → the kind of row its entries vouch for.
DIGESTED: dict[str, RowKind] = {
    "review.decision": RowKind("review_decisions", ReviewDecision, "decision_id", decision_digest),
}


@dataclass(frozen=True, slots=True)
class RowClaim:
    """One entry's claim: row ``row_id`` of ``kind`` had digest ``sha256`` when entry ``seq`` was written."""

    seq: int
    kind: RowKind
    row_id: int
    sha256: str


def claim_of(seq: int, action: str, details: dict[str, Any]) -> RowClaim | None:
    """The row claim an entry makes, or None (an action without rows, or an entry from before digests)."""
    kind = DIGESTED.get(action)
    if kind is None or ROW_DIGEST not in details or not isinstance(details.get(kind.id_key), int):
        return None
    return RowClaim(seq, kind, details[kind.id_key], str(details[ROW_DIGEST]))


#: The audit action of retention (services/central/retention): rows it deleted, with their digests.
PURGE_ACTION = "retention.purge"


def purged_of(seq: int, action: str, details: dict[str, Any]) -> dict[tuple[str, int], tuple[int, str]]:
    """Rows a ``retention.purge`` entry says it deleted: (table, id) → (entry seq, row digest).

    >>> purged_of(9, "retention.purge", {"purged_rows": {"review_decisions": [[4, "ab"]]}})
    {('review_decisions', 4): (9, 'ab')}
    """
    if action != PURGE_ACTION or not isinstance(details.get("purged_rows"), dict):
        return {}
    out: dict[tuple[str, int], tuple[int, str]] = {}
    for table, rows in details["purged_rows"].items():
        for row_id, sha in rows if isinstance(rows, list) else ():
            out[(str(table), int(row_id))] = (seq, str(sha))
    return out


def first_mismatch(
    session: Session, claims: Iterable[RowClaim], batch: int = 500,
    purged: dict[tuple[str, int], tuple[int, str]] | None = None,
) -> tuple[RowClaim, str] | None:
    """The first claim (by entry seq) whose row is gone or differs, with what is wrong; else None.

    A row that is gone is no mismatch when ``purged`` (from :func:`purged_of`) holds it: a later
    retention entry deleted it, with the very digest the claim recorded.
    """
    purged = purged or {}
    pending = sorted(claims, key=lambda c: c.seq)
    for start in range(0, len(pending), batch):
        chunk = pending[start:start + batch]
        by_kind: dict[str, dict[int, Any]] = {}
        for kind in {c.kind.table: c.kind for c in chunk}.values():
            ids = [c.row_id for c in chunk if c.kind.table == kind.table]
            rows = session.scalars(select(kind.model).where(kind.model.id.in_(ids))).all()
            by_kind[kind.table] = {r.id: r for r in rows}
        for c in chunk:
            row = by_kind[c.kind.table].get(c.row_id)
            if row is None:
                by_retention = purged.get((c.kind.table, c.row_id))
                if by_retention is not None and by_retention[0] > c.seq and by_retention[1] == c.sha256:
                    continue
                return c, "deleted"
            if c.kind.digest(row) != c.sha256:
                return c, "edited"
    return None
