"""What the shelf page shows: per shelf camera its open gaps on the latest gap picture, open and
recently done restock tasks with their timings, and the robots' last state (plain data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central.db.tables import EventRow
from services.central.usecases.shelf.controller import OPEN
from services.central.usecases.shelf.tables import RestockTask, Robot


def _open_gaps(session: Session, store_id: str) -> list[EventRow]:
    """The latest shelf event per (camera, segment) when it is a gap, newest first."""
    rows = session.scalars(select(EventRow).where(
        EventRow.store_id == store_id, EventRow.type.in_(("shelf.gap", "shelf.refilled")))
        .order_by(EventRow.occurred_at.desc()).limit(500)).all()
    latest: dict[tuple[str, str], EventRow] = {}
    for row in rows:
        latest.setdefault((row.camera_id, str(row.payload.get("segment"))), row)
    return [r for r in latest.values() if r.type == "shelf.gap"]


def page_data(session: Session, store_id: str, now: datetime) -> dict[str, Any]:
    from services.central.snapshots.service import latest_live

    gaps = _open_gaps(session, store_id)
    live = latest_live(session, store_id)
    cameras: dict[str, dict[str, Any]] = {}
    for row in sorted(gaps, key=lambda r: r.occurred_at, reverse=True):
        cam = cameras.get(row.camera_id)
        if cam is None:
            # The gaps are drawn on the camera's latest frame: its live picture when one came after the
            # newest gap, else that gap's evidence picture (boxes are fractions, so either size fits).
            cam = cameras[row.camera_id] = {"camera": row.camera_id, "picture": None, "size": None, "gaps": []}
            shot = live.get(row.camera_id)
            evidence = row.evidence or {}
            if shot is not None and shot.created_at >= row.received_at:
                cam["picture"], cam["size"] = f"/ui/live/{store_id}/{row.camera_id}.jpg", [shot.width, shot.height]
            elif evidence.get("snapshot_ref") and evidence.get("frame_size"):
                cam["picture"], cam["size"] = f"/ui/evidence/{row.event_id}.jpg", evidence["frame_size"]
        p = row.payload
        cam["gaps"].append({"segment": p["segment"], "sku": p["sku"], "units": p["units_missing"],
                            "share": round(100 * p["gap_fraction"]), "polygon": p.get("polygon") or [],
                            "boxes": p.get("gaps") or [], "at": row.occurred_at})
    tasks = session.scalars(select(RestockTask).where(RestockTask.store_id == store_id)
                            .order_by(RestockTask.created_at.desc()).limit(200)).all()
    open_tasks = sorted((t for t in tasks if t.state in OPEN), key=lambda t: -t.priority)
    done = [t for t in tasks if t.state == "done"][:20]
    robots = session.scalars(select(Robot).where(Robot.store_id == store_id).order_by(Robot.serial)).all()
    return {"cameras": list(cameras.values()), "open_tasks": open_tasks, "done_tasks": done, "robots": robots,
            "now": now}
