"""Purge what is past its retention (:mod:`.policy`): events with their review items, decisions
and webhook deliveries, evidence and live pictures with their files.

One purge writes ``retention.purge`` audit entries: counts, the purged event ids' digest, and the
id and row digest of every review decision it deleted. The chain holds only digests, so it stays
verifiable; :func:`services.central.audit.verify` accepts a decision row that is gone when a later
``retention.purge`` entry names it with the digest the decision's own entry recorded (anything
else missing is still reported as deleted).

On PostgreSQL with partitioned ``events`` (migration 0006) a month whose every event is past its
retention, and that holds no open review item, goes as a whole: its ``event_ids`` keys are deleted
(cascading to review items, decisions and webhook deliveries) and the partition is dropped. What
is left over (routine events younger than a month, a month that still holds an open alert, the
default partition, SQLite) goes by row, in batches of ``batch`` events per transaction.

A dry run does all of it in one transaction and rolls it back: the report is exact, nothing
changes and no file is deleted (on PostgreSQL it still holds the locks of a partition drop, and
of the audit chain, until the rollback).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.audit.rows import decision_digest
from services.central.db.session import Database
from services.central.db.tables import EventIdRow, EventRow, ReviewDecision, ReviewItem, SnapshotRow, StoreRow
from services.central.retention import partitions
from services.central.retention.policy import OPEN_STATES, RetentionPolicy
from services.central.settings import Settings
from services.central.snapshots.blobs import BlobStore, ref_of

ACTOR = "retention"
ACTION = "retention.purge"


@dataclass(slots=True)
class PurgeReport:
    """What one run purged (or, dry, would purge)."""

    dry_run: bool
    at: str
    events: int = 0
    review_items: int = 0
    review_decisions: int = 0
    evidence_pictures: int = 0
    live_pictures: int = 0
    files: int = 0
    partitions_dropped: list[str] = field(default_factory=list)
    partitions_created: list[str] = field(default_factory=list)
    audit_entries: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "events": self.events, "review_items": self.review_items, "review_decisions": self.review_decisions,
            "evidence_pictures": self.evidence_pictures, "live_pictures": self.live_pictures, "files": self.files,
            "partitions": len(self.partitions_dropped),
        }


def run(db: Database, blobs: BlobStore, settings: Settings, now: datetime | None = None,
        dry_run: bool = False, batch: int = 5000) -> PurgeReport:
    """One retention run: partitions ahead, whole old partitions, rows, pictures, then files."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    policy = RetentionPolicy.from_settings(settings)
    report = PurgeReport(dry_run=dry_run, at=now.isoformat())
    gone_pictures: set[str] = set()
    if dry_run:
        session = db.write_session()
        try:
            _partitions(session, policy, settings, now, report)
            while _events_batch(session, policy, now, None, report):
                pass
            gone_pictures |= _pictures(session, policy, settings, now, report)
        finally:
            session.rollback()
            session.close()
        return report
    with db.unit_of_work() as session:
        _partitions(session, policy, settings, now, report)
    more = True
    while more:
        with db.unit_of_work() as session:
            more = _events_batch(session, policy, now, batch, report)
    with db.unit_of_work() as session:
        gone_pictures |= _pictures(session, policy, settings, now, report)
    report.files = _delete_unreferenced_files(db, blobs, gone_pictures)
    return report


def _partitions(session: Session, policy: RetentionPolicy, settings: Settings, now: datetime,
                report: PurgeReport) -> None:
    report.partitions_created += [m.name for m in partitions.ensure_ahead(session, now, settings.retention_partitions_ahead)]
    cutoff = policy.all_events_cutoff(now)
    for month in partitions.month_partitions(session):
        if month.end > cutoff:
            break
        in_month = and_(EventIdRow.occurred_at >= month.start, EventIdRow.occurred_at < month.end)
        open_items = session.scalar(
            select(func.count()).select_from(ReviewItem).join(EventIdRow, EventIdRow.event_id == ReviewItem.event_id)
            .where(in_month, ReviewItem.state.in_(OPEN_STATES))
        )
        if open_items:
            continue  # kept whole for now; the row purge takes the rest of it
        ids = list(session.scalars(select(EventIdRow.event_id).where(in_month)))
        # Rows of the partition without a key (none, unless written around ingest) go with it.
        count = session.scalar(
            select(func.count()).select_from(EventRow.__table__).where(
                EventRow.occurred_at >= month.start, EventRow.occurred_at < month.end)
        ) or 0
        _purge_keys(session, ids, count, report, partition=month.name)
        partitions.drop(session, month)
        report.partitions_dropped.append(month.name)


def _expired_events(policy: RetentionPolicy, now: datetime) -> Any:
    open_item = exists().where(ReviewItem.event_id == EventRow.event_id, ReviewItem.state.in_(OPEN_STATES))
    return or_(
        and_(EventRow.review_required.is_(False), EventRow.occurred_at < policy.routine_cutoff(now)),
        and_(EventRow.review_required.is_(True), EventRow.occurred_at < policy.alert_cutoff(now), ~open_item),
    )


