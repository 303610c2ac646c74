"""Pictures for signed-in viewers: ``/ui/evidence/<event id>.jpg`` and ``/ui/live/<store>/<camera>.jpg``.

Faces are blurred unless the viewer's role and the store's privacy profile both allow otherwise
(``services.snapshots.service.viewable``); a viewer who sees faces leaves an audit entry.
Boxes are not burnt in: the page draws them over the picture (SVG), so they stay sharp and are
also listed as text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from services.central import audit
from services.central.api.deps import DatabaseDep, SettingsDep
from services.central.dashboard.access import Reader
from services.central.db.tables import SnapshotRow
from services.central.reads.events import get_event
from services.central.snapshots import parse_ref
from services.central.snapshots.service import blob_store, find, latest_live, viewable
from services.central.stores import get_profile
from services.central.users.roles import may_see_faces
from services.central.users.sessions import Viewer

router = APIRouter(include_in_schema=False)

#: Largest coordinate or frame side taken from stored evidence, in pixels; anything beyond
#: (2**60, 1e308, infinity) is clamped to it, so drawing and blurring never overflow.
MAX_PIXELS = 100_000.0


@dataclass(frozen=True, slots=True)
class DrawnBox:
    """A stored evidence box made safe to draw: finite, clamped coordinates, a short label."""

    xyxy: tuple[float, float, float, float]
    label: str
    score: float | None
    track_id: int | None


def _coordinate(value: Any, missing: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return missing
    if isinstance(value, int):
        return float(max(-MAX_PIXELS, min(MAX_PIXELS, value)))  # clamp first: float(10**400) overflows
    return missing if math.isnan(value) else float(max(-MAX_PIXELS, min(MAX_PIXELS, value)))


def drawn_boxes(evidence: Any) -> list[DrawnBox]:
    """The boxes of a stored ``evidence`` document, whatever odd numbers it holds.

    A coordinate that is missing or NaN widens the box to the frame's edge: these boxes also say
    where to blur, so doubt means more blur, never less.

    >>> [b.xyxy for b in drawn_boxes({"boxes": [{"xyxy": [1, 2, 10**400, float("nan")], "label": "face"}]})]
    [(1.0, 2.0, 100000.0, 100000.0)]
    >>> drawn_boxes({"boxes": [{"xyxy": [0, 0, 1, 1], "score": 1e999, "track_id": 2**70}]})[0]
    DrawnBox(xyxy=(0.0, 0.0, 1.0, 1.0), label='', score=None, track_id=None)
    """
    boxes = evidence.get("boxes") if isinstance(evidence, dict) else None
    out: list[DrawnBox] = []
    for b in boxes if isinstance(boxes, list) else []:
        xyxy = b.get("xyxy") if isinstance(b, dict) else None
        if not isinstance(xyxy, list) or len(xyxy) != 4:
            continue
        x1, y1 = (_coordinate(v, -MAX_PIXELS) for v in xyxy[:2])
        x2, y2 = (_coordinate(v, MAX_PIXELS) for v in xyxy[2:])
        score, track = b.get("score"), b.get("track_id")
        out.append(DrawnBox(
            (x1, y1, x2, y2), str(b.get("label", ""))[:64],
            float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1 else None,
            track if isinstance(track, int) and not isinstance(track, bool) and abs(track) <= 2**53 else None,
        ))
    return out


def frame_size(evidence: Any) -> tuple[int, int] | None:
    """``frame_size`` of stored evidence if it is two whole numbers from 1 to :data:`MAX_PIXELS`."""
    size = evidence.get("frame_size") if isinstance(evidence, dict) else None
    if (isinstance(size, list) and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_PIXELS for v in size)):
        return size[0], size[1]
    return None


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")


def _serve(db: DatabaseDep, settings: SettingsDep, viewer: Viewer, row: SnapshotRow,
           boxes: list[tuple[list[float], str]], event_id: str | None, cache: str) -> Response:
    with db.read_session() as session:
        profile = get_profile(session, row.store_id, settings)
    faces = not row.anonymised and may_see_faces(viewer.role, profile.privacy_profile)
    data = blob_store(settings.data_dir).read(row.sha256)
    if data is None:
        raise _not_found("picture file (purged by retention?)")
    if faces:
        # Seeing faces is a privacy-relevant act: who looked at which picture, for which event.
        with db.unit_of_work() as session:
            audit.append(session, viewer.actor, "snapshot.view_faces", f"snapshot:{row.sha256}",
                         {"user_id": viewer.user_id, "event_id": event_id, "store_id": row.store_id},
                         at=datetime.now(timezone.utc))
    body = viewable(data, row.anonymised, boxes, show_faces=faces)
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


@router.get("/ui/evidence/{event_id}.jpg")
def evidence_picture(event_id: str, viewer: Reader, db: DatabaseDep, settings: SettingsDep) -> Response:
    try:
        uid = UUID(event_id)
    except ValueError:
        raise _not_found(f"event {event_id!r}") from None
    with db.read_session() as session:
        event = get_event(session, uid)
        if event is None or (viewer.store_id is not None and event.store_id != viewer.store_id):
            raise _not_found(f"event {event_id}")
        evidence = event.evidence or {}
        sha = parse_ref(evidence.get("snapshot_ref"))
        row = find(session, sha) if sha else None
        if row is None or row.store_id != event.store_id:
            raise _not_found(f"picture for event {event_id}")
    boxes = [(list(b.xyxy), b.label) for b in drawn_boxes(evidence)]
    return _serve(db, settings, viewer, row, boxes, event_id, "private, max-age=300")


@router.get("/ui/live/{store_id}/{camera_id}.jpg")
def live_picture(store_id: str, camera_id: str, viewer: Reader, db: DatabaseDep, settings: SettingsDep) -> Response:
    if viewer.store_id is not None and viewer.store_id != store_id:
        raise _not_found(f"store {store_id!r}")
    with db.read_session() as session:
        row = latest_live(session, store_id).get(camera_id)
    if row is None:
        raise _not_found(f"live picture of {store_id}/{camera_id}")
    return _serve(db, settings, viewer, row, [], None, "private, no-store")
