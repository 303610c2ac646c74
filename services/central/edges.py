"""Latest edge status per (store, camera): upsert a report, list them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.central.db.tables import EdgeStatusRow
from services.contract import EdgeStatus


def upsert(session: Session, reports: Sequence[EdgeStatus], received_at: datetime) -> None:
    """Keep the newest report per edge (an older report arriving late never overwrites a newer one)."""
    latest: dict[tuple[str, str], EdgeStatus] = {}
    for r in reports:
        key = (r.store_id, r.camera_id)
        if key not in latest or r.at >= latest[key].at:
            latest[key] = r
    if not latest:
        return
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


def list_status(session: Session, store_id: str | None = None) -> list[EdgeStatusRow]:
    q = select(EdgeStatusRow).order_by(EdgeStatusRow.store_id, EdgeStatusRow.camera_id)
    if store_id is not None:
        q = q.where(EdgeStatusRow.store_id == store_id)
    return list(session.scalars(q))