def _events_batch(session: Session, policy: RetentionPolicy, now: datetime, limit: int | None,
                  report: PurgeReport) -> bool:
    """Purge up to ``limit`` expired events by row; True if there may be more."""
    query = select(EventRow.event_id).where(_expired_events(policy, now)).order_by(EventRow.occurred_at)
    ids = list(session.scalars(query.limit(limit) if limit else query))
    if not ids:
        return False
    for chunk in _chunks(ids, 1000):
        session.execute(delete(EventRow).where(EventRow.event_id.in_(chunk)))
    _purge_keys(session, ids, len(ids), report)
    return limit is not None and len(ids) == limit


def _purge_keys(session: Session, ids: Sequence[uuid.UUID], events: int, report: PurgeReport,
                partition: str | None = None) -> None:
    """Delete the keys of purged events (cascading to review items, decisions, webhook deliveries)
    and write the audit entry that vouches for the decisions going with them."""
    decisions: list[tuple[int, str]] = []
    items = 0
    for chunk in _chunks(ids, 1000):
        # By id, not through ReviewItem.event: the event row may already be gone (row purge).
        item_ids = list(session.scalars(select(ReviewItem.id).where(ReviewItem.event_id.in_(chunk))))
        items += len(item_ids)
        found = session.scalars(select(ReviewDecision).where(ReviewDecision.review_item_id.in_(item_ids))).all()
        decisions += [(d.id, decision_digest(d)) for d in found]
    for chunk in _chunks(ids, 1000):
        session.execute(delete(EventIdRow).where(EventIdRow.event_id.in_(chunk)))
    session.expire_all()  # the cascade happened in the database, not in this session
    details: dict[str, Any] = {
        "events": events,
        "event_ids_sha256": ids_digest(ids),
        "review_items": items,
        "purged_rows": {"review_decisions": sorted([i, d] for i, d in decisions)},
    }
    if partition is not None:
        details["partition"] = partition
    audit.append(session, ACTOR, ACTION, "events", details)
    report.events += events
    report.review_items += items
    report.review_decisions += len(decisions)
    report.audit_entries += 1


def _pictures(session: Session, policy: RetentionPolicy, settings: Settings, now: datetime,
              report: PurgeReport) -> set[str]:
    """Delete expired snapshot rows; return their digests (files go once no row refers to them)."""
    minimal = [s for s, p in session.execute(select(StoreRow.store_id, StoreRow.privacy_profile)) if p == "minimal"]
    no_pictures = SnapshotRow.store_id.in_(minimal)
    if not policy.keeps_pictures(settings.default_privacy_profile):
        no_pictures = or_(no_pictures, ~SnapshotRow.store_id.in_(select(StoreRow.store_id)))
    live = session.scalars(select(SnapshotRow).where(
        SnapshotRow.kind == "live", or_(no_pictures, SnapshotRow.created_at < policy.live_cutoff(now)))).all()
    evidence = session.scalars(select(SnapshotRow).where(
        SnapshotRow.kind == "evidence", or_(no_pictures, SnapshotRow.created_at < policy.evidence_cutoff(now)))).all()
    still_referenced = _referenced(session, [r.sha256 for r in evidence])
    removable = [r for r in evidence if r.sha256 not in still_referenced or r.store_id in minimal]
    for row in (*live, *removable):
        session.delete(row)
    gone = {r.sha256 for r in (*live, *removable)}
    if gone:
        session.flush()
        audit.append(session, ACTOR, ACTION, "snapshots", {
            "live": len(live), "evidence": len(removable), "sha256": sorted(gone),
        })
        report.audit_entries += 1
    report.live_pictures += len(live)
    report.evidence_pictures += len(removable)
    return gone


def _referenced(session: Session, digests: Sequence[str]) -> set[str]:
    """Which of these evidence digests a stored event still refers to (an alert kept open, say)."""
    if not digests:
        return set()
    refs = {ref_of(d): d for d in digests}
    found: set[str] = set()
    for chunk in _chunks(list(refs), 500):
        column = EventRow.evidence["snapshot_ref"].as_string()
        found |= {refs[r] for r in session.scalars(select(column).where(column.in_(chunk)).distinct())}
    return found


def _delete_unreferenced_files(db: Database, blobs: BlobStore, digests: set[str]) -> int:
    """After the commit: delete each file no snapshot row refers to any more (the same bytes may
    also be another kind's picture). A crash before this leaves a stray file, never a dangling row."""
    if not digests:
        return 0
    with db.unit_of_work() as session:
        kept = set(session.scalars(select(SnapshotRow.sha256).where(SnapshotRow.sha256.in_(sorted(digests)))))
    deleted = 0
    for sha in sorted(digests - kept):
        if blobs.path(sha).exists():
            blobs.delete(sha)
            deleted += 1
    return deleted


def ids_digest(ids: Sequence[uuid.UUID]) -> str:
    """sha256 over the sorted ids, one per line: names exactly which events went without listing them.

    >>> ids_digest([uuid.UUID(int=2), uuid.UUID(int=1)]) == ids_digest([uuid.UUID(int=1), uuid.UUID(int=2)])
    True
    """
    return hashlib.sha256("\n".join(sorted(str(i) for i in ids)).encode()).hexdigest()


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
