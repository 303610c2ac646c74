"""Pictures for signed-in viewers: ``/ui/evidence/<event id>.jpg`` and ``/ui/live/<store>/<camera>.jpg``.

Faces are blurred unless the viewer's role and the store's privacy profile both allow otherwise
(``services.snapshots.service.viewable``); a viewer who sees faces leaves an audit entry.
Boxes are not burnt in: the page draws them over the picture (SVG), so they stay sharp and are
also listed as text.
"""

from __future__ import annotations

from datetime import datetime, timezone
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
    boxes = [(b["xyxy"], b.get("label", "")) for b in evidence.get("boxes", []) if len(b.get("xyxy", [])) == 4]
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
