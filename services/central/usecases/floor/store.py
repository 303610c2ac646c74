"""Floor plans in the database and the density reports they are read with (the I/O of use case B).

``set_plan`` replaces a store's plan in the caller's transaction and writes an audit entry
(``floor.plan``, with the plan's sha256); ``recent_reports`` reads the ``floor.positions`` events
density is computed from (one indexed query: store, type, time).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.audit.canonical import canonical_json
from services.central.db.tables import EventRow
from services.central.usecases.floor.density import CameraReport
from services.central.usecases.floor.plan import FloorPlan
from services.central.usecases.floor.tables import FloorPlanRow

POSITIONS_TYPE = "floor.positions"
#: Most reports one density read looks at (a minute of 2 s reports from 100 cameras is 3000).
MAX_REPORTS = 5000


def set_plan(session: Session, plan: FloorPlan, actor: str = "cli") -> bool:
    """Store ``plan`` for its store (the caller commits); audited when it changed. True if it changed."""
    document = plan.model_dump(mode="json")
    digest = hashlib.sha256(canonical_json(document)).hexdigest()
    row = session.get(FloorPlanRow, plan.store_id)
    if row is not None and row.sha256 == digest:
        return False
    now = datetime.now(timezone.utc)
    if row is None:
        session.add(FloorPlanRow(store_id=plan.store_id, plan=document, sha256=digest, updated_at=now))
    else:
        row.plan, row.sha256, row.updated_at = document, digest, now
    session.flush()
    audit.append(session, actor, "floor.plan", f"store:{plan.store_id}",
                 {"store_id": plan.store_id, "sha256": digest, "nodes": len(plan.nodes), "edges": len(plan.edges)})
    return True


def get_plan(session: Session, store_id: str) -> FloorPlan | None:
    """The store's floor plan, or None when none was loaded."""
    row = session.get(FloorPlanRow, store_id)
    return None if row is None else FloorPlan.model_validate(row.plan)


def stores_with_plans(session: Session) -> list[str]:
    return list(session.scalars(select(FloorPlanRow.store_id).order_by(FloorPlanRow.store_id)))


def recent_reports(session: Session, store_id: str, plan: FloorPlan, now: datetime | None = None) -> list[CameraReport]:
    """``floor.positions`` reports of the store's newest window (plus the slots it needs), oldest first.

    The window ends at the newest report, not at ``now``: a store whose cameras stopped reporting
    still has a (stale) map, and ``density_map`` says how old it is.
    """
    now = now or datetime.now(timezone.utc)
    newest = session.scalar(
        select(EventRow.occurred_at).where(EventRow.store_id == store_id, EventRow.type == POSITIONS_TYPE,
                                           EventRow.occurred_at <= now)
        .order_by(EventRow.occurred_at.desc()).limit(1))
    if newest is None:
        return []
    since = newest - timedelta(seconds=plan.routing.window_s + 2 * plan.routing.slot_s)
    rows = session.execute(
        select(EventRow.camera_id, EventRow.occurred_at, EventRow.payload)
        .where(EventRow.store_id == store_id, EventRow.type == POSITIONS_TYPE,
               EventRow.occurred_at > since, EventRow.occurred_at <= now)
        .order_by(EventRow.occurred_at.desc()).limit(MAX_REPORTS)).all()
    out = []
    for r in reversed(rows):
        points = tuple((float(x), float(y)) for x, y in (r.payload or {}).get("positions", []))
        out.append(CameraReport(r.camera_id, r.occurred_at, points))
    return out
