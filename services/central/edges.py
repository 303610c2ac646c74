"""Latest edge status per (store, camera): upsert a report, list them.

Reports arrive every few seconds, so they are not audited one by one: the chain records an edge
when it first reports and whenever its :func:`status_class` changes (``edge.status``).

>>> status_class(0, 0, 2.0), status_class(40, 0, 900.0), status_class(0, 3, None)
('ok', 'backlog', 'dead_letters')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import EdgeStatusRow
from services.contract import EdgeStatus

#: Seconds the oldest queued event may wait before an edge counts as backlogged.
BACKLOG_AGE_S = 300.0


def status_class(outbox_depth: int, dead_letters: int, oldest_age_s: float | None) -> str:
    """The coarse state the audit chain follows: ``ok``, ``backlog`` or ``dead_letters``."""
    if dead_letters > 0:
        return "dead_letters"
    if (oldest_age_s or 0.0) >= BACKLOG_AGE_S:
        return "backlog"
    return "ok"


def upsert(session: Session, reports: Sequence[EdgeStatus], received_at: datetime, actor: str = "mqtt") -> None:
    """Keep the newest report per edge (an older report arriving late never overwrites a newer one);
    audit an edge's first report and each change of its :func:`status_class` (the caller commits).
    ``actor`` is who delivered the reports (the API key's name; ``mqtt`` for the broker path)."""
    latest: dict[tuple[str, str], EdgeStatus] = {}
    for r in reports:
        key = (r.store_id, r.camera_id)
        if key not in latest or r.at >= latest[key].at:
            latest[key] = r
    if not latest:
        return
    known = {
        (row.store_id, row.camera_id): row
        for row in session.scalars(select(EdgeStatusRow).where(
            tuple_(EdgeStatusRow.store_id, EdgeStatusRow.camera_id).in_(list(latest))))
    }
    changes: list[tuple[EdgeStatus, str, str | None]] = []
    for key, r in sorted(latest.items()):
        now_class, before = status_class(r.outbox_depth, r.dead_letters, r.oldest_age_s), known.get(key)
        if before is None:
            changes.append((r, now_class, None))
        elif r.at >= before.reported_at:
            was = status_class(before.outbox_depth, before.dead_letters, before.oldest_age_s)
            if was != now_class:
                changes.append((r, now_class, was))
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for r in sorted(latest.values(), key=lambda r: (r.store_id, r.camera_id)):
        values = {
            "store_id": r.store_id, "camera_id": r.camera_id, "outbox_depth": r.outbox_depth,
            "dead_letters": r.dead_letters, "oldest_age_s": r.oldest_age_s, "inference_ms": r.inference_ms,
            "reported_at": r.at, "received_at": received_at,
        }
        stmt = make(EdgeStatusRow).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["store_id", "camera_id"],
            set_={k: stmt.excluded[k] for k in values if k not in ("store_id", "camera_id")},
            where=EdgeStatusRow.reported_at <= stmt.excluded.reported_at,
        )
        session.execute(stmt)
    for r, now_class, was in changes:
        audit.append(session, actor, "edge.status", f"edge:{r.store_id}/{r.camera_id}", {
            "store_id": r.store_id, "camera_id": r.camera_id, "status": now_class, "previous": was,
            "outbox_depth": r.outbox_depth, "dead_letters": r.dead_letters, "reported_at": r.at.isoformat(),
        })


def list_status(session: Session, store_id: str | None = None) -> list[EdgeStatusRow]:
    q = select(EdgeStatusRow).order_by(EdgeStatusRow.store_id, EdgeStatusRow.camera_id)
    if store_id is not None:
        q = q.where(EdgeStatusRow.store_id == store_id)
    return list(session.scalars(q))
